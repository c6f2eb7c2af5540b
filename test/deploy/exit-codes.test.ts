import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawnTracked } from '../helpers/processes.ts';

async function offhook(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawnTracked(process.execPath, ['offhook.mjs', ...args]);
  let stderr = '';
  child.stdout!.resume();
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

const COMMANDS = [
  ['agent'],
  ['collector'],
  ['gateway'],
  ['demo'],
  ['check-config'],
  ['status'],
  ['alerts'],
  ['ack'],
  ['silence', 'add'],
  ['silence', 'list'],
  ['calls'],
  ['test-call'],
];

describe('exit codes: one convention for every command (README, Exit codes)', function () {
  this.timeout(120_000);

  it('a mistyped command line exits 2 for every command, --help exits 0', async () => {
    const runs = COMMANDS.map(async (command) => ({ command, ...(await offhook([...command, '--no-such-flag'])) }));
    const wrong = await Promise.all(runs);
    for (const { command, code, stderr } of wrong) {
      assert.equal(code, 2, `offhook ${command.join(' ')} --no-such-flag: ${stderr}`);
      assert.match(stderr, /^error: (unknown option '--no-such-flag'|required option|missing required argument)/);
    }
    const unknown = await offhook(['frobnicate']);
    assert.equal(unknown.code, 2, unknown.stderr);
    const help = await Promise.all([['--help'], ['alerts', '--help'], ['demo', '--help'], ['--version']].map(offhook));
    assert.deepEqual(
      help.map((h) => h.code),
      [0, 0, 0, 0],
    );
  });

  it('a bad option value is a usage error (2): demo --speed, alerts --prefix', async () => {
    const speed = await offhook(['demo', '--speed', '0']);
    assert.equal(speed.code, 2, speed.stderr);
    const prefix = await offhook(['alerts', '--prefix', 'a.b', '--nats', 'nats://127.0.0.1:1']);
    assert.equal(prefix.code, 2, prefix.stderr);
    assert.match(prefix.stderr, /--prefix: expected one NATS token/);
  });
});
