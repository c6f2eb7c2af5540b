import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamClient, ManualClock, publishDurable, Subjects, fingerprint } from '../../shared/index.ts';
import { CollectorConfig } from '../../collector/config.ts';
import { useCollectorBed } from '../helpers/collector-bed.ts';
import { EventScript } from '../collector/alerts/engine-harness.ts';
import { RecordingSink, until } from '../collector/nats-harness.ts';
import { runCli } from './cli-helpers.ts';

describe('collector CLI', function () {
  this.timeout(60_000);
  const bed = useCollectorBed();
  const { server } = bed;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-cli-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('check-config accepts the shipped example and names the field and the fix in a broken one', async () => {
    const ok = await runCli(['check-config', 'deploy/examples/collector.yaml']);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /collector\.yaml: OK \(collector config\)/);
    const bad = join(dir, 'collector.yaml');
    writeFileSync(
      bad,
      'rules:\n  - { name: disk, kind: threshold, metric: disk_used, warn: 80, clear_below: ' +
        '85 }\n  - { name: ssh, kind: check, max_attempts: "three" }\n',
    );
    const result = await runCli(['check-config', bad]);
    assert.equal(result.code, 2, 'a config error exits 2');
    assert.match(
      result.stdout,
      /collector\.yaml: rules\[0\]\.clear_below: expected a value <= 80 \(the lowest alerting level\), got 85/,
    );
    assert.match(result.stdout, /collector\.yaml: rules\[1\]\.max_attempts: expected number/);
  });

  it('alerts, ack, silence add|list|expire against a running collector', async () => {
    const clock = new ManualClock(Date.now());
    const sink = new RecordingSink();
    const config = CollectorConfig.parse({
      nats: { servers: [server.url] },
      listen: '127.0.0.1:0',
      rules: [{ name: 'disk', kind: 'threshold', metric: 'disk_used', crit: 90, repeat_interval: '1h' }],
    });
    const collector = await bed.start(config, { clock, sink });
    const script = new EventScript(clock);
    await publishDurable(
      jetstreamClient(bed.nc),
      new Subjects().event('web1', 'resource'),
      script.resource('web1', 'disk_used', 95),
    );
    await sink.waitForCount(1);
    await collector.idle();
    const fp = fingerprint('web1', 'disk', {});

    const table = await runCli(['alerts', '--nats', server.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^FINGERPRINT\s+STATUS\s+SEVERITY\s+HOST\s+RULE/m);
    assert.match(table.stdout, new RegExp(`${fp}\\s+firing\\s+critical\\s+web1\\s+disk\\s+1`));

    const ack = await runCli(['ack', fp, '--by', 'alice', '-c', 'on it', '--nats', server.url]);
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /acknowledged [0-9a-f]{16} \(web1 disk, generation 1\) as alice/);
    await until(() => collector.engine.records.get(fp)?.alert.acknowledged === true, 'the ack');
    clock.advance(3_600_000);
    await collector.idle();
    assert.deepEqual(sink.lines(), ['firing web1 disk critical g1'], 'acked: no repeat after an hour');

    const unknown = await runCli(['ack', '0123456789abcdef', '--nats', server.url]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no alert with fingerprint 0123456789abcdef/);

    const badMatcher = await runCli(['silence', 'add', 'host', '--for', '2h', '-c', 'x', '--nats', server.url]);
    assert.equal(badMatcher.code, 2, 'a usage error exits 2');
    assert.match(badMatcher.stderr, /matcher: expected a matcher like host=web1, .*, got "host"/);

    const fractional = await runCli(['silence', 'add', 'host=web2', '--for', '1.5h', '-c', 'x', '--nats', server.url]);
    assert.equal(fractional.code, 2, 'a bad duration is a usage error');
    assert.match(
      fractional.stderr,
      /^--for: expected a duration like "30s", .*: no fractions: write "1h30m" .*, got "1\.5h"$/m,
    );
    const zero = await runCli(['silence', 'add', 'host=web2', '--for', '0', '-c', 'x', '--nats', server.url]);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--for: .*a silence needs a length above 0, got "0"/);
    const forever = await runCli(['ack', fp, '--for', '0s', '--nats', server.url]);
    assert.equal(forever.code, 2);
    assert.match(forever.stderr, /--for: .*leave --for out for an ack that lasts until the alert resolves, got "0s"/);

    const url = server.url;
    const unclosed = await runCli(['silence', 'add', 'host="web2', '--for', '2h', '-c', 'x', '--nats', server.url]);
    assert.equal(unclosed.code, 2);
    assert.match(unclosed.stderr, /matcher: "host=\\"web2": a double quote inside the value must be escaped/);
    const landmine = await runCli(['silence', 'add', 'host=~"(web)\\1"', '--for', '2h', '-c', 'x', '--nats', url]);
    assert.equal(landmine.code, 2, 'a quoted regex goes through the linear-time engine check too');
    assert.match(landmine.stderr, /backreferences are not supported/);

    // Today's bare form and amtool's quoted one, side by side.
    const added = await runCli([
      'silence',
      'add',
      'host=web2',
      'rule=~"di.*"',
      'severity!="info"',
      '--for',
      '1h30m',
      '-c',
      'disk swap',
      '--by',
      'bob',
      '--json',
      '--nats',
      server.url,
    ]);
    assert.equal(added.code, 0, added.stderr);
    const silence = JSON.parse(added.stdout) as { id: string; endsAt: number; startsAt: number };
    assert.equal(silence.endsAt - silence.startsAt, 5_400_000, 'a compound Prometheus duration');
    await until(
      () => collector.engine.activeSilenceList().some((s) => s.id === silence.id),
      'the silence to reach the collector',
    );
    // Stamped with the real time: the manual clock is an hour ahead by now, and the collector refuses events
    // whose ts is further ahead of their arrival in JetStream than intake.max_clock_skew.
    const late = { ...script.resource('web2', 'disk_used', 99), ts: Date.now() };
    await publishDurable(jetstreamClient(bed.nc), new Subjects().event('web2', 'resource'), late);
    await until(() => collector.engine.records.has(fingerprint('web2', 'disk', {})), 'the silenced web2 alert');
    await collector.idle();
    const silencedTable = await runCli(['alerts', '--nats', server.url]);
    assert.match(silencedTable.stdout, new RegExp(`web2\\s+disk\\s+1\\s+\\S+\\s+silenced:${silence.id}`));
    assert.match(silencedTable.stdout, /web1\s+disk\s+1\s+\S+\s+acked:alice/);
    const list = await runCli(['silence', 'list', '--nats', server.url]);
    assert.match(list.stdout, new RegExp(`${silence.id}\\s+active\\s+host=web2 rule=~di\\.\\* severity!=info\\s`));
    const expired = await runCli(['silence', 'expire', silence.id, '--nats', server.url]);
    assert.equal(expired.code, 0, expired.stderr);
    const after = await runCli(['silence', 'list', '--nats', server.url]);
    assert.match(after.stdout, /no silences/);
  });
});
