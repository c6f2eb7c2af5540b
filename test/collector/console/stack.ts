import type { NatsConnection } from '@nats-io/transport-node';
import type { Page } from 'playwright-core';
import { CollectorConfig } from '../../../collector/config.ts';
import { hashPassword } from '../../../collector/console/password.ts';
import { startCollector, type RunningCollector } from '../../../collector/service.ts';
import {
  createRegistry,
  encodeMessage,
  fingerprint,
  jetstreamClient,
  ManualClock,
  publishDurable,
  silentLogger,
  Subjects,
  type CheckStatus,
} from '../../../shared/index.ts';
import { connectTo, startNatsServer, type EmbeddedNatsServer } from '../../helpers/nats-server.ts';
import { EventScript } from '../alerts/engine-harness.ts';
import { RecordingSink } from '../nats-harness.ts';
import { launchBrowser, type TestBrowser } from './browser.ts';

export const subjects = new Subjects();

/** nats-server, a collector with the console (user alice) and a check rule, and chromium. */
export interface ConsoleStack {
  server: EmbeddedNatsServer;
  nc: NatsConnection;
  collector: RunningCollector;
  browser: TestBrowser;
  /** Publishes a check result; returns the fingerprint of the `services` alert it raises or resolves. */
  check(host: string, name: string, status: CheckStatus, message: string): Promise<string>;
  heartbeat(host: string): void;
  open(): Promise<Page>;
  login(page: Page, user?: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startStack(): Promise<ConsoleStack> {
  const server = await startNatsServer();
  const nc = await connectTo(server);
  const config = CollectorConfig.parse({
    nats: { servers: [server.url] },
    listen: '127.0.0.1:0',
    rules: [
      { name: 'services', kind: 'check', max_attempts: 1, summary: '{host}: {labels.check}: {message}' },
      { name: 'host_down', kind: 'host_down' },
    ],
    console: { users: [{ name: 'alice', password_hash: await hashPassword('alice-secret') }] },
  });
  const collector = await startCollector(config, {
    logger: silentLogger(),
    registry: createRegistry('collector'),
    sink: new RecordingSink(),
  });
  const browser = await launchBrowser();
  const script = new EventScript(new ManualClock(Date.now()));
  return {
    server,
    nc,
    collector,
    browser,
    async check(host, name, status, message) {
      await publishDurable(
        jetstreamClient(nc),
        subjects.event(host, 'check'),
        script.check(host, name, status, message),
      );
      return fingerprint(host, 'services', { check: name });
    },
    heartbeat(host) {
      nc.publish(subjects.heartbeat(host), encodeMessage(script.heartbeat(host)));
    },
    async open() {
      const page = await browser.browser.newPage({ viewport: { width: 1280, height: 900 } });
      page.on('dialog', (dialog) => {
        throw new Error(`a dialog opened: ${dialog.message()}`);
      });
      await page.goto(`${collector.url}/console/`);
      await page.locator('.live').waitFor();
      return page;
    },
    async login(page, user = 'alice') {
      await page.getByRole('button', { name: 'Log in' }).first().click();
      await page.locator('input[name=user]').fill(user);
      await page.locator('input[name=password]').fill(`${user}-secret`);
      await page.locator('form.login button[type=submit]').click();
      await page.getByText(`logged in as ${user}`).waitFor();
    },
    async stop() {
      await browser.close();
      await collector.stop();
      await nc.drain();
      await server.dispose();
    },
  };
}
