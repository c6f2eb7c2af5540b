import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { partitionOf, preferredOwner } from '../../collector/group/index.ts';
import { openBucket, Subjects } from '../../shared/index.ts';
import { connectTo, startNatsServer, type EmbeddedNatsServer } from '../helpers/nats-server.ts';
import { killAndWait } from '../helpers/processes.ts';
import { until } from '../helpers/wait.ts';
import { webhookReceiver } from '../helpers/webhook-receiver.ts';
import { eventSender, leaseOwners, PARTITIONS, startMember, tally, type Member } from './group-helpers.ts';

const HOSTS = Array.from({ length: 24 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);
const expected = (members: string[]): Map<number, string> =>
  new Map(Array.from({ length: PARTITIONS }, (_, p) => [p, preferredOwner(p, members)!]));
const same = (a: Map<number, string>, b: Map<number, string>): boolean =>
  a.size === b.size && [...a].every(([p, m]) => b.get(p) === m);

describe('collector group: failover, split brain and join with real processes', function () {
  this.timeout(120_000);
  let server: EmbeddedNatsServer;
  let nc: NatsConnection;
  let dir: string;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  beforeEach(async () => {
    server = await startNatsServer();
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-group-'));
    hook = await webhookReceiver();
  });
  afterEach(async () => {
    await hook.close();
    await nc.drain();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const allOnce = (received: string[], lines: string[]): void => {
    const counts = tally(received);
    for (const line of lines) assert.equal(counts.get(line) ?? 0, 1, `${line} notified once (got ${counts.get(line) ?? 0})`);
    const dups = [...counts].filter(([, n]) => n > 1);
    assert.deepEqual(dups, [], 'no notification twice');
  };

  it('kill -9 of a member: survivors take its partitions, resume its `for` timers, lose and repeat nothing', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2', 'c3']) members.push(await startMember(dir, server.url, hook.url, name));
    await until(async () => same(await leaseOwners(nc), expected(['c1', 'c2', 'c3'])), 'leases as the hash wants', 30_000);
    const send = eventSender(nc);
    for (const host of HOSTS) await send(host, 'disk_used', 95);
    await until(() => HOSTS.every((h) => hook.received.includes(`firing disk ${h}`)), 'every disk alert', 30_000);
    // `for` timers pending in every partition when the member dies; its checkpoint (200ms) must carry them over.
    for (const host of HOSTS) await send(host, 'load', 50);
    const victim = members.find((m) => m.name === 'c3')!;
    const victimHosts = HOSTS.filter((h) => expected(['c1', 'c2', 'c3']).get(partitionOf(h, PARTITIONS)) === 'c3');
    assert.ok(victimHosts.length > 0, 'the victim evaluates some hosts');
    await killAndWait(victim.child, 'SIGKILL');
    // Events while nobody holds the victim's partitions: they wait in EVENTS.
    for (const host of HOSTS) await send(host, 'disk_used', 50);
    await until(async () => same(await leaseOwners(nc), expected(['c1', 'c2'])), 'survivors hold every partition', 30_000);
    await until(() => HOSTS.every((h) => hook.received.includes(`resolved disk ${h}`)), 'every disk resolved', 30_000);
    await until(() => HOSTS.every((h) => hook.received.includes(`firing load ${h}`)), 'every load fired after `for`', 30_000);
    for (const host of HOSTS) await send(host, 'marker', 1);
    await until(() => HOSTS.every((h) => hook.received.includes(`firing marker ${h}`)), 'the markers', 30_000);
    allOnce(hook.received, HOSTS.flatMap((h) => [`firing disk ${h}`, `resolved disk ${h}`, `firing load ${h}`, `firing marker ${h}`]));
    for (const host of HOSTS) {
      const order = hook.received.filter((l) => l.endsWith(` disk ${host}`));
      assert.deepEqual(order, [`firing disk ${host}`, `resolved disk ${host}`], `${host}: fired before resolved`);
    }
    for (const m of members) if (m !== victim) await killAndWait(m.child, 'SIGTERM');
  });

  it('split brain: a member paused past its lease resumes, finds its leases taken and notifies nothing', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2']) members.push(await startMember(dir, server.url, hook.url, name));
    await until(async () => same(await leaseOwners(nc), expected(['c1', 'c2'])), 'leases as the hash wants', 30_000);
    const send = eventSender(nc);
    const paused = members.find((m) => m.name === 'c2')!;
    const pausedHosts = HOSTS.filter((h) => expected(['c1', 'c2']).get(partitionOf(h, PARTITIONS)) === 'c2');
    assert.ok(pausedHosts.length > 0);
    for (const host of pausedHosts) await send(host, 'load', 50);
    // Its checkpoint covers the pending timers (the lease carries the position it read to) before the pause.
    await until(async () => {
      const kv = await openBucket(nc, new Subjects(), 'checkpoints');
      const parts = [...new Set(pausedHosts.map((h) => partitionOf(h, PARTITIONS)))];
      const seqs = await Promise.all(parts.map(async (p) => (await kv.get(`collector.p${p}.engine`))?.json<{ streamSeq: number }>().streamSeq ?? 0));
      return seqs.every((s) => s >= pausedHosts.length);
    }, 'checkpoints covering the pending timers', 30_000);
    paused.child.kill('SIGSTOP');
    try {
      await until(async () => same(await leaseOwners(nc), expected(['c1'])), 'c1 took the paused member\'s partitions', 30_000);
      await until(() => pausedHosts.every((h) => hook.received.includes(`firing load ${h}`)), 'c1 fired the resumed timers', 30_000);
    } finally {
      paused.child.kill('SIGCONT');
    }
    await until(() => paused.output().includes('partition lease lost to another member'), 'the paused member to notice', 30_000);
    for (const host of HOSTS) await send(host, 'marker', 1);
    await until(() => HOSTS.every((h) => hook.received.includes(`firing marker ${h}`)), 'the markers', 30_000);
    allOnce(hook.received, [...pausedHosts.map((h) => `firing load ${h}`), ...HOSTS.map((h) => `firing marker ${h}`)]);
    for (const m of members) await killAndWait(m.child, 'SIGTERM');
  });

  it('a joining member takes only the partitions the hash gives it; nothing is told twice across the handover', async () => {
    const members: Member[] = [];
    for (const name of ['c1', 'c2']) members.push(await startMember(dir, server.url, hook.url, name));
    await until(async () => same(await leaseOwners(nc), expected(['c1', 'c2'])), 'two members converge', 30_000);
    const before = await leaseOwners(nc);
    const send = eventSender(nc);
    for (const host of HOSTS) await send(host, 'disk_used', 95);
    await until(() => HOSTS.every((h) => hook.received.includes(`firing disk ${h}`)), 'every disk alert', 30_000);
    members.push(await startMember(dir, server.url, hook.url, 'c3'));
    await until(async () => same(await leaseOwners(nc), expected(['c1', 'c2', 'c3'])), 'three members converge', 30_000);
    const after = await leaseOwners(nc);
    const moved = [...after].filter(([p, m]) => before.get(p) !== m);
    assert.ok(moved.length > 0, 'the newcomer got a share');
    assert.ok(moved.every(([, m]) => m === 'c3'), `only moves to the newcomer: ${JSON.stringify(moved)}`);
    // Every member's status lists every partition's owner, whichever member is asked.
    await until(async () => {
      const listed = (await (await fetch(`${members[0]!.url}/api/partitions`)).json()) as { partition: number; member: string }[];
      return same(new Map(listed.map((p) => [p.partition, p.member])), after);
    }, 'c1 to show the three owners', 30_000);
    for (const host of HOSTS) await send(host, 'disk_used', 50);
    await until(() => HOSTS.every((h) => hook.received.includes(`resolved disk ${h}`)), 'every disk resolved', 30_000);
    allOnce(hook.received, HOSTS.flatMap((h) => [`firing disk ${h}`, `resolved disk ${h}`]));
    for (const m of members) await killAndWait(m.child, 'SIGTERM');
  });
});
