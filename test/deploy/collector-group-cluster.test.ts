import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { stringify } from 'yaml';
import { partitionOf } from '../../collector/group/index.ts';
import { CredentialStore } from '../../deploy/nats/credentials.ts';
import { generateUsers } from '../../deploy/nats/gen-users.ts';
import {
  Alert,
  CallRecord,
  connectionOptions,
  ensureStreams,
  NatsConfig,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import {
  balanced,
  eventSender,
  hostsHeldBy,
  leaseOwners,
  PARTITIONS,
  startMember,
  tally,
  type Member,
} from '../collector/group/group-helpers.ts';
import { speechStateDir } from '../telephony-gateway/harness.ts';
import { killAndWait, spawnTracked, waitForOutput } from '../../deploy/lib/processes.ts';
import { assertOneCallAtATime, readTranscript } from '../helpers/transcript.ts';
import { untilPolled } from '../helpers/wait.ts';
import { webhookReceiver } from '../../deploy/lib/webhook-receiver.ts';
import { startCluster, type Cluster } from './lib/cluster.ts';
import { makeTestCertificates, type TestCertificates } from './lib/tls.ts';

const subjects = new Subjects('offhook');
const HOSTS = Array.from({ length: 12 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const LEASE_TIMEOUT = '3s';
const each = (hosts: string[], ...what: string[]): string[] => hosts.flatMap((h) => what.map((w) => `${w} ${h}`));

/**
 * The collector group on the shipped three-node cluster config (TLS, nkeys, R3 streams and KV): three real
 * collectors, a real gateway on the simulated line, real processes killed. Every alert must reach the webhook once
 * and be named in exactly one phone call, whatever dies: a member (kill -9), the NATS node leading the lease bucket,
 * or a member frozen past its lease.
 */
describe('collector group on the three-node NATS cluster', function () {
  this.timeout(300_000);
  let dir: string;
  let certs: TestCertificates;
  let cluster: Cluster;
  let credentials: CredentialStore;
  let admin: NatsConnection;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  let gateway: ChildProcess;
  let transcript: string;
  let gatewayOutput = '';
  const members = new Map<string, Member>();
  /**
   * Call records by id. The gateway's publisher retries a record with the same Nats-Msg-Id when the stream's
   * confirmation is lost with a killed node: the stream stores it once, but a plain subscriber sees every attempt.
   */
  const callsById = new Map<string, CallRecord>();
  let callDeliveries = 0;
  /** Fingerprint of every alert that went firing on ALERTS, by "rule host". */
  const fired = new Map<string, string>();
  /** "rule host" of every alert that resolved (one resolved before the gateway got to it is rightly not called). */
  const resolved = new Set<string>();
  /** Every ALERTS message, for the report when an alert is called twice (published twice, or called twice?). */
  const published: string[] = [];
  const figures: string[] = [];

  const natsBlock = (user: string): string =>
    JSON.stringify({
      servers: cluster.urls,
      nkey_seed_file: credentials.path(user),
      tls: { ca_file: certs.ca },
      stream_replicas: 3,
    });
  const start = async (name: string): Promise<Member> => {
    const member = await startMember(dir, '', hook.url, name, {
      nats: natsBlock('collector'),
      leaseTimeout: LEASE_TIMEOUT,
    });
    members.set(name, member);
    return member;
  };
  /**
   * A read of the cluster's state, asked again while it fails: a starved or frozen node makes the R3 KV and streams
   * elect a leader now and then, and a read then gets "JetStream system temporarily unavailable" or a timeout. The
   * last error is named if the reads never succeed.
   */
  const settled = async <T>(read: () => Promise<T>, what: string, ok: (value: T) => boolean = () => true) => {
    let value: T | undefined;
    let lastError: unknown;
    const attempt = async (): Promise<boolean> => {
      try {
        value = await read();
        return ok(value);
      } catch (err) {
        lastError = err;
        return false;
      }
    };
    await untilPolled(attempt, what, 60_000, 100).catch((err: Error) => {
      throw lastError ? new Error(`${err.message} (last read failed: ${String(lastError)})`) : err;
    });
    return value as T;
  };
  const owners = (): Promise<Map<number, string>> => settled(() => leaseOwners(admin, subjects), 'the lease table');
  const converge = async (names: string[], what: string): Promise<void> => {
    await settled(
      () => leaseOwners(admin, subjects),
      what,
      (leases) => balanced(leases, names),
    );
  };
  const heard = (lines: string[], what: string): Promise<void> =>
    untilPolled(() => lines.every((line) => hook.received.includes(line)), what, 60_000, 50);
  /** One sender for the whole run: it numbers each host's events, and a restarted numbering would be refused. */
  let sender: ReturnType<typeof eventSender>;
  const allOnce = (): void => {
    const twice = [...tally(hook.received)].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no notification twice');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-group-cluster-'));
    certs = makeTestCertificates(join(dir, 'tls'));
    const generated = generateUsers({ hosts: [], prefix: 'offhook', auth: 'nkey', secretsDir: join(dir, 'creds') });
    credentials = new CredentialStore(join(dir, 'creds'), 'nkey');
    cluster = await startCluster(dir, certs, generated.text);
    const config = NatsConfig.parse({
      servers: cluster.urls,
      nkey_seed_file: credentials.path('admin'),
      tls: { ca_file: certs.ca },
    });
    admin = await connect({ ...connectionOptions(config, 'test-admin', true), reconnectTimeWait: 100 });
    // JetStream answers once the nodes have elected a meta leader; the collectors then find R3 streams in place.
    await untilPolled(
      async () => {
        try {
          await ensureStreams(admin, subjects, { replicas: 3 });
          return true;
        } catch {
          return false; // no meta leader yet: asked again
        }
      },
      'the cluster to accept R3 streams',
      60_000,
      200,
    );
    admin.subscribe(subjects.allCalls, {
      callback: (_e, m) => {
        const record = CallRecord.parse(m.json());
        callDeliveries++;
        callsById.set(record.id, record);
      },
    });
    admin.subscribe(subjects.allAlerts, {
      callback: (_e, m) => {
        const alert = Alert.safeParse(m.json());
        if (!alert.success || alert.data.ruleKind === 'watchdog') return;
        const what = `${alert.data.rule} ${alert.data.host}`;
        published.push(`${alert.data.status} ${what} g${alert.data.generation} ${alert.data.id}`);
        if (alert.data.status === 'firing') fired.set(what, alert.data.fingerprint);
        else resolved.add(what);
      },
    });
    sender = eventSender(admin, subjects, 100);
    hook = await webhookReceiver();
    gateway = await startGateway();
    for (const name of ['c1', 'c2', 'c3']) await start(name);
    await converge(['c1', 'c2', 'c3'], 'leases balanced over the three');
  });

  after(async () => {
    // OFFHOOK_GROUP_DUMP=<dir>: every process's log and the calls kept there for a failure's post-mortem.
    const dump = process.env.OFFHOOK_GROUP_DUMP;
    if (dump) {
      for (const m of members.values()) {
        writeFileSync(join(dump, `${m.name}.log`), m.output());
        // Who holds what and how far each partition has read EVENTS, as the member itself sees it at the end.
        const parts = await fetch(`${m.url}/api/partitions`, { signal: AbortSignal.timeout(2000) })
          .then((r) => r.text())
          .catch((err: unknown) => `unreachable: ${String(err)}`);
        writeFileSync(join(dump, `${m.name}.partitions.json`), parts);
      }
      writeFileSync(join(dump, 'gateway.log'), gatewayOutput);
      writeFileSync(join(dump, 'calls.json'), JSON.stringify({ calls: [...callsById.values()], published }, null, 1));
    }
    for (const member of members.values()) {
      if (member.child.signalCode === 'SIGSTOP') member.child.kill('SIGCONT');
      if (member.child.exitCode === null) await killAndWait(member.child, 'SIGKILL');
    }
    if (gateway && gateway.exitCode === null) await killAndWait(gateway, 'SIGKILL');
    await hook?.close();
    await admin?.close().catch(() => undefined); // its server may be the one killed last
    await cluster?.stop();
    if (figures.length > 0) process.stdout.write(`      ${figures.join('\n      ')}\n`);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** The gateway on the simulated line; Alice answers every call and presses 1 (acknowledge all named alerts). */
  async function startGateway(): Promise<ChildProcess> {
    transcript = join(dir, 'line.jsonl');
    writeFileSync(transcript, '');
    const answer = { number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] };
    const file = join(dir, 'gateway.yaml');
    const config = {
      gateway_host: 'gw1',
      nats: JSON.parse(natsBlock('gateway')),
      state_dir: speechStateDir,
      metrics_listen: '127.0.0.1:0',
      line: { backend: 'sim', sim: { speed: 100, transcript_file: transcript, far_end: Array(80).fill(answer) } },
      people: [{ name: 'alice', number: '100' }],
      budget: {
        max_calls_per_hour: 1000,
        max_calls_per_day: 1000,
        max_call_minutes_per_day: 1000,
        per_number: { max_calls_per_minute: 1000, max_calls_per_15m: 1000, max_calls_per_hour: 1000 },
      },
    };
    writeFileSync(file, stringify(config));
    const child = spawnTracked(process.execPath, ['offhook.mjs', 'gateway', '--config', file], {
      env: { ...process.env, OFFHOOK_LOG_LEVEL: 'info' },
    });
    child.stdout?.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (gatewayOutput += chunk.toString('utf8')));
    await waitForOutput(child, /"msg":"gateway started"/, 30_000);
    return child;
  }

  /** The id of every record in the CALLS stream, in stream order (duplicates kept, to be counted). */
  async function storedCallIds(): Promise<string[]> {
    const stream = streamNames(subjects).calls;
    const { state } = await settled(async () => (await jetstreamManager(admin)).streams.info(stream), 'CALLS info');
    if (state.messages === 0) return [];
    const consumer = await jetstream(admin).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
    const ids: string[] = [];
    const batch = await consumer.fetch({ max_messages: state.messages, expires: 5000 });
    for await (const msg of batch as AsyncIterable<JsMsg>) {
      ids.push(CallRecord.parse(msg.json()).id);
      if (msg.seq === state.last_seq) break;
    }
    return ids;
  }

  it('kill -9 of a member: survivors take its partitions, carry its `for` timers; none lost or doubled', async () => {
    for (const host of HOSTS) await sender(host, 'disk_used', 95);
    await heard(each(HOSTS, 'firing disk'), 'every disk alert');
    for (const host of HOSTS) await sender(host, 'load', 50);
    assert.ok(hostsHeldBy(HOSTS, await owners(), 'c3').length > 0, 'the victim evaluates some hosts');
    const killed = Date.now();
    await killAndWait(members.get('c3')!.child, 'SIGKILL');
    for (const host of HOSTS) await sender(host, 'disk_used', 50);
    await converge(['c1', 'c2'], 'the survivors hold every partition');
    figures.push(
      `kill -9 of a member → survivors hold its partitions: ${Date.now() - killed} ms (lease ${LEASE_TIMEOUT})`,
    );
    await heard(each(HOSTS, 'resolved disk', 'firing load'), 'resolves and `for` alerts after the takeover');
    // The member comes back: it takes its share from the others, and only that moves.
    const before = await owners();
    await start('c3');
    await converge(['c1', 'c2', 'c3'], 'c3 back in');
    const moved = [...(await owners())].filter(([p, m]) => before.get(p) !== m);
    assert.ok(
      moved.every(([, m]) => m === 'c3'),
      `a rejoin moves partitions only to the newcomer: ${JSON.stringify(moved)}`,
    );
    allOnce();
  });

  it('the NATS node leading the lease bucket killed: every alert still notified once', async () => {
    const bucket = async () => (await jetstreamManager(admin)).streams.info('KV_offhook-checkpoints');
    const leader = (await settled(bucket, 'the lease bucket info')).cluster?.leader;
    const node = cluster.nodes.find((n) => n.name === leader);
    assert.ok(node, `lease bucket leader ${leader} is one of the nodes`);
    const killed = Date.now();
    await node.kill('SIGKILL');
    for (const host of HOSTS) await sender(host, 'marker', 1);
    await heard(each(HOSTS, 'firing marker'), 'every marker after the node kill');
    figures.push(`${leader} (lease KV leader) killed → all ${HOSTS.length} alerts notified: ${Date.now() - killed} ms`);
    await converge(['c1', 'c2', 'c3'], 'members settled after the node kill');
    await node.start();
    allOnce();
  });

  it('a member frozen past its lease (SIGSTOP) resumes, finds its leases taken and sends nothing', async () => {
    const frozen = members.get('c2')!;
    const hosts = hostsHeldBy(HOSTS, await owners(), 'c2');
    assert.ok(hosts.length > 0);
    frozen.child.kill('SIGSTOP');
    try {
      await converge(['c1', 'c3'], "the others took the frozen member's partitions");
      for (const host of hosts) await sender(host, 'probe', 1);
      await heard(each(hosts, 'firing probe'), 'probes through the new holders');
    } finally {
      frozen.child.kill('SIGCONT');
    }
    await untilPolled(
      () => frozen.output().includes('partition lease lost to another member'),
      'the frozen member to notice',
      60_000,
    );
    await converge(['c1', 'c2', 'c3'], 'c2 back to its share');
    allOnce();
  });

  it('the gateway placed exactly one call per firing alert, one call at a time', async () => {
    const calls = (): CallRecord[] => [...callsById.values()];
    assert.ok(fired.size >= HOSTS.length * 3, `every rule fired for every host (${fired.size})`);
    const called = (fp: string): number => calls().filter((c) => c.fingerprints.includes(fp)).length;
    const stillFiring = [...fired].filter(([what]) => !resolved.has(what)).map(([, fp]) => fp);
    await untilPolled(() => stillFiring.every((fp) => called(fp) > 0), 'a call about every firing alert', 120_000, 100);
    const twice = [...fired]
      .filter(([, fp]) => called(fp) > 1)
      .map(([what, fp]) => {
        const how = calls()
          .filter((c) => c.fingerprints.includes(fp))
          .map((c) => `${c.callId} ${c.outcome} attempt ${c.attempt}`);
        return `${what}: calls ${how.join(' ')}; ALERTS ${published.filter((p) => p.includes(` ${what} `)).join(', ')}`;
      });
    assert.deepEqual(twice, [], 'no alert named in two calls');
    const counted = stillFiring.filter((fp) => called(fp) === 1).length;
    assert.equal(counted, stillFiring.length, 'every alert still firing named in exactly one call');
    const onTheLine = assertOneCallAtATime(readTranscript(transcript));
    assert.equal(onTheLine, callsById.size, 'one call on the line at a time, one distinct record per call');
    const stored = await storedCallIds();
    const storedTwice = stored.filter((id, i) => stored.indexOf(id) !== i);
    assert.deepEqual(storedTwice, [], 'the CALLS stream stored each record once (Nats-Msg-Id dedup)');
    assert.deepEqual(new Set(stored), new Set(callsById.keys()), 'the CALLS stream holds exactly the records seen');
    const inPartition = new Set(HOSTS.map((h) => partitionOf(h, PARTITIONS)));
    figures.push(
      `${fired.size} alerts (${stillFiring.length} still firing) over ${inPartition.size} partitions → ` +
        `${callsById.size} calls, none naming an alert twice; ${callDeliveries - callsById.size} publisher ` +
        'retries of a call record seen on the plain subject, stored once',
    );
  });
});
