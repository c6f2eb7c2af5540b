import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NatsConnection } from '@nats-io/transport-node';
import { NotificationLog, type PendingNotification } from '../../../collector/notify/nflog.ts';
import { openBucket, Subjects } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { killAndWait } from '../../../deploy/lib/processes.ts';
import { until } from '../../helpers/wait.ts';
import { webhookReceiver } from '../../../deploy/lib/webhook-receiver.ts';
import { makeAlert } from '../notify/helpers.ts';
import { balanced, hostsHeldBy, leaseOwners, startMember, tally, type Member } from './group-helpers.ts';

const HOSTS = Array.from({ length: 24 }, (_, i) => `h${String(i + 1).padStart(2, '0')}`);

describe("collector group: pending notifications are resumed by their partition's holder", function () {
  this.timeout(120_000);
  const server = useNatsServer({ perTest: true });
  let nc: NatsConnection;
  let dir: string;
  let hook: Awaited<ReturnType<typeof webhookReceiver>>;
  const members: Member[] = [];
  beforeEach(async () => {
    nc = await connectTo(server);
    dir = mkdtempSync(join(tmpdir(), 'offhook-group-pending-'));
    hook = await webhookReceiver();
  });
  afterEach(async () => {
    for (const m of members.splice(0)) if (m.child.exitCode === null) await killAndWait(m.child, 'SIGKILL');
    await hook.close();
    await nc.drain();
    rmSync(dir, { recursive: true, force: true });
  });

  const converge = (names: string[], what: string): Promise<void> =>
    until(async () => balanced(await leaseOwners(nc), names), what, 30_000);
  /** Every partition `member`'s lease holds is loaded by its current process (its pending entries resumed). */
  const loaded = (member: Member): Promise<void> =>
    until(
      async () => {
        const owners = await leaseOwners(nc);
        const restored = new Set(
          member
            .output()
            .split('\n')
            .filter((l) => l.includes('"collector state restored"'))
            .map((l) => (JSON.parse(l) as { partition?: number }).partition),
        );
        return [...owners].every(([p, m]) => m !== member.name || restored.has(p));
      },
      `${member.name} loaded its partitions`,
      30_000,
    );
  const start = async (name: string): Promise<Member> => {
    // A lease long enough for a restarted member to come back before its leases go stale: it then takes its own
    // partitions back rather than the share the survivor would hand it (which could hold the other member's entry).
    const member = await startMember(dir, server.url, hook.url, name, { leaseTimeout: '10s' });
    members.push(member);
    return member;
  };

  it("a restart never re-sends a live member's pending notification; the partition's next holder does", async () => {
    const a = await start('a');
    const b = await start('b');
    await converge(['a', 'b'], 'leases as the hash wants');
    await loaded(b);
    const kv = await openBucket(nc, new Subjects(), 'nflog');
    const pend = async (host: string, rule: string, member: string): Promise<string> => {
      const alert = makeAlert({ host, rule, labels: {} });
      const key = NotificationLog.key(alert, 'hook', 'firing');
      const pending: PendingNotification = {
        receiver: 'hook',
        reason: 'firing',
        alert,
        acceptedAt: Date.now(),
        member,
        run: `${member}-earlier-run`,
      };
      await kv.put(`pending.${key}`, JSON.stringify(pending));
      return key;
    };
    // b's, in b's partition: b is live, so only b (or whoever takes the partition once b is gone) may send it.
    const owners = await leaseOwners(nc);
    const orphanHost = hostsHeldBy(HOSTS, owners, 'b')[0]!;
    const orphanKey = await pend(orphanHost, 'orphan', 'b');
    // a's own from its previous run, written after the orphan so a resume of both would queue the orphan first.
    const ownHost = hostsHeldBy(HOSTS, owners, 'a')[0]!;
    await pend(ownHost, 'own', 'a');

    await killAndWait(a.child, 'SIGKILL');
    await start('a');
    await until(() => hook.received.includes(`firing own ${ownHost}`), "a resumed its own earlier run's entry", 30_000);
    assert.ok(!hook.received.includes(`firing orphan ${orphanHost}`), "a restart leaves a live member's entry alone");
    assert.equal((await kv.get(`pending.${orphanKey}`))?.operation, 'PUT', 'still pending');

    await killAndWait(b.child, 'SIGKILL');
    await converge(['a'], 'a holds every partition once b is gone');
    await until(() => hook.received.includes(`firing orphan ${orphanHost}`), 'the new holder resumed it', 30_000);
    await until(async () => (await kv.get(`pending.${orphanKey}`))?.operation === 'DEL', 'delivered', 30_000);
    // b back under its id takes its partition again: the entry is delivered and logged, nothing is resumed twice.
    await start('b');
    await converge(['a', 'b'], 'b took its partitions back');
    const counts = tally(hook.received);
    assert.equal(counts.get(`firing orphan ${orphanHost}`), 1, 'the orphan notified once');
    assert.equal(counts.get(`firing own ${ownHost}`), 1, "a's own notified once");
  });
});
