import assert from 'node:assert/strict';
import { jetstreamManager } from '@nats-io/jetstream';
import { Ack, CallRecord, jetstreamClient, publishDurable, streamNames } from '../../shared/index.ts';
import { killAndWait, waitForOutput } from '../../deploy/lib/processes.ts';
import { speechStateDir } from './harness.ts';
import { useGatewayProcessBed } from './process-harness.ts';
import { assertOneCallAtATime, readTranscript, waitForTranscript } from '../helpers/transcript.ts';
import { makeAlert } from './helpers.ts';

describe('gateway killed mid-call (child processes, real nats-server)', function () {
  this.timeout(90_000);
  const bed = useGatewayProcessBed({ prefix: 'crash', config: () => ({ state_dir: speechStateDir }) });
  const { subjects, writeConfig } = bed;

  it('SIGKILL mid-call: the alert is called about once more after restart, never lost, never 2 at once', async () => {
    const { nc } = bed;
    const calls: CallRecord[] = [];
    const acks: Ack[] = [];
    nc.subscribe(subjects.allCalls, { callback: (_e, m) => void calls.push(CallRecord.parse(m.json())) });
    nc.subscribe(subjects.allAcks, { callback: (_e, m) => void acks.push(Ack.parse(m.json())) });

    // First life: Alice answers and listens for a long time; the gateway dies while she does.
    const first = writeConfig('first', [{ number: '100', answerAfterRings: 1, then: [{ wait: 600_000 }] }]);
    const gateway1 = bed.spawn(first.file);
    await waitForOutput(gateway1, /"msg":"gateway started"/, 20_000);
    const offHook = waitForOutput(gateway1, /"msg":"off hook"/, 20_000);
    const alert = makeAlert();
    await publishDurable(jetstreamClient(nc), subjects.alert(alert.severity, alert.host), alert);
    await offHook;
    // Kill once Alice is on the line and listening: the middle of the call.
    await waitForTranscript(first.transcript, 'play', 20_000);
    await killAndWait(gateway1, 'SIGKILL');

    // Second life: the held message is redelivered after ack_wait; this time Alice presses 1.
    const second = writeConfig('second', [
      { number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] },
    ]);
    const gateway2 = bed.spawn(second.file);
    const finished = waitForOutput(gateway2, /"reason":"acknowledged".*"msg":"escalation finished"/, 30_000);
    await finished;
    await killAndWait(gateway2, 'SIGTERM');

    const firstLine = readTranscript(first.transcript);
    const secondLine = readTranscript(second.transcript);
    assert.equal(assertOneCallAtATime(firstLine), 1);
    assert.equal(assertOneCallAtATime(secondLine), 1, 'exactly one repeated call after the restart');
    assert.ok(secondLine.some((e) => e.event === 'press' && e.digit === '1'));
    await nc.flush();
    assert.deepEqual(
      calls.map((c) => [c.outcome, c.fingerprints]),
      [['acknowledged', [alert.fingerprint]]],
      'the killed call left no record; the repeat did',
    );
    assert.deepEqual(
      acks.map((a) => [a.fingerprint, a.method]),
      [[alert.fingerprint, 'dtmf']],
    );
    const consumer = await (await jetstreamManager(nc)).consumers.info(streamNames(subjects).alerts, 'gateway-gw1');
    assert.deepEqual(
      [consumer.num_ack_pending, consumer.num_pending],
      [0, 0],
      'the alert message was acked once its escalation finished',
    );
  });
});
