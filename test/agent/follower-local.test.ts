import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, closeSync, constants, openSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { FileFollower, type LogLine } from '../../agent/logs/follower.ts';
import { onLocalFileSystem } from '../../agent/logs/local-fs.ts';
import { tempDir } from './helpers.ts';

describe('log follower on a local file system (real files, real thread pool)', () => {
  const dir = tempDir();
  after(() => dir.remove());

  it('hands over an appended line without waiting for a thread-pool thread', async function () {
    // The temp directory on a network file system: the follower rightly goes through the thread pool there.
    if (!(await onLocalFileSystem(dir.path))) this.skip();
    const path = join(dir.path, 'app.log');
    // Longer than the head the follower keeps, so it is captured at open and not read again later.
    writeFileSync(path, `${'x'.repeat(100)}\n`);
    let deliver: (lines: LogLine[]) => void = () => undefined;
    const arrived = new Promise<LogLine[]>((resolve) => {
      deliver = resolve;
    });
    const follower = new FileFollower(path, {
      pollMs: 3_600_000,
      maxLineBytes: 4096,
      startAt: 'end',
      onLines: async (lines) => deliver(lines),
    });
    follower.start();
    await follower.trigger();
    // Every thread of the pool blocked: opening a FIFO for reading waits for a writer. Work queued after these opens
    // (an asynchronous stat or read) cannot start until they return.
    const threads = Number(process.env.UV_THREADPOOL_SIZE ?? 4);
    const fifos = Array.from({ length: threads }, (_, i) => join(dir.path, `jam-${i}`));
    execFileSync('mkfifo', fifos);
    const jammed = fifos.map((fifo) => open(fifo, 'r'));
    try {
      appendFileSync(path, 'FATAL while the pool is busy\n');
      void follower.trigger();
      assert.deepEqual(
        (await arrived).map((line) => line.text),
        ['FATAL while the pool is busy'],
      );
    } finally {
      // Opening a FIFO read-write never blocks, and it is the writer the jammed opens wait for.
      const writers = fifos.map((fifo) => openSync(fifo, constants.O_RDWR));
      for (const handle of await Promise.all(jammed)) await handle.close();
      for (const fd of writers) closeSync(fd);
      await follower.stop();
    }
  });
});
