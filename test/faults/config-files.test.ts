import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnTracked } from '../../deploy/lib/processes.ts';
import { recordFault } from './common.ts';

/** What each real command is started with: the three configs that used to kill or fool a process. */
const COMMANDS: Record<string, (file: string) => string[]> = {
  agent: (file) => ['agent', '--config', file],
  collector: (file) => ['collector', '--config', file],
  gateway: (file) => ['gateway', '--config', file],
  'check-config': (file) => ['check-config', '--kind', 'collector', file],
  alerts: (file) => ['alerts', '--config', file],
  status: (file) => ['status', '--config', file],
  calls: (file) => ['calls', '--config', file],
};

/** A 50 MB collector config of real YAML (rules), the size that once took a collector 78 s and 4.3 GB to abort. */
function fiftyMegabytes(path: string): void {
  const fd = openSync(path, 'w');
  const rule = (i: number): string => `  - { name: rule${i}, kind: check, check: "svc.*", max_attempts: 3 }\n`;
  const rules = Array.from({ length: 5000 }, (_, i) => rule(i)).join('');
  writeSync(fd, 'nats: { servers: ["nats://127.0.0.1:4222"] }\nrules:\n');
  for (let chunk = 0, written = 0; written < 50 * 1024 * 1024; chunk++) {
    written += writeSync(fd, rules.replace(/rule(\d+)/g, `rule$1x${chunk}`));
  }
  closeSync(fd);
}

function aliasBomb(path: string): void {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  const names = 'bcdefghi';
  for (let i = 0; i < names.length; i++) {
    const previous = i === 0 ? 'a' : names[i - 1];
    lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

async function run(args: string[]): Promise<Run> {
  const child = spawnTracked(process.execPath, ['offhook.mjs', ...args]);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

describe('faults: hostile config files', function () {
  this.timeout(300_000);
  let dir: string;
  const files: Record<string, { path: string; message: RegExp }> = {};
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-faults-config-'));
    files.huge = {
      path: join(dir, 'collector.yaml'),
      message: /^collector\.yaml: file is 50\.\d MiB; the limit is 1 MiB$/,
    };
    fiftyMegabytes(files.huge.path);
    files.bomb = { path: join(dir, 'bomb.yaml'), message: /^bomb\.yaml: YAML: too many aliases \(limit \d+/ };
    aliasBomb(files.bomb.path);
    files.empty = {
      path: join(dir, 'empty.yaml'),
      message: /^empty\.yaml: the file is empty; the (agent|collector|gateway) needs at least nats:/,
    };
    writeFileSync(files.empty.path, '');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const cases = [
    ['a 50 MB file', 'huge'],
    ['an alias bomb', 'bomb'],
    ['an empty file', 'empty'],
  ] as const;
  for (const [kind, file] of cases) {
    it(`every command given ${kind}: one line naming the file, exit 2, no stack trace`, async () => {
      const { path, message } = files[file]!;
      const results = await Promise.all(
        Object.entries(COMMANDS).map(async ([name, args]) => ({ name, ...(await run(args(path))) })),
      );
      const failures: string[] = [];
      for (const result of results) {
        const lines = result.stderr.trimEnd().split('\n');
        // An empty file's message names the kind it was read as; the operator commands read only nats: from it.
        const operator = !['agent', 'collector', 'gateway', 'check-config'].includes(result.name);
        const plainEmpty = /^empty\.yaml: the file is empty; expected a YAML mapping/;
        const expected = file === 'empty' && operator ? plainEmpty : message;
        if (result.code !== 2) failures.push(`${result.name}: exit ${result.code ?? result.signal}, expected 2`);
        // check-config reports on stdout, so its stderr stays empty.
        const quiet = result.name === 'check-config' && result.stderr === '';
        if (lines.length !== 1 && !quiet) {
          failures.push(`${result.name}: ${lines.length} lines on stderr:\n${result.stderr.slice(0, 600)}`);
        }
        const said = quiet ? result.stdout.trimEnd() : lines.join('\n').replace(/^offhook status: /, '');
        if (!expected.test(said)) failures.push(`${result.name}: said ${JSON.stringify(said.slice(0, 300))}`);
        if (/\n\s+at /.test(result.stderr)) failures.push(`${result.name}: printed a stack trace`);
      }
      recordFault({
        scenario: `config: ${kind}`,
        tried: `${results.length} commands started with it`,
        counts: { exit2: results.filter((r) => r.code === 2).length },
        lost: failures.length,
      });
      assert.deepEqual(failures, []);
    });
  }

  it('agent, collector and gateway naming a missing nkey seed in nats:: exit 2 naming the field', async () => {
    const seed = join(dir, 'missing.nk');
    for (const name of ['agent', 'collector', 'gateway']) {
      // Each kind rejects the other kinds' fields, so give each only what it takes.
      const own = join(dir, `${name}-nkey.yaml`);
      const extras: Record<string, string> = {
        collector: 'rules: []\n',
        gateway: 'people: [{ name: a, number: "1" }]\n',
      };
      const extra = extras[name] ?? '';
      writeFileSync(own, `nats: { servers: ["nats://127.0.0.1:1"], nkey_seed_file: ${seed} }\n${extra}`);
      const result = await run(COMMANDS[name]!(own));
      assert.equal(result.code, 2, `${name}: ${result.stderr}`);
      assert.equal(result.stderr, `${name}-nkey.yaml: nats.nkey_seed_file: cannot read ${seed}: ENOENT\n`);
    }
  });
});
