import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as z from 'zod';
import {
  ConfigError,
  Duration,
  loadConfigFile,
  parseConfigText,
  parseDuration,
  Port,
  RegexSource,
} from '../../shared/index.ts';
import { checkConfigFiles } from '../../ops/check-config.ts';

const ExampleAgent = z
  .object({
    host: z.string().optional(),
    interval: Duration.prefault('10s'),
    checks: z.array(z.object({ name: z.string(), port: Port, pattern: RegexSource.optional() }).strict()).default([]),
  })
  .strict();

function problems(text: string, file = 'agent.yaml'): string[] {
  try {
    parseConfigText(text, file, ExampleAgent);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('config loading', () => {
  it('names the file, the path, the expectation and the value', () => {
    const text = 'checks:\n  - {name: a, port: 22}\n  - {name: b, port: 25}\n  - {name: c, port: eighty}\n';
    assert.deepEqual(problems(text), ['agent.yaml: checks[2].port: expected integer 1-65535, got "eighty"']);
  });

  it('reports every problem, not just the first', () => {
    const lines = problems('interval: 10 minutes\nchecks:\n  - {name: a, port: 70000, colour: red}\n');
    assert.deepEqual(lines.sort(), [
      'agent.yaml: checks[0].port: expected integer 1-65535, got 70000',
      'agent.yaml: checks[0]: unknown field "colour" (check the spelling)',
      'agent.yaml: interval: expected a duration like "30s", "5m", "1h30m", "1d", "2w" or "0" (whole numbers with ' +
        'units ms, s, m, h, d, w, y, largest unit first): no spaces, got "10 minutes"',
    ]);
  });

  it('names a bad regular expression', () => {
    const [line] = problems('checks:\n  - {name: a, port: 1, pattern: "(unclosed"}\n');
    assert.match(
      line!,
      /^agent\.yaml: checks\[0\]\.pattern: expected a valid regular expression \(.*\), got "\(unclosed"$/,
    );
  });

  it('reports YAML syntax errors with the file name', () => {
    const [line] = problems('checks: [\n  - {name: a\n');
    assert.match(line!, /^agent\.yaml: YAML syntax: /);
  });

  it('rejects duplicate keys instead of silently keeping the last', () => {
    const [line] = problems('interval: 5s\ninterval: 10s\n');
    assert.match(line!, /YAML syntax: .*[Mm]ap keys must be unique/);
  });

  it('applies defaults and parses durations', () => {
    assert.deepEqual(parseConfigText('{}', 'agent.yaml', ExampleAgent), { interval: 10_000, checks: [] });
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5m'), null);
    assert.equal(parseDuration('2h'), 7_200_000);
    assert.equal(parseDuration('5 minutes'), null);
  });

  it('says when a file cannot be read', () => {
    assert.throws(
      () => loadConfigFile('/nonexistent/agent.yaml', ExampleAgent),
      /agent\.yaml: cannot read \/nonexistent\/agent\.yaml: ENOENT/,
    );
  });

  it('check-config validates by kind and reports each file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-config-'));
    writeFileSync(join(dir, 'agent.yaml'), 'checks:\n  - {name: a, port: 22}\n');
    writeFileSync(join(dir, 'web1-agent.yaml'), 'checks:\n  - {name: a, port: "eighty"}\n');
    writeFileSync(join(dir, 'mystery.yaml'), '{}\n');
    const result = checkConfigFiles(
      [join(dir, 'agent.yaml'), join(dir, 'web1-agent.yaml'), join(dir, 'mystery.yaml')],
      { agent: ExampleAgent },
    );
    assert.equal(result.ok, false);
    assert.deepEqual(result.lines, [
      'agent.yaml: OK (agent config)',
      'web1-agent.yaml: checks[0].port: expected integer 1-65535, got "eighty"',
      'mystery.yaml: cannot tell which config this is; name it agent.yaml or pass --kind agent',
    ]);
    assert.equal(checkConfigFiles([join(dir, 'mystery.yaml')], { agent: ExampleAgent }, 'agent').ok, true);
  });
});
