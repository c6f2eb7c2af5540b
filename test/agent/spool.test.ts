import assert from 'node:assert/strict';
import { appendFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DiskSpool } from '../../agent/index.ts';
import { tempDir } from './helpers.ts';

const event = (seq: number, pad = 0) => ({
  subject: 'offhook.v1.events.h.check',
  message: { id: `id-${seq}`, seq, pad: 'x'.repeat(pad) },
});

function drain(spool: DiskSpool): number[] {
  const seqs: number[] = [];
  for (let e = spool.peek(); e; e = spool.peek()) {
    seqs.push(e.message.seq);
    spool.shift();
  }
  return seqs;
}

describe('agent disk spool', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('drains in order, also while being appended to, and leaves no files behind', () => {
    const path = join(dir.path, 'order');
    const spool = new DiskSpool(path, 1024 * 1024);
    for (let i = 1; i <= 5; i++) spool.append(event(i));
    assert.equal(spool.depth, 5);
    assert.equal(spool.peek()!.message.seq, 1);
    spool.shift();
    spool.append(event(6));
    assert.deepEqual(drain(spool), [2, 3, 4, 5, 6]);
    assert.equal(spool.depth, 0);
    assert.deepEqual(readdirSync(path), []);
  });

  it('survives a restart: depth, highest seq and order come back from disk; a torn line is skipped', () => {
    const path = join(dir.path, 'restart');
    const first = new DiskSpool(path, 1024 * 1024);
    for (let i = 10; i <= 14; i++) first.append(event(i));
    appendFileSync(join(path, readdirSync(path)[0]!), '{"subject":"offhook.v1.ev');
    const second = new DiskSpool(path, 1024 * 1024);
    assert.equal(second.maxSeq(), 14);
    assert.deepEqual(drain(second), [10, 11, 12, 13, 14]);
    assert.equal(second.corruptLines, 1);
  });

  it('when full drops the oldest events first and reports how many', () => {
    const path = join(dir.path, 'full');
    let dropped = 0;
    const spool = new DiskSpool(path, 64 * 1024, (n) => (dropped += n));
    for (let i = 1; i <= 400; i++) spool.append(event(i, 500));
    assert.ok(spool.bytes <= 64 * 1024, `spool holds ${spool.bytes} bytes`);
    const left = drain(spool);
    assert.equal(left.length + dropped, 400, 'every event is either kept or counted as dropped');
    assert.ok(dropped > 0);
    assert.deepEqual(
      left,
      Array.from({ length: left.length }, (_, i) => 400 - left.length + 1 + i),
      'the newest survive, in order',
    );
  });
});
