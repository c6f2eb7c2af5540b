import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/**
 * The collector throughput bench's baseline as its own process, so it is measured the way the collector is (CPU of
 * the whole process from spawn, the same start-up subtracted): an ordered consumer over STREAM that only
 * JSON-parses each message, pulling the same 500 messages ahead as the collector's feeds (collector/intake/feeds.ts),
 * so the ratio compares the work per message and not the pull cadence. Prints "done <n>" once it has parsed TOTAL
 * messages (at once when TOTAL is 0: the idle run whose CPU is the start-up), then waits to be killed so the bench
 * reads its CPU from /proc like the collector's.
 * Usage: node --import tsx bench/bare-subscriber.ts NATS_URL STREAM TOTAL
 */
const [url, stream, totalText] = process.argv.slice(2);
const total = Number(totalText);
const nc = await connect({ servers: url! });
const consumer = await jetstream(nc).consumers.get(stream!, { deliver_policy: DeliverPolicy.All });
let seen = 0;
let points = 0;
const decoder = new TextDecoder();
const done = (): void => {
  process.stdout.write(`done ${seen} ${points}\n`);
};
if (total === 0) done();
await consumer.consume({
  max_messages: 500,
  callback: (msg) => {
    points += (JSON.parse(decoder.decode(msg.data)) as { metrics: unknown[] }).metrics.length;
    if (++seen === total) done();
  },
});
