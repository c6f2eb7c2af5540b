import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { CollectorGroup, GroupConfig } from '../../../collector/group/index.ts';
import { ensureStreams, openBucket, silentLogger, Subjects, systemClock } from '../../../shared/index.ts';
import { connectTo, useNatsServer } from '../../helpers/nats-server.ts';
import { untilPolled } from '../../helpers/wait.ts';

/**
 * A partition that cannot be loaded is given up; if NATS is gone at that moment its lease cannot be released either.
 * That failed release used to end the round in the middle of loading: the partitions taken after it stayed held, their
 * leases renewed every round, but were never loaded nor read, so nobody evaluated their hosts (in the cluster test, a
 * NATS node killed while a member took partitions: their markers fired 75 s later, when another member happened to
 * take them). Real nats-server, stopped while the first partition loads; the handler is the member's own callbacks.
 */
describe('collector group: a partition given up while NATS is down leaves no partition held but unloaded', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let nc: NatsConnection;
  let group: CollectorGroup | undefined;

  before(async () => {
    nc = await connectTo(server, { reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  });
  after(async () => {
    await group?.stop().catch(() => undefined); // NATS may be the reason it cannot hand over; nothing to check here
    await nc?.close();
  });

  it('every partition it holds is loaded once NATS is back', async () => {
    const subjects = new Subjects('gload');
    await ensureStreams(nc, subjects);
    const kv = await openBucket(nc, subjects, 'checkpoints');
    const loaded = new Set<number>();
    let failFirst = true;
    group = new CollectorGroup(kv, {
      member: 'solo',
      config: GroupConfig.parse({ partitions: 4, lease_timeout: '3s' }),
      clock: systemClock,
      logger: silentLogger(),
      handler: {
        prepare: async () => undefined,
        acquire: async (partition) => {
          if (failFirst) {
            failFirst = false;
            // NATS goes away while the first partition loads: it is given up, and its release fails too.
            await server.stop();
            throw new Error(`cannot load partition ${partition}: NATS stopped`);
          }
          loaded.add(partition);
        },
        acquired: async () => undefined,
        release: async (partition) => void loaded.delete(partition),
        lost: (partition) => void loaded.delete(partition),
        position: () => 0,
      },
    });
    await group.start();
    await server.start();
    const unloaded = (): number[] => group!.claim().owned.filter((p) => !loaded.has(p));
    await untilPolled(
      () => group!.claim().owned.length === 4 && unloaded().length === 0,
      'every partition held and loaded',
      30_000,
      100,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: held ${group!.claim().owned}, held but never loaded ${unloaded()}`);
    });
    assert.deepEqual([...loaded].sort(), [0, 1, 2, 3]);
  });
});
