import assert from 'node:assert/strict';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SequenceCounter } from '../../agent/core/sequence.ts';
import { tempDir } from './helpers.ts';

describe('agent sequence epoch', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('a fresh state dir starts an epoch at seq 1; a restart keeps the epoch and the numbering', () => {
    const first = new SequenceCounter(dir.path);
    assert.ok(existsSync(join(dir.path, 'epoch')));
    assert.equal(first.next(), 1);
    assert.equal(first.next(), 2);
    first.flush();
    const again = new SequenceCounter(dir.path, 5);
    assert.equal(again.epoch, first.epoch);
    assert.equal(again.next(), 6, 'the spool holds seq 5 of this epoch');
  });

  it('a state dir from an agent before epochs (sequence, no epoch file) starts a new epoch at 1', () => {
    unlinkSync(join(dir.path, 'epoch'));
    writeFileSync(join(dir.path, 'sequence'), '5000000\n');
    const upgraded = new SequenceCounter(dir.path, 5_000_000);
    assert.match(upgraded.epoch, /^[A-Za-z0-9_-]{1,64}$/);
    assert.equal(upgraded.next(), 1);
    assert.equal(readFileSync(join(dir.path, 'epoch'), 'utf8').trim(), upgraded.epoch);
  });

  it('the number is rewritten in place at a fixed width; a shorter or longer older file is replaced whole', () => {
    const file = join(dir.path, 'sequence');
    for (const old of ['41\n', `41${' '.repeat(40)}\n`]) {
      const epoch = new SequenceCounter(dir.path).epoch;
      writeFileSync(file, old);
      const counter = new SequenceCounter(dir.path);
      assert.equal(counter.epoch, epoch);
      assert.equal(counter.next(), 42);
      counter.flush();
      assert.equal(readFileSync(file, 'utf8'), `42${' '.repeat(14)}\n`);
      counter.next();
      counter.flush();
      assert.equal(readFileSync(file, 'utf8'), `43${' '.repeat(14)}\n`);
      assert.equal(new SequenceCounter(dir.path).next(), 44, 'a restart reads the padded number');
    }
  });
});
