import assert from 'node:assert/strict';
import {
  formatMatcher,
  matchesOne,
  parseMatcher,
  parseMatchers,
  type Matcher,
} from '../../../collector/silences/matchers.ts';

/**
 * Golden table: how Alertmanager's matcher parser (as amtool's `silence add` uses it) reads each argument.
 * Values are bare or double-quoted; \" \\ and \n are escapes, any other backslash stays.
 */
const ACCEPTED: ReadonlyArray<readonly [string, Matcher]> = [
  ['host=web1', { name: 'host', op: '=', value: 'web1' }],
  ['host="web1"', { name: 'host', op: '=', value: 'web1' }],
  ['host=~"web.*"', { name: 'host', op: '=~', value: 'web.*' }],
  ['severity!="info"', { name: 'severity', op: '!=', value: 'info' }],
  ['host!~web[0-9]+', { name: 'host', op: '!~', value: 'web[0-9]+' }],
  [' host = web1 ', { name: 'host', op: '=', value: 'web1' }],
  ['comment="two  words "', { name: 'comment', op: '=', value: 'two  words ' }],
  ['host=""', { name: 'host', op: '=', value: '' }],
  ['host=', { name: 'host', op: '=', value: '' }],
  ['msg="say \\"hi\\""', { name: 'msg', op: '=', value: 'say "hi"' }],
  ['path="C:\\\\temp"', { name: 'path', op: '=', value: 'C:\\temp' }],
  ['msg="a\\nb"', { name: 'msg', op: '=', value: 'a\nb' }],
  ['device=~sd\\d+', { name: 'device', op: '=~', value: 'sd\\d+' }],
  ['device=~"sd\\d+"', { name: 'device', op: '=~', value: 'sd\\d+' }],
  ['mountpoint!=/boot', { name: 'mountpoint', op: '!=', value: '/boot' }],
  ['url=http://x/?a=b', { name: 'url', op: '=', value: 'http://x/?a=b' }],
  ['x="trailing\\\\"', { name: 'x', op: '=', value: 'trailing\\' }],
];

const REFUSED: ReadonlyArray<readonly [string, RegExp]> = [
  ['host', /^expected a matcher like host=web1/],
  ['=web1', /^expected a matcher like/],
  ['9host=web1', /^expected a matcher like/],
  ['host=="web1"', /a double quote inside the value must be escaped/],
  ['host="web1', /a double quote inside the value must be escaped/],
  ['host="web1"x', /a double quote inside the value must be escaped/],
  ['host=we"b1', /a double quote inside the value must be escaped/],
  ['host="web1\\"', /a double quote inside the value must be escaped/],
  ['host=~"(web)\\1"', /backreferences are not supported/],
  ['host=~"(?=web)"', /lookahead/],
  ['host=~"(unclosed"', /invalid regular expression/],
];

describe('silence matchers (Alertmanager syntax)', () => {
  for (const [text, expected] of ACCEPTED) {
    it(`reads ${text}`, () => assert.deepEqual(parseMatcher(text), expected));
  }
  for (const [text, reason] of REFUSED) {
    it(`refuses ${text}`, () => {
      const problem = parseMatcher(text);
      assert.equal(typeof problem, 'string', `parsed as ${JSON.stringify(problem)}`);
      assert.match(problem as string, reason);
    });
  }

  it('reads several in braces, a comma inside quotes being part of the value', () => {
    assert.deepEqual(parseMatchers('{host=~"web.*", severity!="info", note="a,b",}'), [
      { name: 'host', op: '=~', value: 'web.*' },
      { name: 'severity', op: '!=', value: 'info' },
      { name: 'note', op: '=', value: 'a,b' },
    ]);
    assert.deepEqual(parseMatchers('host=web1'), [{ name: 'host', op: '=', value: 'web1' }]);
    assert.deepEqual(parseMatchers('{}'), []);
    assert.match(parseMatchers('{host=web1') as string, /a \{ must be closed with \}/);
    assert.match(parseMatchers('{host=web1, oops}') as string, /got " oops"/);
  });

  it('prints a matcher so that it reads back the same', () => {
    for (const [, matcher] of ACCEPTED) {
      assert.deepEqual(parseMatcher(formatMatcher(matcher)), matcher, formatMatcher(matcher));
    }
    assert.equal(formatMatcher({ name: 'host', op: '=~', value: 'web.*' }), 'host=~web.*');
    assert.equal(formatMatcher({ name: 'msg', op: '=', value: 'say "hi"' }), 'msg="say \\"hi\\""');
  });

  it('matches regexes anchored, through the safe engine, a missing label as ""', () => {
    const web = parseMatcher('host=~"web.*"') as Matcher;
    assert.equal(matchesOne(web, { host: 'web1' }), true);
    assert.equal(matchesOne(web, { host: 'xweb1' }), false, 'anchored like Alertmanager');
    assert.equal(matchesOne(parseMatcher('severity!="info"') as Matcher, { severity: 'info' }), false);
    assert.equal(matchesOne(parseMatcher('severity!="info"') as Matcher, {}), true);
    assert.equal(matchesOne(parseMatcher('team=""') as Matcher, {}), true);
  });
});
