import { Bucket, type KV } from '@nats-io/kv';

/**
 * The keys of a KV bucket matching `filter`, from the stream's subject list (STREAM.INFO with subjects_filter,
 * answered by the stream leader). `kv.keys()` builds an ordered consumer instead, and on a three-node cluster with
 * one node down that hung about one time in three for as long as the node stayed down (measured on nats-server
 * 2.9.10): a collector group could then not list its leases nor load a partition it took.
 * Deleted keys are listed too (their delete marker is a message): callers read each key and skip those.
 */
export async function listKeys(kv: KV, filter = '>'): Promise<string[]> {
  if (!(kv instanceof Bucket)) throw new Error('listKeys needs a KV bucket opened by @nats-io/kv');
  const prefix = `${kv.prefix}.`;
  const info = await kv.jsm.streams.info(kv.stream, { subjects_filter: `${prefix}${filter}` });
  return Object.keys(info.state.subjects ?? {})
    .map((subject) => subject.slice(prefix.length))
    .sort();
}

/** Like `listKeys`, without the deleted and purged keys (one read per key). */
export async function liveKeys(kv: KV, filter = '>'): Promise<string[]> {
  const live: string[] = [];
  for (const key of await listKeys(kv, filter)) {
    const entry = await kv.get(key);
    if (entry?.operation === 'PUT') live.push(key);
  }
  return live;
}
