import assert from 'node:assert/strict';
import { AgentConfig } from '../../agent/index.ts';
import { parseMatcher } from '../../collector/silences/matchers.ts';
import { NotificationsConfig } from '../../collector/notify/config.ts';
import { Silence } from '../../collector/silences/silence.ts';
import {
  compileSafeRegex,
  ConfigError,
  foldCase,
  linearEngineAvailable,
  parseConfigText,
  safeRegexProblem,
} from '../../shared/index.ts';

function configProblems(text: string, file: string, schema: Parameters<typeof parseConfigText>[2]): string[] {
  try {
    parseConfigText(text, file, schema);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message.split('\n');
  }
  assert.fail('expected a ConfigError');
}

describe('safe regex (linear-time fallback for operator patterns)', () => {
  it('the linear-time engine is switched on in this Node', () => {
    assert.equal(linearEngineAvailable, true);
  });

  // Each near-miss line would take irregexp longer than the test run (exponential backtracking); finishing at all is
  // the point, and the answers must still be right.
  const cases: { pattern: string; flags?: string; miss: string; hit: string }[] = [
    { pattern: '^(a|aa)+$', miss: `${'a'.repeat(10_000)}!`, hit: 'a'.repeat(10_000) },
    { pattern: '(a+)+$', miss: `${'a'.repeat(10_000)}!`, hit: `!${'a'.repeat(10_000)}` },
    { pattern: '^(\\w+\\s?)*$', miss: `${'word '.repeat(2_000)}!`, hit: 'word '.repeat(2_000) },
    { pattern: '^(\\w+\\s?)*$', flags: 'i', miss: `${'WORD '.repeat(2_000)}!`, hit: 'Word '.repeat(2_000) },
    {
      pattern: '(.*a){16}',
      miss: `${'a'.repeat(15)}${'b'.repeat(5_000)}`,
      hit: `${'b'.repeat(5_000)}${'a'.repeat(16)}`,
    },
  ];
  for (const { pattern, flags = '', miss, hit } of cases) {
    const title = `${pattern}${flags ? ` (${flags})` : ''}`;
    it(`${title}: a long near-miss line finishes with no match; a matching line matches`, () => {
      const re = compileSafeRegex(pattern, flags, 'test');
      assert.equal(re.test(miss), false);
      assert.equal(re.test(hit), true);
    });
  }

  it('ignore-case is spelled out in the pattern (no i flag in the linear engine); escapes, group names kept', () => {
    assert.equal(foldCase('Err(?<code>[a-f0-9]+)\\s\\x41\\p{L}'), '[Ee][rR][rR](?<code>[a-fA-F0-9]+)\\s\\x41\\p{L}');
    const re = compileSafeRegex('killed process (?<pid>\\d+) [a-z]+', 'i', 'test');
    assert.equal(re.exec('KILLED Process 42 JAVA')?.groups?.pid, '42');
    assert.equal(re.test('KILLED Process 42 !'), false);
  });

  it('refuses what the linear-time engine cannot run, saying why and how to fix it', () => {
    assert.match(safeRegexProblem('(.*a){20}')!, /repetition count makes this pattern too large .*smaller \{n\}/);
    assert.match(
      safeRegexProblem('(\\w+) \\1')!,
      /^backreferences are not supported \(linear-time engine\); rewrite without \\1/,
    );
    assert.match(safeRegexProblem('(?<w>\\w+) \\k<w>')!, /^backreferences are not supported/);
    assert.match(safeRegexProblem('foo(?=bar)')!, /^lookahead and lookbehind/);
    assert.match(safeRegexProblem('(?<!x)y')!, /^lookahead and lookbehind/);
    assert.match(safeRegexProblem('(unclosed')!, /^expected a valid regular expression \(/);
    assert.equal(safeRegexProblem('Killed process (?<pid>\\d+)', 'i'), null);
    assert.throws(() => compileSafeRegex('(a)\\1', '', 'checks[2].body_regex'), {
      name: 'UnsafeRegexError',
      message: /^checks\[2\]\.body_regex: backreferences/,
    });
  });

  it('agent.yaml: a log rule or check pattern the engine refuses is a config error naming the field', () => {
    const lines = configProblems(
      'logs:\n  - path: /var/log/x\n    rules:\n' +
        "      - { name: ok, pattern: '^(a|aa)+$' }\n      - { name: twice, pattern: '(\\w+) \\1' }\n" +
        "checks:\n  - { name: web, kind: http, url: 'http://127.0.0.1:1/', body_regex: 'ok(?=!)' }\n",
      'agent.yaml',
      AgentConfig,
    );
    assert.deepEqual(lines.sort(), [
      'agent.yaml: checks[0].body_regex: lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not supported ' +
        '(linear-time engine); rewrite without them, got "ok(?=!)"',
      'agent.yaml: logs[0].rules[1].pattern: backreferences are not supported (linear-time engine); ' +
        'rewrite without \\1 or \\k<name> (rule "twice"), got "(\\\\w+) \\\\1"',
    ]);
  });

  it('collector: route regexes and silence matchers are refused the same way', () => {
    const yaml =
      'routes: [{receiver: a, match: {host: {regex: "(.*a){20}"}}}]\nreceivers: [{name: a, kind: exec, command: [x]}]';
    const [line] = configProblems(yaml, 'collector.yaml', NotificationsConfig);
    assert.match(
      line!,
      /^collector\.yaml: routes\[0\]\.match\.host\.regex: a repetition count makes this pattern too large/,
    );
    assert.match(parseMatcher('host=~(web)\\1') as string, /^"host=~\(web\)\\\\1": backreferences are not supported/);
    assert.equal(typeof parseMatcher('host=~(a|aa)+'), 'object');
    const matchers = [{ name: 'host', op: '=~', value: '(?=x)x' }];
    const stored = { id: 's1', matchers, startsAt: 0, endsAt: 1, createdBy: 'me', comment: '', createdAt: 0 };
    assert.equal(Silence.safeParse(stored).success, false);
  });
});
