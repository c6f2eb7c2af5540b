import assert from 'node:assert/strict';
import type { ConsoleState } from '../../collector/console/api-schema.ts';
import { hashPassword } from '../../collector/console/password.ts';
import { CollectorStatus, createRegistry, fingerprint } from '../../shared/index.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { RecordingSink, until } from './nats-harness.ts';
import { DISK, HOUR, replaySetup } from './replay-harness.ts';

const LOAD = fingerprint('web1', 'load', {});

/**
 * What follows a quiet alert (replayed history, stored and not told: collector/alerts/replay-window.ts) on a real
 * nats-server: inhibition once it is told at catch-up, and how the pages, the APIs and the metrics show it meanwhile.
 */
describe('collector replay on a real nats-server: after a quiet alert', () => {
  const bed = useCollectorBed();
  const setup = (prefix: string, options: Parameters<typeof replaySetup>[2] = {}) => replaySetup(bed, prefix, options);

  it('a quiet inhibit source told at catch-up inhibits a target already told: its repeats stop', async () => {
    const t = await setup('rshown1', {
      config: {
        rules: [
          { name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90 },
          { name: 'load', kind: 'threshold', metric: 'node_load1', warn: 5 },
        ],
        inhibit_rules: [
          { source_matchers: ['alertname="disk"'], target_matchers: ['alertname="load"'], equal: ['host'] },
        ],
        defaults: { repeat_interval: '1h' },
      },
    });
    const breach = await t.disk(95);
    const head = await t.history(breach.seq);
    const sink = new RecordingSink();
    const running = await t.start(sink);
    await t.evaluated(head.seq);
    assert.equal((await t.stored()).quiet, true, 'precondition: the source is quiet');

    const load = await t.metric('node_load1', 9);
    await sink.waitForCount(1);
    await t.evaluated(load.seq);
    assert.deepEqual(sink.lines(), ['firing web1 load warning g1'], 'an untold source inhibits nothing');

    const still = await t.disk(96);
    await sink.waitForCount(2);
    await t.evaluated(still.seq);
    assert.deepEqual(sink.lines().slice(1), ['firing web1 disk critical g1'], 'the source is told at catch-up');
    assert.equal(running.engine.records.get(LOAD)!.alert.inhibited, true, 'the target is inhibited from now on');
    assert.equal((await t.stored(LOAD)).alert.inhibited, true, 'and stored so');

    // As in Alertmanager, inhibition is judged when a notification is due: the target's repeat is held back.
    t.clock.advance(HOUR + 1000);
    await sink.waitForCount(3);
    await running.idle();
    assert.deepEqual(sink.lines().slice(2), ['repeat web1 disk critical g1'], 'no repeat of the inhibited target');
    assert.equal(running.engine.records.get(DISK)!.alert.inhibited, false);
  });

  it('a quiet firing its series says no more of: shown as not announced on the pages, APIs, metrics', async () => {
    const t = await setup('rshown2', {
      config: { console: { users: [{ name: 'alice', password_hash: await hashPassword('alice-secret') }] } },
    });
    const breach = await t.disk(95);
    const head = await t.history(breach.seq);
    const sink = new RecordingSink();
    const registry = createRegistry('collector');
    const { url } = await t.start(sink, registry);
    await t.evaluated(head.seq);
    assert.deepEqual(sink.lines(), [], 'precondition: nobody was told');
    const untold = 'not announced: replayed history';

    const api = (await (await fetch(`${url}/api/alerts`)).json()) as { fingerprint: string; status: string }[];
    assert.deepEqual(
      api.map(({ fingerprint, status, quiet, untold }: Record<string, unknown>) => ({
        fingerprint,
        status,
        quiet,
        untold,
      })),
      [{ fingerprint: DISK, status: 'firing', quiet: true, untold }],
      'the JSON API: still firing, and says nobody was told',
    );
    const page = await (await fetch(`${url}/`)).text();
    assert.ok(page.includes(`1 firing (1 ${untold})`), 'the status page says so in its summary');
    assert.ok(page.includes(`<td>${untold}</td>`), 'and in the alert state column (not "notified")');
    const alertPage = await (await fetch(`${url}/alerts/${DISK}`)).text();
    assert.ok(alertPage.includes(`firing (${untold})`), 'the alert page: its status');

    const reply = await bed.nc.request(t.own.statusRequest('collector'), undefined, { timeout: 5000 });
    assert.equal(CollectorStatus.parse(reply.json()).firing[0]!.untold, untold, '`offhook status`');

    const consoleAlert = async () => {
      const state = (await (await fetch(`${url}/console/api/state`)).json()) as ConsoleState;
      return state.alerts.find((a) => a.fingerprint === DISK);
    };
    await until(async () => (await consoleAlert())?.state === 'quiet', 'the console to show it quiet');
    assert.equal((await consoleAlert())!.untold, untold);

    const metrics = await registry.metrics();
    assert.match(
      metrics,
      /offhook_alerts_firing\{severity="critical",process="collector"\} 1\n/,
      'still counted firing',
    );
    assert.match(metrics, /offhook_alerts_firing_quiet\{severity="critical",process="collector"\} 1\n/);

    const still = await t.disk(96);
    await sink.waitForCount(1);
    await t.evaluated(still.seq);
    const told = (await (await fetch(`${url}/api/alerts`)).json()) as { quiet: boolean; untold: string | null }[];
    assert.deepEqual(
      told.map(({ quiet, untold }) => ({ quiet, untold })),
      [{ quiet: false, untold: null }],
      'told at catch-up: no longer marked',
    );
    assert.ok(!(await (await fetch(`${url}/`)).text()).includes(untold));
    await until(async () => (await consoleAlert())?.state === 'firing', 'the console to show it firing');
    assert.match(
      await registry.metrics(),
      /offhook_alerts_firing_quiet\{severity="critical",process="collector"\} 0\n/,
    );
  });
});
