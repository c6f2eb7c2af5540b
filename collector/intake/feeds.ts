import { DeliverPolicy, jetstream, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection, Status } from '@nats-io/transport-node';
import type { Logger } from '../../shared/index.ts';

const DEFAULT_PULL_EXPIRY_MS = 5000;
const MAX_RETRY_MS = 2000;
/**
 * Messages pulled ahead. The client's default (100, topped up at 75) sends a pull request every ~25 messages: while
 * replaying, those socket writes were 11 % of the collector's CPU (bench/throughput-profile.ts). 500 pulls every
 * ~125 and buffers ~2 MB of resource samples (128 MiB if every message had the 256 KiB maximum).
 */
const PULL_BATCH = 500;

/** Waits between reopen attempts: 100 ms, 200 ms, 400 ms… capped at MAX_RETRY_MS; `n` counts from 0. */
const retryDelayMs = (n: number): number => Math.min(MAX_RETRY_MS, 100 * 2 ** n);
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface FeedOptions {
  logger: Logger;
  /** How long one pull waits for messages. Recovery after a reconnect does not wait for it. */
  expiresMs?: number;
}

export interface StreamFeed {
  stop(): void;
}

/**
 * Reads a stream in order from `afterSeq + 1` with an ordered consumer: no per-message acks,
 * the collector's checkpoint is the position. Each stream sequence reaches `onMessage` once and
 * in order. On every reconnect the feed is opened afresh after the last sequence it delivered:
 * left to itself, the client retries a consumer it cannot look up only after a whole pull expiry,
 * and gives up on a later reconnect while it waits.
 */
export async function readStreamFrom(
  nc: NatsConnection,
  stream: string,
  afterSeq: number,
  options: FeedOptions,
  onMessage: (msg: JsMsg) => void,
): Promise<StreamFeed> {
  const js = jetstream(nc);
  const log = options.logger.child({ stream });
  let lastSeq = afterSeq;
  let generation = 0;
  let current: ConsumerMessages | undefined;
  let stopped = false;
  let lastDelivery = Date.now();
  // Consumes the client ended with nothing delivered since: a rejection that persists (a subscribe permission taken
  // away) ended each fresh consume at once, ~500 reopens (consumer creates) a second, each logged.
  let endedInARow = 0;

  const open = async (mine: number): Promise<void> => {
    const from = lastSeq;
    const consumer = await js.consumers.get(
      stream,
      from > 0
        ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from + 1 }
        : { deliver_policy: DeliverPolicy.All },
    );
    const messages = await consumer.consume({
      max_messages: PULL_BATCH,
      expires: options.expiresMs ?? DEFAULT_PULL_EXPIRY_MS,
      callback: (msg) => {
        // A replaced feed may still hand over what it had buffered; its successor delivers the same sequences.
        if (mine !== generation || msg.seq <= lastSeq) return;
        lastSeq = msg.seq;
        lastDelivery = Date.now();
        endedInARow = 0;
        // The client stops a consume whose callback throws, silently for good: one bad message would end the feed.
        try {
          onMessage(msg);
        } catch (err) {
          log.error({ err, seq: msg.seq }, 'stream feed handler failed on a message; passed over');
        }
      },
    });
    if (mine !== generation || stopped) void messages.stop();
    else {
      current = messages;
      void watchHeartbeats(messages, mine);
      void watchClosed(messages, mine);
    }
  };

  /**
   * The client ends a consume for good on some errors (a rejected pull, a subscription error, a consumer it could not
   * recreate 30 times before a first message); its status stream ends with it, so no missed heartbeat would tell.
   */
  const watchClosed = async (messages: ConsumerMessages, mine: number): Promise<void> => {
    const err = await messages.closed();
    if (stopped || mine !== generation) return;
    endedInARow++;
    if (endedInARow === 1 || endedInARow % 20 === 0)
      log.error({ err, afterSeq: lastSeq, endedInARow }, 'stream feed ended by the client; opening it afresh');
    void reopen(endedInARow === 1 ? 0 : retryDelayMs(endedInARow - 1));
  };

  /**
   * An ordered consumer lives on one node. When that node dies without this connection noticing (it was connected
   * to another node), the client's own recovery was seen to stall the feed for good on a three-node cluster: missed
   * idle heartbeats open a fresh consumer after the last sequence delivered.
   */
  const watchHeartbeats = async (messages: ConsumerMessages, mine: number): Promise<void> => {
    for await (const status of messages.status()) {
      if (stopped || mine !== generation) return;
      if (status.type !== 'heartbeats_missed') continue;
      // Messages still arriving: the consumer is alive and this process was only busy (or paused) past the
      // heartbeat timer. Reopening then would restart a feed that is catching up, again and again under load.
      if (Date.now() - lastDelivery < (options.expiresMs ?? DEFAULT_PULL_EXPIRY_MS)) continue;
      log.warn({ missed: status.count, afterSeq: lastSeq }, 'stream feed heartbeats missed; opening it afresh');
      void reopen();
      return;
    }
  };

  const reopen = async (delayMs = 0): Promise<void> => {
    const mine = ++generation;
    // Stopped before the start position is read: nothing the old feed delivers from here on counts.
    void current?.stop();
    current = undefined;
    if (delayMs > 0) await pause(delayMs);
    for (let attempt = 0; !stopped && mine === generation; attempt++) {
      try {
        await open(mine);
        log.info({ afterSeq: lastSeq }, 'stream feed reopened');
        return;
      } catch (err) {
        if (attempt === 0 || attempt % 20 === 0)
          log.warn({ err, attempt }, 'cannot reopen the stream feed yet; retrying');
        await pause(retryDelayMs(attempt));
      }
    }
  };

  try {
    await open(generation);
  } catch (err) {
    // No consumer yet (a JetStream leader election, a node just lost): keep trying in the background rather than
    // leave the caller without a reader it would never open again.
    log.warn({ err }, 'cannot open the stream feed yet; retrying');
    void reopen();
  }
  // Stopped with the feed: left to end at the next connection event, one listener stayed behind per feed ever opened
  // (a group member opens two per round that takes partitions).
  const statuses = nc.status() as AsyncIterable<Status> & { stop?: () => void };
  void (async () => {
    for await (const status of statuses) {
      if (stopped) return;
      if (status.type === 'reconnect') void reopen();
    }
  })();
  return {
    stop() {
      stopped = true;
      statuses.stop?.();
      generation++;
      void current?.stop();
      current = undefined;
    },
  };
}
