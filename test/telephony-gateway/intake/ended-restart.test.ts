import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { jetstreamClient, openBucket, publishDurable, streamNames } from '../../../shared/index.ts';
import { EscalationRecord } from '../../../telephony-gateway/state-store.ts';
import { killAndWait, waitForOutput } from '../../../deploy/lib/processes.ts';
import { untilReconnected } from '../../helpers/nats-server.ts';
import { readTranscript } from '../../helpers/transcript.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { makeAlert } from '../helpers.ts';
import { useGatewayProcessBed } from '../process-harness.ts';

/**
 * The "ended" write that KV did not take, and a gateway killed before it could write it again: the real process on
 * the sim line, a real nats-server stopped under it and started again on the same store.
 */
describe('gateway killed with an ended escalation not yet in KV (child processes, real nats-server)', function () {
  this.timeout(90_000);
  const bed = useGatewayProcessBed({
    prefix: 'endedkill',
    connect: { reconnectTimeWait: 100, maxReconnectAttempts: -1 },
    config: (dir) => ({
      // Both lives share it: the local state file is what a restarted gateway finds there.
      state_dir: join(dir, 'state'),
      // 15 minutes of line time (9 s real at speed 100): NATS must be stopped while Alice's phone rings, and
      // stopping it on a loaded CI box can take seconds; the precondition below fails loudly if it took longer.
      line: { answer_timeout: '15m' },
      escalation: { max_rounds: 1, attempts_per_person: 1 },
    }),
  });
  const { server, subjects, writeConfig } = bed;

  it('the redelivery after the restart is acked, not called: the ended state was written ahead to disk', async () => {
    const { nc } = bed;
    const alert = makeAlert({ host: 'db7' });

    // First life: Alice does not answer; NATS goes away while her phone rings, so the escalation ends with KV down.
    const first = writeConfig('first', [{ number: '100', noAnswer: true }]);
    const gateway1 = bed.spawn(first.file);
    await waitForOutput(gateway1, /"msg":"gateway started"/, 20_000);
    const offHook = waitForOutput(gateway1, /"msg":"off hook"/, 20_000);
    await publishDurable(jetstreamClient(nc), subjects.alert(alert.severity, alert.host), alert);
    await offHook;
    const finished = waitForOutput(gateway1, /"reason":"nobody_answered".*"msg":"escalation finished"/, 30_000);
    await server.stop();
    await finished;
    // Killed where the ended write is still pending: its retry never ran, and the ack of the message was lost.
    await killAndWait(gateway1, 'SIGKILL');

    await server.start();
    await untilReconnected(nc, 'the test client back on the restarted server');
    const kv = await openBucket(nc, subjects, 'gateway');
    const before = await kv.get(`escalation.${alert.fingerprint}`);
    assert.notEqual(
      before?.operation === 'PUT' ? EscalationRecord.parse(before.json()).status : null,
      'done',
      'precondition: KV never took the "done" record before the kill',
    );

    // Second life: Alice would answer and press 1, so a wrong repeat call would show in the transcript.
    const second = writeConfig('second', [
      { number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] },
    ]);
    const gateway2 = bed.spawn(second.file);
    const started = waitForOutput(gateway2, /"metrics":"([^"]+)".*"msg":"gateway started"/, 20_000);
    try {
      const [, outcome] = await waitForOutput(
        gateway2,
        /"msg":"(alert queued for a call|alert resumed after restart|repeat of an ended escalation: acked)"/,
        30_000,
      );
      assert.equal(outcome, 'repeat of an ended escalation: acked', 'the redelivered alert was not queued again');
      await untilPolled(async () => {
        const entry = await kv.get(`escalation.${alert.fingerprint}`);
        return entry?.operation === 'PUT' && EscalationRecord.parse(entry.json()).status === 'done';
      }, 'the "done" record written to KV by the restarted gateway');
      const record = EscalationRecord.parse((await kv.get(`escalation.${alert.fingerprint}`))!.json());
      assert.deepEqual([record.generation, record.reason], [alert.generation, 'nobody_answered']);
      const [, metricsUrl] = await started;
      const retried = async (): Promise<string | undefined> =>
        /^offhook_gateway_ended_write_retries_total\{result="written"[^}]*\} (\d+)$/m.exec(
          await (await fetch(`${metricsUrl}/metrics`)).text(),
        )?.[1];
      await untilPolled(async () => (await retried()) === '1', 'the retried write counted');
      const consumer = await (await jetstreamManager(nc)).consumers.info(streamNames(subjects).alerts, 'gateway-gw1');
      assert.equal(consumer.num_pending, 0);
      await untilPolled(
        async () =>
          (await (await jetstreamManager(nc)).consumers.info(streamNames(subjects).alerts, 'gateway-gw1'))
            .num_ack_pending === 0,
        'the redelivered message acked',
      );
    } finally {
      await killAndWait(gateway2, 'SIGTERM');
    }
    assert.equal(readTranscript(second.transcript).filter((e) => e.event === 'off_hook').length, 0, 'no call again');
  });
});
