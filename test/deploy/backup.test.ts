import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DeliverPolicy, jetstream, jetstreamManager, type JsMsg } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import {
  ensureStreams,
  jetstreamClient,
  openBucket,
  publishDurable,
  streamNames,
  Subjects,
} from '../../shared/index.ts';
import { restore } from '../../deploy/nats/backup.ts';
import { connectTo, useNatsServer } from '../helpers/nats-server.ts';
import * as wire from './lib/messages.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../deploy/nats/offhook-nats.mjs', import.meta.url));
const subjects = new Subjects('offhook');
const names = streamNames(subjects);

async function readAll(
  nc: NatsConnection,
  stream: string,
): Promise<{ seq: number; subject: string; data: string; msgId?: string }[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(stream);
  if (state.messages === 0) return [];
  const consumer = await jetstream(nc).consumers.get(stream, { deliver_policy: DeliverPolicy.All });
  const out: { seq: number; subject: string; data: string; msgId?: string }[] = [];
  const batch = await consumer.fetch({ max_messages: state.messages, expires: 5000 });
  for await (const msg of batch as AsyncIterable<JsMsg>) {
    out.push({
      seq: msg.seq,
      subject: msg.subject,
      data: msg.string(),
      ...(msg.headers?.get('Nats-Msg-Id') ? { msgId: msg.headers.get('Nats-Msg-Id') } : {}),
    });
    if (msg.seq === state.last_seq) break;
  }
  return out;
}

describe('deploy/nats backup and restore through the JetStream API', function () {
  this.timeout(60_000);
  let dir: string;
  const source = useNatsServer();
  const target = useNatsServer();
  const open: NatsConnection[] = [];

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'offhook-backup-'));
    const nc = await connectTo(source);
    open.push(nc);
    await ensureStreams(nc, subjects);
    const js = jetstreamClient(nc);
    for (let seq = 1; seq <= 40; seq++)
      await publishDurable(
        js,
        subjects.event(seq % 2 ? 'web1' : 'db1', 'resource'),
        wire.resourceSample(seq % 2 ? 'web1' : 'db1', seq),
      );
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(names.events, { seq: 6 }); // max_age trimmed the head: the stream starts at 6
    await jsm.streams.deleteMessage(names.events, 20); // and one message in the middle is gone
    await publishDurable(js, subjects.alert('critical', 'web1'), wire.alert('web1'));
    const ack = wire.ack('web1', 'alice');
    await publishDurable(js, subjects.ack(ack.fingerprint), ack);
    const alerts = await openBucket(nc, subjects, 'alerts');
    await alerts.put('aaaa000000000001', '{"status":"firing"}');
    await alerts.put('aaaa000000000001', '{"status":"resolved"}');
    await alerts.put('aaaa000000000002', '{"status":"firing"}');
    await alerts.delete('aaaa000000000002');
    await (await openBucket(nc, subjects, 'checkpoints')).put('rules', '{"seq":39}');
  });

  after(async function () {
    // Teardown: some connections were closed by the test already.
    await Promise.all(open.map((nc) => nc.close().catch(() => undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('backs up with the CLI and restores every stream with the same sequences, ids and KV state', async function () {
    const backupDir = join(dir, 'backup');
    const { stdout } = await run(CLI, ['backup', backupDir, '--server', source.url], { cwd: tmpdir() });
    assert.match(stdout, new RegExp(`${names.events}: 34 messages \\(seq 6-40\\)`));

    const restoredOut = await run(CLI, ['restore', backupDir, '--server', target.url], { cwd: tmpdir() });
    assert.match(restoredOut.stdout, new RegExp(`${names.events}: 34 messages restored`));

    const [from, to] = [await connectTo(source), await connectTo(target)];
    open.push(from, to);
    for (const stream of [names.events, names.alerts, names.acks]) {
      assert.deepEqual(await readAll(to, stream), await readAll(from, stream), `${stream} differs after restore`);
    }
    const events = await readAll(to, names.events);
    assert.equal(events[0]?.seq, 6);
    assert.ok(!events.some((e) => e.seq === 20) && events.some((e) => e.seq === 21), 'the deleted message stays a gap');
    assert.ok(
      events.every((e) => e.msgId),
      'Nats-Msg-Id headers survive, so agent retries after a restore still dedupe',
    );

    const alerts = await openBucket(to, subjects, 'alerts');
    assert.equal((await alerts.get('aaaa000000000001'))?.string(), '{"status":"resolved"}');
    const deleted = await alerts.get('aaaa000000000002');
    assert.ok(deleted === null || deleted.operation === 'DEL', 'a deleted key stays deleted');
    assert.equal((await (await openBucket(to, subjects, 'checkpoints')).get('rules'))?.string(), '{"seq":39}');

    // ensureStreams on the restored server (the collector starting) accepts what the restore made.
    await ensureStreams(to, subjects);
    assert.equal((await (await jetstreamManager(to)).streams.info(names.events)).state.messages, 34);
  });

  it('refuses to restore over streams that hold messages', async function () {
    const nc = await connectTo(target);
    open.push(nc);
    await assert.rejects(
      restore(nc, join(dir, 'backup')),
      new RegExp(`stream ${names.events} already holds 34 messages; restore into an empty server`),
    );
  });

  it('ensure-streams refuses a replica count JetStream cannot use', async function () {
    await assert.rejects(
      run(CLI, ['ensure-streams', '--replicas', '2', '--server', target.url]),
      (err: { stderr: string }) => {
        assert.match(err.stderr, /--replicas: expected 1, 3 or 5, got "2"/);
        return true;
      },
    );
  });

  it('says so when the directory is not a backup', async function () {
    const nc = await connectTo(target);
    open.push(nc);
    await assert.rejects(restore(nc, dir), /manifest\.json not found: not an offhook backup directory/);
  });
});
