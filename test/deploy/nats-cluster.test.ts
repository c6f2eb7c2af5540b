import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamManager, type StreamInfo } from '@nats-io/jetstream';
import {
  connectionOptions,
  ensureStreams,
  jetstreamClient,
  NatsConfig,
  publishDurable,
  type ResourceSample,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { generateUsers } from '../../deploy/nats/gen-users.ts';
import { CredentialStore } from '../../deploy/nats/credentials.ts';
import { agentInboxPrefix } from '../../deploy/nats/permissions.ts';
import { startCluster, type Cluster } from './lib/cluster.ts';
import { makeTestCertificates, type TestCertificates } from './lib/tls.ts';
import * as wire from './lib/messages.ts';

const subjects = new Subjects('offhook');
const names = streamNames(subjects);
const EVENT_COUNT = 2000;
const KILL_AFTER = 1000;
const IN_FLIGHT = 16;

/**
 * Bounded polling for cluster state that has no event to wait on (Raft elections): the bound is the failure,
 * the interval only keeps two cores from spinning.
 */
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}`);
}

function allReplicasCurrent(info: StreamInfo): boolean {
  const replicas = info.cluster?.replicas ?? [];
  return Boolean(info.cluster?.leader) && replicas.length === 2 && replicas.every((r) => r.current && !r.offline);
}

describe('deploy/nats: three-node cluster with R3 streams', function () {
  this.timeout(180_000);
  let dir: string;
  let certs: TestCertificates;
  let cluster: Cluster;
  let credentials: CredentialStore;
  const open: NatsConnection[] = [];

  async function connectAs(user: string, extra: Partial<NatsConfig> = {}): Promise<NatsConnection> {
    const config = NatsConfig.parse({
      servers: cluster.urls,
      nkey_seed_file: credentials.path(user),
      tls: { ca_file: certs.ca },
      ...extra,
    });
    // Fast reconnects: the test kills a node and the publisher must move on without waiting a second per try.
    const nc = await connect({
      ...connectionOptions(config, `test-${user}`, true),
      reconnectTimeWait: 100,
      reconnectJitter: 50,
    });
    open.push(nc);
    return nc;
  }

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-nats-cluster-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    const generated = generateUsers({
      hosts: ['web1'],
      prefix: 'offhook',
      auth: 'nkey',
      secretsDir: join(dir, 'credentials'),
    });
    credentials = new CredentialStore(join(dir, 'credentials'), 'nkey');
    cluster = await startCluster(dir, certs, generated.text);
  });

  after(async function () {
    // Teardown: some connections were closed by the test already (or their server was stopped).
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps every event exactly once when the EVENTS leader is killed mid-stream', async function () {
    const collector = await connectAs('collector');
    // JetStream answers once the three nodes have elected a meta leader; until then stream creation fails.
    await until('the cluster to accept R3 streams', async () => {
      await ensureStreams(collector, subjects, { replicas: 3 });
      return true;
    });
    const jsm: JetStreamManager = await jetstreamManager(collector);
    const formed = await until('EVENTS to have a leader and two current replicas', async () => {
      const info = await jsm.streams.info(names.events);
      return allReplicasCurrent(info) ? info : undefined;
    });
    assert.equal(formed.config.num_replicas, 3);
    // The collector and gateway call ensureStreams with the single-server default at every start: that must not
    // shrink what the operator made R3.
    const gateway = await connectAs('gateway');
    await until('the gateway to run ensureStreams', async () => {
      await ensureStreams(gateway, subjects);
      return true;
    });
    for (const stream of [names.events, names.alerts, 'KV_offhook-alerts', 'KV_offhook-gateway']) {
      assert.equal((await jsm.streams.info(stream)).config.num_replicas, 3, `${stream} kept three replicas`);
    }

    const agent = await connectAs('agent-web1', { inbox_prefix: agentInboxPrefix('web1') });
    const js = jetstreamClient(agent);
    const events = Array.from({ length: EVENT_COUNT }, (_, i) => wire.resourceSample('web1', i + 1));
    let acked = 0;
    let retries = 0;
    let duplicates = 0;
    let killed: Promise<string> | undefined;

    // The agent's contract: retry a failed publish with the same id until the stream confirms it.
    const publishUntilStored = async (event: ResourceSample): Promise<void> => {
      for (let attempt = 0; ; attempt++) {
        try {
          const ack = await publishDurable(js, subjects.event('web1', 'resource'), event, 2000);
          if (ack.duplicate) duplicates++;
          return;
        } catch (err) {
          retries++;
          if (attempt > 200)
            throw new Error(`event seq ${event.seq} not stored after ${attempt} tries: ${String(err)}`);
          await new Promise((resolve) => setTimeout(resolve, 50)); // retry backoff, as the agent's spool does
        }
      }
    };
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < events.length) {
        const event = events[next++]!;
        await publishUntilStored(event);
        acked++;
        if (acked === KILL_AFTER && !killed) {
          killed = (async () => {
            const leader = await until(
              'the EVENTS leader name',
              async () => (await jsm.streams.info(names.events)).cluster?.leader,
            );
            const node = cluster.nodes.find((n) => n.name === leader);
            assert.ok(node, `EVENTS leader ${leader} is not one of the test nodes`);
            await node.kill('SIGKILL');
            return node.name;
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
    const killedName = await killed;
    assert.ok(killedName, 'a node was killed');
    assert.equal(acked, EVENT_COUNT);

    // Every agent seq is in the stream exactly once, in one contiguous run of stream sequences.
    const info = await until('the EVENTS leader to answer after the kill', async () => jsm.streams.info(names.events));
    assert.equal(
      info.state.messages,
      EVENT_COUNT,
      `stream holds ${info.state.messages} messages (${retries} retries, ${duplicates} deduplicated)`,
    );
    assert.notEqual(info.cluster?.leader, killedName);
    // Consumer creation goes through the meta leader, which may itself be re-elected after the kill.
    const seen = await until(
      'an ordered consumer on EVENTS to read the stream',
      async () => {
        const counts = new Map<number, number>();
        const consumer = await jetstream(collector).consumers.get(names.events);
        const messages = await consumer.fetch({ max_messages: EVENT_COUNT, expires: 10_000 });
        for await (const msg of messages) {
          const seq = msg.json<ResourceSample>().seq;
          counts.set(seq, (counts.get(seq) ?? 0) + 1);
          if (msg.seq === info.state.last_seq) break;
        }
        return counts;
      },
      60_000,
    );
    const missing = events.filter((e) => !seen.has(e.seq)).map((e) => e.seq);
    const doubled = [...seen].filter(([, count]) => count > 1).map(([seq]) => seq);
    assert.deepEqual({ missing, doubled, size: seen.size }, { missing: [], doubled: [], size: EVENT_COUNT });

    // A retry whose first attempt was stored but whose PubAck was lost (the kill can do that) is recognised by
    // the new leader too: re-send events stored before and after the failover with their ids.
    for (const event of [events[KILL_AFTER - 1]!, events[0]!, events[EVENT_COUNT - 1]!]) {
      const again = await publishDurable(js, subjects.event('web1', 'resource'), event, 5000);
      assert.equal(again.duplicate, true, `event seq ${event.seq} re-sent with its id was stored again`);
    }
    assert.equal((await jsm.streams.info(names.events)).state.messages, EVENT_COUNT);

    // The killed node comes back with its store and catches up: three current replicas again.
    const node = cluster.nodes.find((n) => n.name === killedName)!;
    await node.start();
    await until(
      `${killedName} to catch up`,
      async () => {
        const current = await jsm.streams.info(names.events);
        return allReplicasCurrent(current) && current.state.messages === EVENT_COUNT ? true : undefined;
      },
      60_000,
    );
    process.stdout.write(
      `      ${EVENT_COUNT} events, killed ${killedName} after ${KILL_AFTER}: ` +
        `${retries} publish retries, ${duplicates} deduplicated by msgID\n`,
    );
  });

  it('an R1 deployment becomes R3 (streams, KV) once processes start with nats.stream_replicas: 3', async function () {
    const admin = await connectAs('admin');
    const upgraded = new Subjects('upgrade');
    await until('the single-replica deployment', async () => {
      await ensureStreams(admin, upgraded);
      return true;
    });
    const jsm = await jetstreamManager(admin);
    const all = [
      ...Object.values(streamNames(upgraded)),
      ...['alerts', 'silences', 'nflog', 'checkpoints', 'gateway'].map((b) => `KV_upgrade-${b}`),
    ];
    assert.equal((await jsm.streams.info(`KV_upgrade-gateway`)).config.num_replicas, 1);
    // What collector.yaml / gateway.yaml's `stream_replicas: 3` hands to ensureStreams at start.
    const replicas = NatsConfig.parse({ stream_replicas: 3 }).stream_replicas;
    await until('ensureStreams with three replicas', async () => {
      await ensureStreams(admin, upgraded, { replicas });
      return true;
    });
    for (const stream of all)
      assert.equal((await jsm.streams.info(stream)).config.num_replicas, 3, `${stream} has three replicas`);
  });
});
