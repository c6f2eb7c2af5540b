import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InPlaceFile } from '../../agent/core/in-place-file.ts';
import { tempDir } from './helpers.ts';

describe('agent state files saved in place (real files)', () => {
  let dir: ReturnType<typeof tempDir>;
  beforeEach(() => {
    dir = tempDir();
  });
  afterEach(() => {
    dir.remove();
  });

  it('every save is the same length at the same inode; what an older writer left, longer or shorter, is gone', () => {
    for (const old of ['{"pos":1}', `{"pos":1}${' '.repeat(100)}trailing`]) {
      const path = join(dir.path, 'state.json');
      writeFileSync(path, old);
      const file = new InPlaceFile(path, 20);
      const { ino } = statSync(path);
      file.write(JSON.stringify({ pos: 123456 }));
      assert.equal(readFileSync(path, 'utf8'), `{"pos":123456}${' '.repeat(6)}\n`);
      file.write(JSON.stringify({ pos: 7 }));
      assert.equal(readFileSync(path, 'utf8'), `{"pos":7}${' '.repeat(11)}\n`);
      assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { pos: 7 });
      assert.equal(statSync(path).ino, ino, 'written over, not replaced');
    }
  });

  it('a text wider than the width or than one disk sector is saved through a rename; later saves follow it', () => {
    const path = join(dir.path, 'state.json');
    const file = new InPlaceFile(path, 10);
    file.write('short');
    const before = statSync(path).ino;
    file.write('much longer than ten');
    assert.equal(readFileSync(path, 'utf8'), 'much longer than ten\n');
    assert.notEqual(statSync(path).ino, before);
    file.write('again');
    assert.equal(readFileSync(path, 'utf8'), `again${' '.repeat(5)}\n`, 'the renamed-in file is the one written');

    const wide = new InPlaceFile(join(dir.path, 'wide.json'), 600);
    wide.write('x');
    assert.equal(readFileSync(join(dir.path, 'wide.json'), 'utf8'), 'x\n');
  });
});
