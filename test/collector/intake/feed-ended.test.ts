import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import type { NatsConnection } from '@nats-io/transport-node';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { until } from '../../helpers/wait.ts';
import { useStreamFeeds } from './feed-harness.ts';

/**
 * A consume's inbox is `<inbox prefix>.<nuid>.<serial>`; the client's request inbox is subscribed as `<...>.<nuid>.*`,
 * which these literal denials do not cover: JetStream API requests keep working while no consume can subscribe.
 */
const DENY_CONSUME = Array.from({ length: 9 }, (_, i) => `"_INBOX.*.${i + 1}"`).join(', ');

function authorization(dir: string, denyConsume: boolean): string {
  const deny = denyConsume ? `, deny: [${DENY_CONSUME}]` : '';
  const permissions = `{ subscribe: { allow: [">"]${deny} } }`;
  // JetStream from the file, not the command line (-js -sd): a reload of a file that does not say so turns it off or
  // moves its store.
  const js = `jetstream { store_dir: ${JSON.stringify(join(dir, 'store'))} }`;
  const user = `{ user: feed, password: feed, permissions: ${permissions} }`;
  return `${js}\naccounts { FEED: { jetstream: enabled, users: [ ${user} ] } }\n`;
}

/** The connection's next permission error, as the client reports it to every status listener. */
async function permissionViolation(nc: NatsConnection): Promise<void> {
  for await (const status of nc.status()) {
    if (status.type === 'error' && /Permissions Violation/.test(String(status.error))) return;
  }
}

/**
 * The client ends a consume for good when the server removes its subscription (here: a permission taken away by a
 * config reload, the way an operator's change would); its status stream ends with it, so no missed heartbeat says so,
 * and the connection never reconnects. The feed must open itself afresh once it can, from after what it delivered.
 */
describe('a stream feed whose consume the client ended', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(join(tmpdir(), 'offhook-feed-ended-'));
  const config = join(dir, 'nats.conf');
  writeFileSync(config, authorization(dir, false)); // read by the server as it starts
  const server = useNatsServer({ configFile: config, jetstream: false });
  const reload = (denyConsume: boolean): void => {
    writeFileSync(config, authorization(dir, denyConsume));
    process.kill(server.pid!, 'SIGHUP'); // our own child, by its PID: nats-server rereads its config
  };

  const feeds = useStreamFeeds(server, { user: 'feed', pass: 'feed' });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is opened afresh after the last sequence it delivered', async () => {
    const { send, read } = await feeds.events('feedended');
    const seen: number[] = [];
    await send(1);
    await read((msg) => void seen.push(msg.seq));
    await until(() => seen.length === 1, 'the first message');
    const violated = permissionViolation(feeds.nc);
    reload(true);
    await violated; // the server removed the consume's subscription: the client has ended that consume
    reload(false);
    // A request right after a reload can go unanswered (seen: a 5 s publish timeout); a retry is deduplicated.
    await until(
      () =>
        send(2).then(
          () => true,
          () => false,
        ),
      'a publish after the reload',
    );
    await send(3);
    await until(() => seen.length === 3, 'the messages sent after the consume ended', 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: seen ${seen}`);
    });
    assert.deepEqual(seen, [1, 2, 3], 'each once, in order');
  });
});
