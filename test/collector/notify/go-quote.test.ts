import assert from 'node:assert/strict';
import { goQuote } from '../../../collector/notify/go-quote.ts';

/** Expected strings are what Go's strconv.Quote prints (checked against Alertmanager in alertmanager-conformance). */
describe('goQuote (Go strconv.Quote, as Alertmanager quotes label values)', () => {
  const cases: [string, string][] = [
    ['web1', '"web1"'],
    ['say "hi" \\ bye', '"say \\"hi\\" \\\\ bye"'],
    ['a\tb\nc\r', '"a\\tb\\nc\\r"'],
    ['\u0007\b\f\u000b', '"\\a\\b\\f\\v"'],
    ['\u0000\u001b\u007f', '"\\x00\\x1b\\x7f"'],
    ['é 日本 🚒', '"é 日本 🚒"'],
    ['\u0085\u00a0\u200b\u2028', '"\\u0085\\u00a0\\u200b\\u2028"'],
    ['\ue000\u{f0000}', '"\\ue000\\U000f0000"'],
    ['lone \ud800', '"lone \ufffd"'],
  ];
  for (const [input, expected] of cases)
    it(`quotes ${JSON.stringify(input)} as ${expected}`, () => assert.equal(goQuote(input), expected));

  it('differs from JSON.stringify where Alertmanager does', () => {
    assert.notEqual(goQuote('\u0000'), JSON.stringify('\u0000'));
    assert.notEqual(goQuote('\u00a0'), JSON.stringify('\u00a0'));
  });
});
