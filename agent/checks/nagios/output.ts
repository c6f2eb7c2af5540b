/**
 * The Nagios plugin output format (plugin API, "Plugin Output for Nagios"):
 *
 *   TEXT OUTPUT | OPTIONAL PERFDATA
 *   LONG TEXT LINE 1
 *   LONG TEXT LINE N | PERFDATA LINE 2
 *   PERFDATA LINE 3
 *
 * The first `|` on line 1 ends the short text; on later lines, everything after the first `|`
 * (and every line after that one) is performance data.
 */
export interface PluginOutput {
  /** Line 1 before `|`: the status message. */
  text: string;
  /** Lines 2.. up to the second `|`. */
  longText: string;
  /** All perfdata fragments joined by a space. */
  perfdata: string;
}

// Everything a terminal or a phone prompt would choke on; tabs and newlines are handled by the caller.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\ufffd]+/g;

// Terminal colour and cursor sequences some plugins print (ESC [ ... letter).
// eslint-disable-next-line no-control-regex
const ANSI_ESCAPE = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;

export function cleanText(text: string): string {
  return text
    .replace(ANSI_ESCAPE, '')
    .replace(CONTROL, ' ')
    .replace(/[\t ]+/g, ' ')
    .trim();
}

export function splitOutput(stdout: string): PluginOutput {
  const lines = stdout.replace(/\r\n?/g, '\n').split('\n');
  const first = lines[0] ?? '';
  const bar = first.indexOf('|');
  const text = bar >= 0 ? first.slice(0, bar) : first;
  const perf: string[] = bar >= 0 ? [first.slice(bar + 1)] : [];
  const long: string[] = [];
  let inPerfdata = false;
  for (const line of lines.slice(1)) {
    if (inPerfdata) {
      perf.push(line);
      continue;
    }
    const at = line.indexOf('|');
    if (at < 0) {
      long.push(line);
      continue;
    }
    long.push(line.slice(0, at));
    perf.push(line.slice(at + 1));
    inPerfdata = true;
  }
  return {
    text: cleanText(text),
    longText: long.map(cleanText).join('\n').trim(),
    perfdata: perf
      .map((p) => p.trim())
      .filter(Boolean)
      .join(' '),
  };
}
