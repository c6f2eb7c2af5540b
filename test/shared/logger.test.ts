import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, isoTimestamp } from '../../shared/index.ts';

describe('logger timestamps', () => {
  it('formats like Date#toISOString across leap days, month and year ends, and short milliseconds', () => {
    const instants = [
      0,
      1,
      -1,
      Date.UTC(2024, 1, 29, 23, 59, 59, 999),
      Date.UTC(2000, 1, 29, 0, 0, 0, 10),
      Date.UTC(1900, 2, 1, 12, 5, 7, 100),
      Date.UTC(2026, 11, 31, 23, 59, 59, 9),
      Date.UTC(9999, 11, 31, 23, 59, 59, 999),
      Date.UTC(1, 0, 1),
    ];
    // 5000 instants over years 1970-9999 from a fixed seed, so a day or month off by one anywhere shows.
    let seed = 17;
    for (let i = 0; i < 5000; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      instants.push(Math.floor((seed / 2 ** 31) * 253402300799999));
    }
    for (const ms of instants) assert.equal(isoTimestamp(ms), new Date(ms).toISOString(), `at ${ms}`);
  });

  it('stamps each log line with that time', () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const before = Date.now();
    createLogger('test', { destination }).info('hello');
    const after = Date.now();
    const time = Date.parse((JSON.parse(lines[0]!) as { time: string }).time);
    assert.ok(time >= before && time <= after, `${time} within ${before}..${after}`);
  });
});
