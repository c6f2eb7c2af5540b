import assert from 'node:assert/strict';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import {
  ConfigError,
  type ConfigFileKind,
  loadConfigFile,
  MAX_ALIAS_COUNT,
  MAX_CONFIG_BYTES,
  MAX_FLOW_DEPTH,
  natsDefaultNotice,
  NatsConfig,
  readConfigFile,
  readProcessConfig,
} from '../../shared/index.ts';
import { checkConfigFiles } from '../../ops/check-config.ts';
import { CollectorConfigFile } from '../../collector/config.ts';
import { AgentConfigFile } from '../../agent/config.ts';
import { GatewayConfigFile } from '../../telephony-gateway/config.ts';

const Service = z
  .object({ nats: NatsConfig, rules: z.array(z.string()).default([]), note: z.string().optional() })
  .strict();
const ServiceFile: ConfigFileKind<typeof Service> = {
  schema: Service,
  label: 'service',
  essentials: ['nats', 'rules'],
  required: { rules: 'without rules the service does nothing' },
  notices: natsDefaultNotice,
};

/** The ConfigError lines a file gives; fails the test when it loads. */
function problems(file: string, spec: z.ZodType | ConfigFileKind = ServiceFile): string[] {
  try {
    loadConfigFile(file, spec);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${(err as Error).stack}`);
    return err.message.split('\n');
  }
  return assert.fail(`${file} loaded`);
}

/** A file of `bytes` bytes without writing them: a sparse file, read as zeros. */
function sparseFile(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return path;
}

function billionLaughs(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  const names = 'bcdefghi';
  for (let i = 0; i < names.length; i++) {
    const previous = i === 0 ? 'a' : names[i - 1];
    lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(`*${previous}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('config files: size, alias and nesting limits, empty files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-config-file-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a file over 1 MiB before reading it, in MiB or, near the limit, in bytes', () => {
    assert.equal(MAX_CONFIG_BYTES, 1024 * 1024);
    assert.deepEqual(problems(sparseFile(join(dir, 'collector.yaml'), 50 * 1024 * 1024)), [
      'collector.yaml: file is 50.0 MiB; the limit is 1 MiB',
    ]);
    assert.deepEqual(problems(sparseFile(join(dir, 'edge.yaml'), MAX_CONFIG_BYTES + 1)), [
      `edge.yaml: file is ${MAX_CONFIG_BYTES + 1} bytes; the limit is 1 MiB`,
    ]);
    // Exactly at the limit is allowed (and here is a YAML error about the NUL bytes, not a size error).
    assert.doesNotMatch(problems(sparseFile(join(dir, 'limit.yaml'), MAX_CONFIG_BYTES)).join('\n'), /limit is 1 MiB/);
  });

  it('stops an alias bomb with one line naming the file and the limit', () => {
    writeFileSync(join(dir, 'bomb.yaml'), billionLaughs());
    assert.deepEqual(problems(join(dir, 'bomb.yaml'), z.unknown()), [
      `bomb.yaml: YAML: too many aliases (limit ${MAX_ALIAS_COUNT} alias expansions); write the values out`,
    ]);
  });

  it('still takes a few aliases for shared settings', () => {
    const shared = 'nats: &n { servers: ["nats://a:4222"] }\nrules: [x, y]\nnote: &t hello\n';
    writeFileSync(join(dir, 'aliases.yaml'), shared);
    assert.deepEqual(readConfigFile(join(dir, 'aliases.yaml'), ServiceFile).config.rules, ['x', 'y']);
  });

  it('names deep nesting and an alias used before its anchor instead of throwing', () => {
    writeFileSync(join(dir, 'deep.yaml'), `rules: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    const tooDeep = `deep.yaml: YAML: nested too deeply (more than ${MAX_FLOW_DEPTH} levels of [ ] or { })`;
    assert.deepEqual(problems(join(dir, 'deep.yaml')), [tooDeep]);
    // Brackets inside quotes and comments are text, not nesting.
    const quoted = `rules: ["${'['.repeat(200)}", '${'{'.repeat(200)}'] # ${'['.repeat(200)}\n`;
    writeFileSync(join(dir, 'quoted.yaml'), quoted);
    assert.equal(readConfigFile(join(dir, 'quoted.yaml'), ServiceFile).config.rules[0], '['.repeat(200));
    writeFileSync(join(dir, 'nested.yaml'), `rules: ${'['.repeat(MAX_FLOW_DEPTH)}${']'.repeat(MAX_FLOW_DEPTH)}\n`);
    assert.match(problems(join(dir, 'nested.yaml'))[0]!, /^nested\.yaml: rules\[0\]: expected string/);
    writeFileSync(join(dir, 'forward.yaml'), 'rules: *later\nnote: &later x\n');
    assert.match(problems(join(dir, 'forward.yaml'))[0]!, /^forward\.yaml: YAML: .*later/);
  });

  it('an empty file, a comments-only file or {} is an error naming the sections to write', () => {
    const expected =
      'the file is empty; the service needs at least nats: and rules: ' + '(see deploy/examples/service.yaml)';
    const empties = [
      ['empty.yaml', ''],
      ['comments.yaml', '# nothing yet\n\n'],
      ['braces.yaml', '{}\n'],
      ['tilde.yaml', '~\n'],
    ];
    for (const [name, text] of empties) {
      writeFileSync(join(dir, name!), text!);
      assert.deepEqual(problems(join(dir, name!)), [`${name}: ${expected}`]);
    }
    writeFileSync(join(dir, 'bare.yaml'), '');
    assert.deepEqual(problems(join(dir, 'bare.yaml'), Service), [
      'bare.yaml: the file is empty; expected a YAML mapping of settings',
    ]);
  });

  it('a missing required section is an error; a real default is a notice', () => {
    writeFileSync(join(dir, 'no-rules.yaml'), 'nats: { servers: ["nats://a:4222"] }\n');
    assert.deepEqual(problems(join(dir, 'no-rules.yaml')), [
      'no-rules.yaml: rules: missing; without rules the service does nothing',
    ]);
    writeFileSync(join(dir, 'no-nats.yaml'), 'rules: [x]\n');
    assert.deepEqual(readConfigFile(join(dir, 'no-nats.yaml'), ServiceFile).notices, [
      'nats: not set; connecting to nats://127.0.0.1:4222 (the default)',
    ]);
  });

  it('a process config naming an unreadable nkey seed, creds or TLS file is a config error at start', () => {
    const file = join(dir, 'creds.yaml');
    const seed = join(dir, 'agent.nk');
    writeFileSync(file, `nats: { nkey_seed_file: ${seed}, tls: { ca_file: ${join(dir, 'ca.pem')} } }\nrules: [x]\n`);
    const expected = [
      `creds.yaml: nats.nkey_seed_file: cannot read ${seed}: ENOENT`,
      `creds.yaml: nats.tls.ca_file: cannot read ${join(dir, 'ca.pem')}: ENOENT`,
    ].join('\n');
    assert.throws(
      () => readProcessConfig(file, ServiceFile),
      (err: unknown) => err instanceof ConfigError && err.message === expected,
    );
    // check-config may run on another machine than the process: it validates the file, not the host.
    assert.deepEqual(readConfigFile(file, ServiceFile).config.nats.nkey_seed_file, seed);
    writeFileSync(seed, 'SUAEXAMPLE\n');
    writeFileSync(join(dir, 'ca.pem'), '');
    assert.equal(readProcessConfig(file, ServiceFile).config.nats.nkey_seed_file, seed);
  });

  it('a directory is named as such', () => {
    mkdirSync(join(dir, 'conf.d'));
    assert.deepEqual(problems(join(dir, 'conf.d')), [
      `conf.d: cannot read ${join(dir, 'conf.d')}: it is a directory, expected a YAML file`,
    ]);
  });

  it('agent, collector and gateway kinds: empty files and rule-less collectors refused, defaults warned', () => {
    const empty = join(dir, 'empty.yaml');
    writeFileSync(empty, '');
    assert.match(problems(empty, AgentConfigFile)[0]!, /the agent needs at least nats:/);
    assert.match(problems(empty, CollectorConfigFile)[0]!, /the collector needs at least nats: and rules:/);
    assert.match(problems(empty, GatewayConfigFile)[0]!, /the gateway needs at least nats: and people:/);
    const kinds = { agent: AgentConfigFile, collector: CollectorConfigFile };
    writeFileSync(join(dir, 'collector.yaml'), 'nats: { servers: ["nats://a:4222"] }\nlisten: "127.0.0.1:0"\n');
    assert.deepEqual(checkConfigFiles([join(dir, 'collector.yaml')], kinds), {
      ok: false,
      lines: [
        'collector.yaml: rules: missing; a collector without rules raises no alert, not even host_down ' +
          '(see deploy/examples/collector.yaml)',
      ],
    });
    const routes = [
      { receiver: 'x', match: { severity: ['warning', 'critical'], rule: 'disk_full', reason: 'firing' } },
    ];
    assert.deepEqual(CollectorConfigFile.notices?.({ nats: {}, notifications: { receivers: [{}], routes } }), [
      'notifications.routes.0.match: deprecated; write matchers: [\'severity=~"warning|critical"\', ' +
        '\'alertname="disk_full"\'] and keep match: { reason: "firing" } (Alertmanager syntax)',
    ]);
    writeFileSync(join(dir, 'agent.yaml'), 'host: web1\n');
    assert.deepEqual(checkConfigFiles([join(dir, 'agent.yaml')], kinds), {
      ok: true,
      lines: [
        'agent.yaml: OK (agent config)',
        'agent.yaml: warning: nats: not set; connecting to nats://127.0.0.1:4222 (the default)',
        'agent.yaml: warning: checks, logs: none set; the agent reports resources and heartbeats only',
      ],
    });
  });
});
