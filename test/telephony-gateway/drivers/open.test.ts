import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSimLine } from '../../../native/index.ts';
import { silentLogger } from '../../../shared/index.ts';
import { DRIVER_NAMES, openDriver } from '../../../telephony-gateway/drivers/open.ts';
import { LINE_DRIVERS } from '../../../telephony-gateway/drivers/registry.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { gatewayConfig } from '../helpers.ts';

const timeouts = { dialToneTimeoutMs: 5_000, answerTimeoutMs: 20_000 };

describe('gateway line drivers: openDriver is the one place a driver is chosen', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-open-driver-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('the config accepts exactly the registered driver names, and names the field for any other', () => {
    assert.deepEqual(DRIVER_NAMES, ['card', 'sip']);
    assert.equal(gatewayConfig({ line: { driver: 'card' } }).line.driver, 'card');
    assert.throws(
      () => gatewayConfig({ line: { driver: 'acme' as 'card' } }),
      (err: Error) => err.message.includes('driver') && err.message.includes('"sip"'),
    );
  });

  it("the config wants the chosen driver's required section, naming it", () => {
    assert.throws(
      () => gatewayConfig({ line: { driver: 'sip' } }),
      (err: Error) => err.message.includes('expected a sip: section when driver is'),
    );
    // Every driver's settings share line:, each under a name no other driver uses (driverSettings() checks at load).
    const keys = LINE_DRIVERS.flatMap((entry) => Object.keys(entry.settings));
    assert.deepEqual(keys, [...new Set(keys)]);
  });

  it('card: drives a line the caller opened, with the config dial prefix', async () => {
    const line = await openSimLine({ speed: 100 });
    try {
      const config = gatewayConfig({ line: { backend: 'sim', dial_prefix: '9' } });
      line.script({ number: '9100', answerAfterRings: 1 });
      const driver = await openDriver(config.line, { stateDir: dir, logger: silentLogger(), line });
      assert.equal(driver.name, 'card/sim');
      const placed = await driver.placeCall('100', timeouts);
      assert.equal(placed.outcome, 'answered');
      await driver.hangUp();
      assert.ok(line.transcript().some((e) => e.event === 'dial' && e.number === '9100'));
    } finally {
      await line.close();
    }
  });

  it('card on its own sim line: the scripted callers ring, and the transcript goes to its file', async () => {
    const transcript = join(dir, 'line.jsonl');
    const config = gatewayConfig({
      line: {
        backend: 'sim',
        sim: { speed: 100, transcript_file: transcript, inbound: [{ callerId: '100', maxRings: 2 }] },
      },
    });
    const driver = await openDriver(config.line, { stateDir: dir, logger: silentLogger() });
    const rings: Array<string | null> = [];
    driver.onRing((info) => rings.push(info.callerId));
    await untilPolled(() => rings.length > 0, 'a ring from the scripted caller');
    assert.equal(rings[0], '100');
    const { callerId } = await driver.answerInbound();
    assert.equal(callerId, '100');
    await driver.hangUp();
    await driver.close();
    const events = readFileSync(transcript, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: string }).event);
    assert.ok(events.includes('ring') && events.includes('off_hook') && events.includes('on_hook'), events.join());
  });

  it('sip: refuses a line opened for the card driver, saying why', async () => {
    const line = await openSimLine({ speed: 100 });
    try {
      const config = gatewayConfig({
        line: {
          driver: 'sip',
          sip: {
            local_address: '127.0.0.1',
            account: { mode: 'direct', user: 'gw' },
            dial_uri: 'sip:{number}@127.0.0.1:5060',
          },
        },
      });
      await assert.rejects(openDriver(config.line, { stateDir: dir, logger: silentLogger(), line }), /card driver/);
    } finally {
      await line.close();
    }
  });
});
