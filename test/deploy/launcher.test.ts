import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { builtDist } from '../helpers/dist.ts';

const execFileAsync = promisify(execFile);

/**
 * The built `offhook` launcher starts node with the agent's memory flags (agent/README.md, Footprint). A `node`
 * ahead of the real one in PATH records its arguments and runs the real node with them, so each case also proves
 * the real node accepts the flags and the agent runs under them.
 */
describe('dist/offhook: the node flags each role gets', function () {
  this.timeout(120_000);
  let dist: string;
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const argsFile = (): string => join(dir, 'node-args');
  const envFile = (): string => join(dir, 'node-env');

  before(async () => {
    dist = await builtDist();
    dir = mkdtempSync(join(tmpdir(), 'offhook-launcher-'));
    const recorder = join(dir, 'node');
    writeFileSync(
      recorder,
      `#!/bin/sh\nprintf '%s\\n' "$@" > "${argsFile()}"\nenv > "${envFile()}"\nexec "${process.execPath}" "$@"\n`,
    );
    chmodSync(recorder, 0o755);
    env = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    delete env.OFFHOOK_AGENT_NODE_FLAGS;
    delete env.MALLOC_ARENA_MAX;
    delete env.MALLOC_MMAP_THRESHOLD_;
    writeFileSync(join(dir, 'agent.yaml'), stringify({ host: 'launcher-test', state_dir: join(dir, 'state') }));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** node's arguments before the script: the flags. */
  const nodeFlags = (): string[] => {
    const args = readFileSync(argsFile(), 'utf8').trim().split('\n');
    return args.slice(
      0,
      args.findIndex((arg) => arg.endsWith('offhook.mjs')),
    );
  };
  /** The glibc malloc settings node started with. */
  const mallocEnv = (): string[] =>
    readFileSync(envFile(), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('MALLOC_'))
      .sort();
  const agentOnce = (extra: NodeJS.ProcessEnv = {}) =>
    execFileAsync(join(dist, 'offhook'), ['agent', '--config', join(dir, 'agent.yaml'), '--once'], {
      env: { ...env, ...extra },
    });

  it('agent: 1 MiB young generation, interpreter only, a memory reducer that always runs; the agent runs', async () => {
    const { stdout } = await agentOnce();
    assert.deepEqual(nodeFlags(), [
      '--max-semi-space-size=1',
      '--no-opt',
      '--no-sparkplug',
      '--optimize-for-size',
      '--gc-memory-reducer-start-delay-ms=2000',
      '--bytecode-old-age=1',
    ]);
    assert.match(stdout, /^resources: \d+ metrics/m);
  });

  it('agent: two malloc arenas and mmap from 8 KiB, unless the environment sets them', async () => {
    await agentOnce();
    assert.deepEqual(mallocEnv(), ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=8192']);
    const { stdout } = await agentOnce({ MALLOC_ARENA_MAX: '4' });
    assert.deepEqual(mallocEnv(), ['MALLOC_ARENA_MAX=4', 'MALLOC_MMAP_THRESHOLD_=8192']);
    assert.match(stdout, /^resources: \d+ metrics/m);
  });

  it('agent: OFFHOOK_AGENT_NODE_FLAGS replaces them (e.g. --lite-mode on a host without log rules)', async () => {
    const { stdout } = await agentOnce({ OFFHOOK_AGENT_NODE_FLAGS: '--max-semi-space-size=1 --lite-mode' });
    assert.deepEqual(nodeFlags(), ['--max-semi-space-size=1', '--lite-mode']);
    assert.match(stdout, /^resources: \d+ metrics/m);
  });

  it('other commands: no agent flags or malloc settings', async () => {
    await execFileAsync(join(dist, 'offhook'), ['--version'], { env });
    assert.deepEqual(nodeFlags(), []);
    assert.deepEqual(mallocEnv(), []);
  });
});
