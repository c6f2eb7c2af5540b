import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { fingerprint } from '../../../shared/index.ts';
import { shoot } from './browser.ts';
import { startStack, type ConsoleStack } from './stack.ts';

const HOSTILE = '<img src=x onerror=alert(1)>';

describe('web console in a real browser (Debian chromium via playwright-core)', function () {
  // A browser start and page loads on a loaded 2-core machine; each step still waits on a condition.
  this.timeout(120_000);
  let stack: ConsoleStack;
  const check: ConsoleStack['check'] = (...args) => stack.check(...args);
  const open = (): Promise<Page> => stack.open();
  const login = (page: Page): Promise<void> => stack.login(page);
  const alertRow = (page: Page, fp: string) => page.locator(`.main li.alert[data-fingerprint="${fp}"]`);
  const out = (): string => stack.browser.outDir;

  before(async () => {
    stack = await startStack();
    for (const host of ['web1', 'web2', 'db1']) stack.heartbeat(host);
  });
  after(async () => {
    await stack?.stop();
  });

  it('an alert fires live while the page is open; the filter and grouping find it', async () => {
    const page = await open();
    const sent = Date.now();
    const fp = await check('web1', 'nginx', 'critical', 'connection refused on port 80');
    await alertRow(page, fp).waitFor();
    process.stdout.write(`      (alert on the page ${Date.now() - sent} ms after the event was published)\n`);
    const other = await check('db1', 'mysql', 'warning', 'slow answer: 2.3 s');
    await alertRow(page, other).waitFor();
    await assert.doesNotReject(alertRow(page, fp).locator('.check', { hasText: 'nginx' }).waitFor());

    await page.locator('input[name=filter]').fill('host=~"web.*" severity="critical"');
    await alertRow(page, other).waitFor({ state: 'detached' });
    assert.equal(await alertRow(page, fp).count(), 1);
    await page.locator('input[name=filter]').fill('host=~"(web');
    await page.locator('p.error').waitFor();
    await page.locator('input[name=filter]').fill('');
    await alertRow(page, other).waitFor();
    await page.getByRole('button', { name: 'rule', exact: true }).click();
    await page.locator('.group h3', { hasText: 'rule: services' }).waitFor();
    await page.getByRole('button', { name: 'host', exact: true }).click();
    await page.locator('.group h3', { hasText: 'host: db1' }).waitFor();
    await shoot(page, out(), '1-alerts-live');
    await page.close();
  });

  it('an alert whose text is HTML shows it as text; nothing runs', async () => {
    const page = await open();
    const fp = await check('web2', 'shop', 'critical', HOSTILE);
    const row = alertRow(page, fp);
    await row.waitFor();
    assert.ok((await row.locator('.text').textContent())!.includes(HOSTILE));
    assert.equal(await page.locator('.main img').count(), 0, 'no element was made from the alert text');
    await row.locator('button.row').click();
    await row.locator('.detail').waitFor();
    assert.equal(await page.locator('img').count(), 0);
    await shoot(page, out(), '2-hostile-text');
    await page.close();
  });

  it('log in, acknowledge with a comment, silence from the alert and expire the silence', async () => {
    const page = await open();
    const fp = await check('web1', 'ssh', 'critical', 'no banner');
    const row = alertRow(page, fp);
    await row.locator('button.row').click();
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await page.getByText('Log in to do that.').waitFor();
    await login(page);
    await row.locator('input[name=comment]').fill('rebooting it');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await row.locator('.state.acknowledged').waitFor();
    await row.getByText('by alice').waitFor();
    await row.getByText('rebooting it').first().waitFor();

    assert.match(await row.locator('input[name=matchers]').inputValue(), /^host="web1" rule="services" check="ssh"$/);
    await row.locator('input[name=reason]').fill('planned maintenance');
    await row.getByRole('button', { name: 'Silence' }).click();
    await row.locator('.state.silenced').waitFor();
    await shoot(page, out(), '3-acknowledged-silenced');
    await page.locator('nav a[href="#silences"]').click();
    const silence = page.locator('li.silence.active', { hasText: 'planned maintenance' });
    await silence.waitFor();
    await silence.getByRole('button', { name: 'Expire' }).click();
    await page.locator('li.silence.expired', { hasText: 'planned maintenance' }).waitFor();
    await shoot(page, out(), '4-silences');
    await page.locator('nav a[href="#alerts"]').click();
    await alertRow(page, fp).locator('.state.acknowledged').waitFor();
    await page.close();
  });

  it('an action without login, or with a bad CSRF token, is refused', async () => {
    const page = await open();
    const fp = fingerprint('web1', 'services', { check: 'nginx' });
    const post = (token: string | null) =>
      page.evaluate(
        async ({ fp, token }) => {
          const res = await fetch('/console/api/ack', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', ...(token ? { 'X-CSRF-Token': token } : {}) },
            body: JSON.stringify({ fingerprint: fp, comment: 'forged' }),
          });
          return res.status;
        },
        { fp, token },
      );
    assert.equal(await post(null), 401);
    await login(page);
    assert.equal(await post('not-the-token'), 403);
    assert.equal(await post(null), 403);
    await alertRow(page, fp).locator('.state.firing').waitFor();
    await shoot(page, out(), '5-refused');
    await page.close();
  });
});
