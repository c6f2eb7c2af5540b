import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserServer, chromium, type Page } from 'playwright-core';
import { killAndWait, trackChild } from '../../../deploy/lib/processes.ts';

/** Debian's chromium (deploy/bootstrap.sh installs it for the tests); playwright-core never downloads a browser. */
export const CHROMIUM = process.env.OFFHOOK_CHROMIUM ?? '/usr/bin/chromium';

export interface TestBrowser {
  browser: Browser;
  /** Screenshots of this run: a temp dir, printed once. */
  outDir: string;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const server: BrowserServer = await chromium.launchServer({
    executablePath: CHROMIUM,
    // Root in a container has no user namespace for chromium's sandbox; the pages are our own, on loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const child = server.process();
  trackChild(child);
  const browser = await chromium.connect(server.wsEndpoint());
  const outDir = mkdtempSync(join(tmpdir(), 'offhook-console-browser-'));
  process.stdout.write(`      screenshots: ${outDir}\n`);
  return {
    browser,
    outDir,
    async close() {
      await browser.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      // server.close() ends chromium; killAndWait makes sure of it by PID.
      await killAndWait(child, 'SIGKILL');
    },
  };
}

/** Saves the page at 1280 px and at 390 px (a phone), then restores the desktop width. */
export async function shoot(page: Page, outDir: string, name: string): Promise<string[]> {
  const files: string[] = [];
  for (const [width, height] of [
    [390, 844],
    [1280, 900],
  ] as const) {
    await page.setViewportSize({ width, height });
    const file = join(outDir, `${name}-${width}.png`);
    await page.screenshot({ path: file, fullPage: true });
    files.push(file);
  }
  return files;
}
