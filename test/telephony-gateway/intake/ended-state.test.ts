import assert from 'node:assert/strict';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { Registry } from 'prom-client';
import { ensureStreams, openBucket, silentLogger, Subjects, systemClock, type Alert } from '../../../shared/index.ts';
import { CallQueue } from '../../../telephony-gateway/calls/queue.ts';
import { AlertIntake } from '../../../telephony-gateway/intake/intake.ts';
import { EscalationRecord, StateStore } from '../../../telephony-gateway/state-store.ts';
import { gatewayMetrics } from '../../../telephony-gateway/status/metrics.ts';
import { connectTo, untilReconnected, useNatsServer } from '../../helpers/nats-server.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { gatewayConfig, makeAlert } from '../helpers.ts';

/**
 * The two ways a repeat of an ended escalation could ring again, on a real nats-server whose KV really fails (the
 * server is stopped, then started again on the same store). The intake is driven with the deliveries the ALERTS
 * consumer would hand it: a redelivery is what JetStream sends after ack_wait when the ack of a finished escalation
 * was lost with a NATS node.
 */
describe('gateway intake: an ended escalation never calls again when KV fails', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let kv: KV;
  let n = 0;

  before(async () => {
    nc = await connectTo(server, { reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  });
  // A test that failed with the server stopped leaves it stopped: the next one starts from a running server.
  beforeEach(async () => {
    await server.start();
    await untilReconnected(nc, 'the client on the running server');
  });
  after(async () => {
    await nc?.close();
  });

  let queue: CallQueue;
  const queued = (alert: Alert) => queue.get(alert.fingerprint);

  async function intakeOn(prefix: string): Promise<{ intake: AlertIntake; released: string[] }> {
    const subjects = new Subjects(prefix);
    await ensureStreams(nc, subjects);
    kv = await openBucket(nc, subjects, 'gateway');
    const config = gatewayConfig();
    const released: string[] = [];
    queue = new CallQueue(config.people, config.escalation);
    const intake = new AlertIntake(
      queue,
      config,
      { coveringAck: () => null },
      new StateStore(kv, silentLogger()),
      (fp) => released.push(fp),
      gatewayMetrics(new Registry()),
      silentLogger(),
      systemClock,
      () => undefined,
    );
    return { intake, released };
  }

  const stored = async (alert: Alert): Promise<EscalationRecord | null> => {
    const entry = await kv.get(`escalation.${alert.fingerprint}`);
    return entry?.operation === 'PUT' ? EscalationRecord.parse(entry.json()) : null;
  };
  const kvAnswers = async (): Promise<boolean> => {
    try {
      await kv.status();
      return true;
    } catch {
      return false; // the client has not reconnected yet: asked again
    }
  };

  /** An escalation that ran (its state written as active) and ended unanswered. */
  async function endedUnanswered(intake: AlertIntake, alert: Alert): Promise<void> {
    assert.equal(await intake.onAlert({ alert, redelivered: false, pending: 0 }), 'hold');
    const entry = queued(alert);
    assert.ok(entry, 'queued for a call');
    await intake.persist(entry);
    assert.equal((await stored(alert))?.status, 'active');
    return intake.finish(entry, 'nobody_answered');
  }

  it('a failed read is not "no record": the redelivery of an ended escalation is held until KV answers', async () => {
    const { intake } = await intakeOn(`ended${++n}`);
    const alert = makeAlert();
    await endedUnanswered(intake, alert);
    assert.equal((await stored(alert))?.status, 'done');

    await server.stop();
    await assert.rejects(
      intake.onAlert({ alert, redelivered: true, pending: 0 }),
      { name: 'StateUnavailable' },
      'the state is unknown: the message goes back to the stream instead of starting a call',
    );
    assert.equal(queued(alert), undefined, 'nothing queued for a call on an unknown state');

    await server.start();
    await untilPolled(kvAnswers, 'the client back on the restarted server');
    assert.equal(await intake.onAlert({ alert, redelivered: true, pending: 0 }), 'ack', 'KV says done: acked');
    assert.equal(queued(alert), undefined);
  });

  it('a failed "ended" write is kept in memory and written again; the redelivery is acked, not called', async () => {
    const { intake, released } = await intakeOn(`ended${++n}`);
    const alert = makeAlert({ host: 'db1' });
    assert.equal(await intake.onAlert({ alert, redelivered: false, pending: 0 }), 'hold');
    const entry = queued(alert)!;
    await intake.persist(entry);

    await server.stop();
    await intake.finish(entry, 'nobody_answered'); // KV does not take the "done" record
    assert.deepEqual(released, [alert.fingerprint], 'the held message is released (its ack may be lost)');
    assert.equal(intake.ended.size, 1, 'the ended generation is remembered');

    await server.start();
    await untilPolled(kvAnswers, 'the client back on the restarted server');
    // JetStream redelivers the message whose ack was lost: the escalation ended, whatever KV says yet.
    assert.equal(await intake.onAlert({ alert, redelivered: true, pending: 0 }), 'ack');
    assert.equal(queued(alert), undefined, 'not queued for a second call');
    await untilPolled(async () => (await stored(alert))?.status === 'done', 'the "done" record written again');
    assert.equal(intake.ended.size, 0);
    const record = await stored(alert);
    assert.deepEqual([record?.generation, record?.reason], [1, 'nobody_answered']);
    intake.ended.stop();
  });
});
