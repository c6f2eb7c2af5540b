import assert from 'node:assert/strict';
import { startTestGateway, type TestGateway } from '../../telephony-gateway/harness.ts';
import { voiceNoteCall } from '../../telephony-gateway/helpers.ts';
import { shoot } from './browser.ts';
import { startStack, type ConsoleStack } from './stack.ts';

/**
 * The phone panel against a real gateway on the simulated line: alice's number is busy, bob's rings (30 min of line
 * time, 18 s at the harness' speed) until the page acknowledges the alert and the gateway hangs up.
 */
describe('web console phone panel with a real gateway (chromium via playwright-core)', function () {
  // Chromium, the collector, the gateway and its speech cache start here; the call steps wait on conditions.
  this.timeout(120_000);
  let stack: ConsoleStack;
  let gw: TestGateway;

  before(async () => {
    stack = await startStack();
    gw = await startTestGateway(
      stack.server,
      {
        line: { backend: 'sim', answer_timeout: '30m' },
        escalation: { min_severity: 'critical', attempts_per_person: 1, retry_delay: '1h', round_delay: '1h' },
        inbound: { voice_notes: true },
      },
      'offhook',
    );
  });
  after(async () => {
    await gw?.stop();
    await stack?.stop();
  });

  it('shows the line, escalation steps and budget; acknowledging on the page cancels the ringing call', async () => {
    const page = await stack.open();
    gw.line.script({ number: '100', busy: true });
    const fp = await stack.check('web1', 'payments', 'critical', 'HTTP 503 from /pay');
    const entry = page.locator(`.main .queue li[data-fingerprint="${fp}"], .side .queue li[data-fingerprint="${fp}"]`);
    await page.locator('.side [data-line-state="ringing"]').waitFor();
    await entry.first().getByText('alice: busy').waitFor();
    await page.locator('.side .gateway', { hasText: 'to 200' }).waitFor();
    await page.locator('.side .budget li', { hasText: 'calls per hour' }).waitFor();
    await page.locator('nav a[href="#phone"]').click();
    await page.locator('.main [data-line-state="ringing"]').waitFor();
    await shoot(page, stack.browser.outDir, '6-phone-ringing');

    await page.locator('nav a[href="#alerts"]').click();
    await stack.login(page);
    const row = page.locator(`.main li.alert[data-fingerprint="${fp}"]`);
    await row.locator('button.row').click();
    await row.locator('input[name=comment]').fill('taking it from the console');
    await row.getByRole('button', { name: 'Acknowledge' }).click();
    await gw.waitFor('the cancelled call', () => gw.calls.some((c) => c.outcome === 'cancelled'));
    const cancelled = gw.calls.find((c) => c.outcome === 'cancelled')!;
    assert.equal(cancelled.number, '200');
    await gw.waitFor('the escalation to end', () => gw.finished.some((f) => f.fingerprint === fp));
    await page.locator('.side tr[data-outcome="cancelled"]').waitFor();
    await page.locator('.side [data-line-state="idle"]').waitFor();
    await row.locator('.state.acknowledged').waitFor();
    await shoot(page, stack.browser.outDir, '7-phone-cancelled');
    await page.close();
  });

  it('a caller leaves a voice note; it plays in the page, and the call shows what was said', async () => {
    const page = await stack.open();
    const fp = await stack.check('db1', 'replication', 'warning', 'replica 40 s behind');
    await gw.waitFor('the alert to reach the gateway', () => gw.handled.includes(fp));
    gw.line.ring(voiceNoteCall());
    await gw.waitFor('the ack with a voice note', () => gw.acks.some((a) => a.voiceNote));
    await page.locator('nav a[href="#phone"]').click();
    const note = page.locator('.main .voice-notes li').first();
    await note.waitFor();
    assert.match((await note.textContent())!, /bob, .*db1: replication: replica 40 s behind/);
    const played = await note.locator('audio').evaluate(async (audio: HTMLAudioElement) => {
      audio.muted = true;
      audio.preload = 'auto';
      await new Promise<void>((resolve, reject) => {
        audio.addEventListener('loadedmetadata', () => resolve(), { once: true });
        audio.addEventListener('error', () => reject(new Error(`audio error ${audio.error?.code}`)), { once: true });
        audio.load();
      });
      await audio.play();
      await new Promise<void>((resolve) => audio.addEventListener('timeupdate', () => resolve(), { once: true }));
      return { duration: audio.duration, time: audio.currentTime };
    });
    assert.ok(played.duration > 0, `the voice note has a length (${played.duration} s)`);
    const inbound = page.locator('.main tr[data-outcome="acknowledged"]', { hasText: 'from' }).first();
    await inbound.locator('details.spoken summary').click();
    await inbound.locator('details.spoken li', { hasText: 'replica 40 s behind' }).first().waitFor();
    await shoot(page, stack.browser.outDir, '8-voice-note');
    await page.close();
  });
});
