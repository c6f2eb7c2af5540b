import { setFlagsFromString } from 'node:v8';

/**
 * The one place that decides how a regular expression from configuration or from an operator runs.
 *
 * Patterns run on V8's own backtracking engine (irregexp, full speed) with a backtrack budget: a match that
 * backtracks more than BACKTRACK_BUDGET times is re-run by V8's linear-time engine (an NFA simulation, time
 * proportional to pattern size × line length). So `^(a|aa)+$` against "aaaa…a!" costs ~0.3 ms, not years.
 * The fallback only exists for patterns the linear engine accepts, so every other pattern is refused when
 * the config is loaded: backreferences, lookahead/lookbehind, and repetition counts so large that the
 * pattern expands past the linear engine's size limit (e.g. `(.*a){20}`; `{16}` is accepted).
 * The flags are process-wide; setting them when this module loads (before any config is parsed) is
 * enough on Node 20 (measured; see agent/README.md "Regular expressions").
 */
const BACKTRACK_BUDGET = 10_000;

setFlagsFromString('--enable-experimental-regexp-engine');
setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');
setFlagsFromString(`--regexp-backtracks-before-fallback=${BACKTRACK_BUDGET}`);

/** True when this V8 took the flags (the `l` flag only parses with the linear engine switched on). */
export const linearEngineAvailable: boolean = (() => {
  try {
    // A literal with the `l` flag would not even parse without the engine (and the ignore must stay on one line).
    // biome-ignore lint/complexity/useRegexLiterals: see above
    new RegExp('a', 'l');
    return true;
  } catch {
    // A V8 without the linear engine: every pattern is refused below rather than run without a budget.
    return false;
  }
})();

/** Why the linear engine refuses a pattern, in words an operator can act on. */
function linearRefusal(source: string): string {
  if (/\\[1-9]|\\k</.test(source)) {
    return 'backreferences are not supported (linear-time engine); rewrite without \\1 or \\k<name>';
  }
  if (/\(\?<?[=!]/.test(source)) {
    const which = 'lookahead and lookbehind ((?=, (?!, (?<=, (?<!)';
    return `${which} are not supported (linear-time engine); rewrite without them`;
  }
  if (/\{\d+,?\d*\}/.test(source)) {
    return 'a repetition count makes this pattern too large for the linear-time engine; use a smaller {n} or + / *';
  }
  return 'this pattern cannot run in linear time; rewrite it without backreferences, lookarounds or large {n} counts';
}

const isLetter = (c: string): boolean => c.toLowerCase() !== c.toUpperCase();
const otherCase = (c: string): string => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase());

/** Length of the escape at `i` (source[i] is the backslash), so it is copied whole, never case-folded. */
function escapeLength(source: string, i: number): number {
  const next = source[i + 1] ?? '';
  const until = (close: string): number => Math.max(2, source.indexOf(close, i) - i + 1);
  if ((next === 'p' || next === 'P') && source[i + 2] === '{') return until('}');
  if (next === 'k' && source[i + 2] === '<') return until('>');
  if (next === 'u' && source[i + 2] === '{') return until('}');
  if (next === 'u') return 6;
  if (next === 'x') return 4;
  if (next === 'c') return 3;
  return 2;
}

/**
 * The linear engine on Node 20 refuses the `i` flag, so ignore-case is spelled out in the pattern instead:
 * `a` becomes `[aA]`, `[a-f]` becomes `[a-fA-F]`. Escapes (\w, \x41, \p{L}) and group names are copied as they are,
 * so a letter written as an escape (\x41) stays case-sensitive.
 */
export function foldCase(source: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < source.length; ) {
    const c = source[i]!;
    if (c === '\\') {
      const length = escapeLength(source, i);
      out += source.slice(i, i + length);
      i += length;
    } else if (!inClass && source.startsWith('(?<', i) && source[i + 3] !== '=' && source[i + 3] !== '!') {
      const end = source.indexOf('>', i);
      out += source.slice(i, end + 1);
      i = end + 1;
    } else if (c === '[' && !inClass) {
      inClass = true;
      out += c;
      i++;
    } else if (c === ']' && inClass) {
      inClass = false;
      out += c;
      i++;
    } else if (inClass && isLetter(c) && source[i + 1] === '-' && isLetter(source[i + 2] ?? '')) {
      const [from, to] = [c, source[i + 2]!];
      out += `${from}-${to}`;
      if ((from === from.toLowerCase()) === (to === to.toLowerCase())) out += `${otherCase(from)}-${otherCase(to)}`;
      i += 3;
    } else if (isLetter(c)) {
      out += inClass ? `${c}${otherCase(c)}` : `[${c}${otherCase(c)}]`;
      i++;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The source and flags actually compiled: `i` becomes folded case in the pattern (see foldCase). */
function linearForm(source: string, flags: string): { source: string; flags: string } {
  return flags.includes('i') ? { source: foldCase(source), flags: flags.replace('i', '') } : { source, flags };
}

/**
 * Why `source` may not be used, or null when it compiles and runs on the linear-time fallback.
 * `flags` are the flags it will run with (e.g. "i").
 */
export function safeRegexProblem(source: string, flags = ''): string | null {
  try {
    new RegExp(source, flags);
  } catch (err) {
    return `expected a valid regular expression (${(err as Error).message})`;
  }
  if (!linearEngineAvailable) {
    return 'this Node.js has no linear-time regular expression engine; patterns cannot be run safely';
  }
  const linear = linearForm(source, flags);
  try {
    new RegExp(linear.source, `${linear.flags}l`);
  } catch {
    if (/[uv]/.test(flags)) return 'the u and v flags are not supported by the linear-time engine';
    return linearRefusal(source);
  }
  return null;
}

/** Thrown for a pattern that may not run; the message starts with `where` (the config field or matcher). */
export class UnsafeRegexError extends Error {
  override name = 'UnsafeRegexError';
}

/**
 * Compiles a pattern from configuration or an operator. The RegExp runs at irregexp speed and falls back to
 * the linear-time engine after BACKTRACK_BUDGET backtracks, so no input line can hang the event loop.
 */
export function compileSafeRegex(source: string, flags: string, where: string): RegExp {
  const problem = safeRegexProblem(source, flags);
  if (problem) throw new UnsafeRegexError(`${where}: ${problem}`);
  const linear = linearForm(source, flags);
  return new RegExp(linear.source, linear.flags);
}
