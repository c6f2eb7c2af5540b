import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { scrape, sumOf } from '../../deploy/lib/metrics-text.ts';
import { startOffhook } from '../../deploy/lib/offhook-process.ts';
import { killAndWait } from '../../deploy/lib/processes.ts';
import { Subjects } from '../../shared/index.ts';
import { controlSubject } from '../../telephony-gateway/line/control.ts';
import { ackingGatewayConfig, GENEROUS_BUDGET } from '../faults/common.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import { readTranscript, waitForTranscript } from '../helpers/transcript.ts';
import { hangUp, reloadMetrics } from '../helpers/reload.ts';

describe('gateway: config reload on SIGHUP (real gateway process on the simulated line)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-gw-reload-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('a changed budget is in effect after the in-process restart: line reopened, same PID', async () => {
    const config = ackingGatewayConfig(server.url, 'gwreload', 0);
    const gateway = await startOffhook('gateway', dir, 'gateway', config);
    const pid = gateway.child.pid;
    try {
      const budget = { ...GENEROUS_BUDGET, max_calls_per_hour: 7 };
      writeFileSync(gateway.configFile, stringify({ ...config, budget }));
      const [started] = await hangUp(gateway.child, /"msg":"gateway started"/, /"msg":"config reloaded/);
      // Its own listener again, on a new port (metrics_listen :0); the line names the base URL.
      const url = `${String((JSON.parse(started!.input) as { metrics: string }).metrics)}/metrics`;
      const samples = await scrape(url);
      assert.equal(sumOf(samples, 'offhook_gateway_budget_remaining_calls', { limit: 'calls_per_hour' }), 7);
      assert.equal(gateway.child.pid, pid);
      assert.ok(gateway.alive());
      assert.match(gateway.output(), /"msg":"gateway stopped"/);
      const m = await reloadMetrics(url);
      assert.equal(m.outcome('applied'), 1);
      assert.equal(m.successful, 1);
    } finally {
      await killAndWait(gateway.child, 'SIGTERM');
    }
  });

  it('while a call is on the line the reload is refused: the call goes on, the old config stays', async () => {
    const transcript = join(dir, 'line.jsonl');
    writeFileSync(transcript, '');
    const config = {
      ...ackingGatewayConfig(server.url, 'gwbusy', 0),
      // Real time, a far end that answers and never presses a key, a gateway that waits 10 min for one: the call
      // stays on the line until the test stops the gateway.
      line: {
        backend: 'sim',
        digit_timeout: '10m',
        sim: {
          speed: 1,
          transcript_file: transcript,
          far_end: [{ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'no-such-prompt' }] }],
        },
      },
    };
    const gateway = await startOffhook('gateway', dir, 'busy', config);
    try {
      const nc = await connectTo(server);
      nc.publish(controlSubject(new Subjects('gwbusy'), 'gw1', 'test_call'), JSON.stringify({ number: '100' }));
      await nc.drain();
      await waitForTranscript(transcript, 'off_hook', 30_000);
      writeFileSync(
        gateway.configFile,
        stringify({ ...config, budget: { ...GENEROUS_BUDGET, max_calls_per_hour: 7 } }),
      );
      const [refused] = await hangUp(gateway.child, /"msg":"config reload refused/);
      assert.match(refused!.input, /a call is on the line/);
      const m = await reloadMetrics(gateway.metricsUrl);
      assert.equal(m.outcome('refused'), 1);
      assert.equal(m.successful, 0);
      assert.ok(!readTranscript(transcript).some((e) => e.event === 'on_hook'), 'the call was not hung up');
    } finally {
      await killAndWait(gateway.child, 'SIGTERM');
    }
  });
});
