/**
 * Go's strconv.Quote, which Alertmanager uses for label values in a groupKey (model.LabelSet.String) and for route
 * matchers. JSON.stringify differs on control and non-printable characters: Go writes \a, \v and \xNN for ASCII
 * controls and DEL, \uNNNN / \UNNNNNNNN (lower-case hex) for non-printable runes, and keeps printable non-ASCII as is.
 * "Printable" is Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Node's
 * Unicode tables may be newer than Go's (0.25 was built with Go 1.19: Unicode 13), so a rune assigned after Unicode 13
 * can differ; none of them is likely in a host name or a rule name.
 */
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

const SHORT: Readonly<Record<string, string>> = {
  '\u0007': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\u000b': '\\v',
  '\\': '\\\\',
  '"': '\\"',
};

const hex = (code: number, width: number): string => code.toString(16).padStart(width, '0');

function escapeRune(rune: string): string {
  const short = SHORT[rune];
  if (short !== undefined) return short;
  const code = rune.codePointAt(0)!;
  if (code < 0x20 || code === 0x7f) return `\\x${hex(code, 2)}`;
  // A lone surrogate cannot be sent as UTF-8: the wire (and so Alertmanager) sees U+FFFD, which is printable.
  if (code >= 0xd800 && code <= 0xdfff) return '\ufffd';
  if (PRINTABLE.test(rune)) return rune;
  return code < 0x10000 ? `\\u${hex(code, 4)}` : `\\U${hex(code, 8)}`;
}

export function goQuote(value: string): string {
  let out = '"';
  // for..of walks code points, so a surrogate pair is one rune as in Go.
  for (const rune of value) out += escapeRune(rune);
  return `${out}"`;
}
