import { closeSync, fstatSync, openSync, readSync, watch } from 'node:fs';
import { Agent, request } from 'node:http';
import { dirname } from 'node:path';
import { DeliverPolicy, jetstream } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect } from '@nats-io/transport-node';

/**
 * The log path's hops with nothing done at them, as two bare processes (no schema, no rules, no state): the floor
 * under offhook's line → webhook on this machine and server (bench/e2e-log-floor.ts runs it).
 *   reader URL STREAM_SUBJECT FILE: inotify on the file's directory, read what was appended, JetStream publish
 *     (message id, awaited PubAck) of each line that says FATAL.
 *   committer URL STREAM BUCKET WEBHOOK: ordered pull consumer on STREAM; per message a KV put beside a KV get, both
 *     awaited (persistence before notify, and the notification-log lookup), then a webhook POST over a kept-alive
 *     node:http connection, as the collector's dispatcher sends it.
 * Each prints "ready" once it is set up.
 */
const [role, url, ...rest] = process.argv.slice(2);
const nc = await connect({ servers: url! });

if (role === 'reader') {
  const [subject, file] = rest as [string, string];
  const js = jetstream(nc);
  const fd = openSync(file, 'r');
  let position = fstatSync(fd).size;
  let pending = '';
  const buffer = Buffer.allocUnsafe(64 * 1024);
  const readNew = (): void => {
    for (;;) {
      const n = readSync(fd, buffer, 0, buffer.length, position);
      if (n === 0) return;
      position += n;
      pending += buffer.toString('utf8', 0, n);
      let nl = pending.indexOf('\n');
      while (nl >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        const trial = /FATAL trial=(\d+)/.exec(line)?.[1];
        if (trial !== undefined) void js.publish(subject, JSON.stringify({ trial, line }), { msgID: `floor-${trial}` });
        nl = pending.indexOf('\n');
      }
    }
  };
  watch(dirname(file), readNew);
  process.on('SIGTERM', () => {
    closeSync(fd);
    process.exit(0);
  });
} else if (role === 'committer') {
  const [stream, bucket, webhook] = rest as [string, string, string];
  const js = jetstream(nc);
  const kv = await new Kvm(nc).create(bucket);
  const agent = new Agent({ keepAlive: true });
  const post = (body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const headers = { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)) };
      const req = request(webhook, { method: 'POST', agent, headers }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
      req.end(body);
    });
  const consumer = await js.consumers.get(stream, { deliver_policy: DeliverPolicy.New });
  await consumer.consume({
    callback: (msg) => {
      const { trial } = msg.json<{ trial: string }>();
      const record = msg.string();
      void Promise.all([kv.put(`record.${trial}`, record), kv.get(`lookup.${trial}`)])
        .then(() => post(JSON.stringify({ alerts: [{ status: 'firing', labels: { alertname: 'floor', trial } }] })))
        .catch((err: Error) => process.stderr.write(`committer: ${err.message}\n`));
    },
  });
  process.on('SIGTERM', () => process.exit(0));
} else {
  throw new Error(`log-relay: unknown role ${role}; use reader or committer`);
}
await nc.flush();
process.stdout.write('ready\n');
