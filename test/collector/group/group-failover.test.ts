import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf } from '../../../collector/group/index.ts';
import { gatherStatus } from '../../../ops/status.ts';
import { openBucket, Subjects } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { killAndWait } from '../../../deploy/lib/processes.ts';
import { until } from '../../helpers/wait.ts';
import { webhookReceiver } from '../../../deploy/lib/webhook-receiver.ts';
import {
  balanced,
  eventSender,
  hostsHeldBy,
  leaseOwners,
  PARTITIONS,
  startMember,
  tally,
  type Member,
} from './group-helpers.ts';

const HOSTS = Array.from({ length: 24 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const same = (a: Map<number, string>, b: Map<number, string>): boolean =>
  a.size === b.size && [...a].every(([p, m]) => b.get(p) === m);
const each = (hosts: string[], ...what: string[]): string[] => hosts.flatMap((h) => what.map((w) => `${w} ${h}`));

describe('collector group: failover, split brain and join with real processes', function () {
  this.timeout(120_000);
  const server = useNatsServer({ perTest: true });
  let nc: NatsConnection;
  let dir: string;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  beforeEach(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-group-'));
    hook = await webhookReceiver();
  });
  afterEach(async () => {
    await hook.close();
    await nc.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  const converge = (members: string[], what: string): Promise<void> =>
    until(async () => balanced(await leaseOwners(nc), members), what, 30_000);
  const heard = (lines: string[], what: string): Promise<void> =>
    until(() => lines.every((line) => hook.received.includes(line)), what, 30_000);
  const start = (name: string): Promise<Member> => startMember(dir, server.url, hook.url, name);
  const allOnce = (lines: string[]): void => {
    const counts = tally(hook.received);
    for (const line of lines) assert.equal(counts.get(line) ?? 0, 1, `${line} notified once`);
    assert.deepEqual(
      [...counts].filter(([, n]) => n > 1),
      [],
      'no notification twice',
    );
  };

  it('kill -9 of a member: survivors take its partitions, resume its `for` timers, lose/repeat nothing', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2', 'c3']) members.push(await start(name));
    await converge(['c1', 'c2', 'c3'], 'leases balanced over the three');
    const send = eventSender(nc);
    for (const host of HOSTS) await send(host, 'disk_used', 95);
    await heard(each(HOSTS, 'firing disk'), 'every disk alert');
    // `for` timers pending in every partition when the member dies; its checkpoint (200ms) must carry them over.
    for (const host of HOSTS) await send(host, 'load', 50);
    const victim = members.find((m) => m.name === 'c3')!;
    assert.ok(hostsHeldBy(HOSTS, await leaseOwners(nc), 'c3').length > 0, 'the victim evaluates some hosts');
    await killAndWait(victim.child, 'SIGKILL');
    // Events while nobody holds the victim's partitions: they wait in EVENTS.
    for (const host of HOSTS) await send(host, 'disk_used', 50);
    await converge(['c1', 'c2'], 'survivors hold every partition');
    // Their watchdog heartbeats claim every partition between them (what the gateway's watchdog checks).
    const claims = new Map<string, number[]>();
    const beats = nc.subscribe(new Subjects().allCollectorHeartbeats, {
      callback: (_err, msg) => {
        const beat = msg.json<{ member: string; partitions: { count: number; owned: number[] } }>();
        if (beat.partitions.count === PARTITIONS) claims.set(beat.member, beat.partitions.owned);
      },
    });
    const claimed = (): number[] => [...(claims.get('c1') ?? []), ...(claims.get('c2') ?? [])].sort((a, b) => a - b);
    await until(() => claimed().join() === [...Array(PARTITIONS).keys()].join(), 'heartbeats claiming all', 30_000);
    beats.unsubscribe();
    await heard(each(HOSTS, 'resolved disk'), 'every disk resolved');
    await heard(each(HOSTS, 'firing load'), 'every load fired after `for`');
    for (const host of HOSTS) await send(host, 'marker', 1);
    await heard(each(HOSTS, 'firing marker'), 'the markers');
    allOnce(each(HOSTS, 'firing disk', 'resolved disk', 'firing load', 'firing marker'));
    for (const host of HOSTS) {
      const order = hook.received.filter((l) => l.endsWith(` disk ${host}`));
      assert.deepEqual(order, [`firing disk ${host}`, `resolved disk ${host}`], `${host}: fired before resolved`);
    }
    for (const m of members) if (m !== victim) await killAndWait(m.child, 'SIGTERM');
  });

  it('split brain: a member paused past its lease resumes, finds its leases taken and notifies nothing', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2']) members.push(await start(name));
    await converge(['c1', 'c2'], 'leases balanced over the two');
    const send = eventSender(nc);
    const paused = members.find((m) => m.name === 'c2')!;
    const pausedHosts = hostsHeldBy(HOSTS, await leaseOwners(nc), 'c2');
    assert.ok(pausedHosts.length > 0);
    for (const host of pausedHosts) await send(host, 'load', 50);
    // Its checkpoints cover the pending `for` timers before the pause.
    const kv = await openBucket(nc, new Subjects(), 'checkpoints');
    const partitions = [...new Set(pausedHosts.map((h) => partitionOf(h, PARTITIONS)))];
    await until(
      async () => {
        const seqs = await Promise.all(
          partitions.map(async (p) => {
            return (await kv.get(`collector.p${p}.engine`))?.json<{ streamSeq: number }>().streamSeq ?? 0;
          }),
        );
        return seqs.every((s) => s >= pausedHosts.length);
      },
      'checkpoints covering the pending timers',
      30_000,
    );
    paused.child.kill('SIGSTOP');
    try {
      await converge(['c1'], "c1 took the paused member's partitions");
      await heard(each(pausedHosts, 'firing load'), 'c1 fired the resumed timers');
    } finally {
      paused.child.kill('SIGCONT');
    }
    const noticed = (): boolean => paused.output().includes('partition lease lost to another member');
    await until(noticed, 'the paused member to notice', 30_000);
    for (const host of HOSTS) await send(host, 'marker', 1);
    await heard(each(HOSTS, 'firing marker'), 'the markers');
    allOnce([...each(pausedHosts, 'firing load'), ...each(HOSTS, 'firing marker')]);
    for (const m of members) await killAndWait(m.child, 'SIGTERM');
  });

  it('a joining member takes its share, only from the others; nothing told twice in the handover', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2']) members.push(await start(name));
    await converge(['c1', 'c2'], 'two members converge');
    const before = await leaseOwners(nc);
    const send = eventSender(nc);
    for (const host of HOSTS) await send(host, 'disk_used', 95);
    await heard(each(HOSTS, 'firing disk'), 'every disk alert');
    members.push(await start('c3'));
    await converge(['c1', 'c2', 'c3'], 'three members converge');
    const after = await leaseOwners(nc);
    const moved = [...after].filter(([p, m]) => before.get(p) !== m);
    assert.ok(moved.length > 0, 'the newcomer got a share');
    assert.ok(
      moved.every(([, m]) => m === 'c3'),
      `only moves to the newcomer: ${JSON.stringify(moved)}`,
    );
    // Every member's status lists every partition's owner, whichever member is asked.
    await until(
      async () => {
        const response = await fetch(`${members[0]!.url}/api/partitions`);
        const listed = (await response.json()) as { partition: number; member: string }[];
        return same(new Map(listed.map((p) => [p.partition, p.member])), after);
      },
      'c1 to show the three owners',
      30_000,
    );
    // `offhook status` asks every member and puts their partitions' hosts and alerts together.
    // Each member's view of the others' leases is as of its last round: wait until every view has caught up.
    let status = await gatherStatus(nc, new Subjects());
    await until(
      async () => {
        status = await gatherStatus(nc, new Subjects());
        return status.collector?.partitions?.filter((p) => p.member !== null).length === PARTITIONS;
      },
      'offhook status to show an owner for every partition',
      30_000,
    );
    assert.deepEqual(
      status.collector?.hosts.map((h) => h.host),
      HOSTS,
      'every host, whichever member evaluates it',
    );
    assert.equal(status.collector?.firing.length, HOSTS.length, 'every firing alert');
    assert.ok(!status.problems.some((p) => /collector|partition/.test(p)), status.problems.join('; '));
    for (const host of HOSTS) await send(host, 'disk_used', 50);
    await heard(each(HOSTS, 'resolved disk'), 'every disk resolved');
    allOnce(each(HOSTS, 'firing disk', 'resolved disk'));
    for (const m of members) await killAndWait(m.child, 'SIGTERM');
  });
});
