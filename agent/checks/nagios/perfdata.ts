/**
 * Nagios performance data: `'label'=value[UOM];[warn];[crit];[min];[max]`, items separated by
 * spaces. Labels with spaces or `=` are single-quoted, a quote inside doubled (`'it''s'`). Trailing
 * fields may be missing or empty. A value of `U` means "could not be determined" and is skipped.
 * Anything else that does not fit is reported in `errors` (naming the item) and skipped: a plugin
 * printing garbage loses that item, never the others.
 */

/** A Nagios threshold range: alert outside [low, high], or inside it when `inside` (`@`). */
export interface Range {
  low: number;
  high: number;
  inside: boolean;
  /** The low bound was written (`10:`, `10:20`), not the implicit 0 of a bare `20`. */
  lowGiven: boolean;
}

export interface PerfItem {
  label: string;
  value: number;
  uom: string;
  warn?: Range;
  crit?: Range;
  min?: number;
  max?: number;
}

export interface ParsedPerfdata {
  items: PerfItem[];
  /** Labels whose value was `U`. */
  undetermined: string[];
  errors: string[];
}

const NUMBER = /^[-+]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][-+]?\d+)?/;
const WHITESPACE = /\s/;
const MAX_LABEL_CHARS = 1024;

function parseNumber(text: string): number | null {
  const match = NUMBER.exec(text);
  if (!match || match[0].length !== text.length) return null;
  const value = Number(text.replace(',', '.'));
  return Number.isFinite(value) ? value : null;
}

/** `10`, `10:`, `~:10`, `10:20`, `@10:20`; null when it is not a range. */
export function parseRange(text: string): Range | null {
  const inside = text.startsWith('@');
  const body = inside ? text.slice(1) : text;
  const colon = body.indexOf(':');
  let low = 0;
  let high = Infinity;
  let lowGiven = false;
  if (colon < 0) {
    const end = parseNumber(body);
    if (end === null) return null;
    high = end;
  } else {
    const start = body.slice(0, colon);
    const end = body.slice(colon + 1);
    if (start === '~') low = -Infinity;
    else if (start !== '') {
      const parsed = parseNumber(start);
      if (parsed === null) return null;
      low = parsed;
      lowGiven = true;
    }
    if (end !== '') {
      const parsed = parseNumber(end);
      if (parsed === null) return null;
      high = parsed;
    }
  }
  if (low > high) return null;
  return { low, high, inside, lowGiven };
}

type Token = { label: string; data: string } | { error: string };

/** Splits perfdata text into label/data pairs and, in their place, what cannot be split. */
function tokenize(text: string): Token[] {
  const pairs: Token[] = [];
  let i = 0;
  const skipToSpace = (): void => {
    while (i < text.length && !WHITESPACE.test(text[i]!)) i++;
  };
  while (i < text.length) {
    if (WHITESPACE.test(text[i]!)) {
      i++;
      continue;
    }
    const start = i;
    let label = '';
    if (text[i] === "'") {
      i++;
      let closed = false;
      while (i < text.length) {
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            label += "'";
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        label += text[i++];
      }
      if (!closed) {
        pairs.push({
          error: `${quote(text.slice(start))}: unterminated quoted label (a quote inside a label is written '')`,
        });
        break;
      }
    } else {
      while (i < text.length && text[i] !== '=' && !WHITESPACE.test(text[i]!)) i++;
      label = text.slice(start, i);
    }
    if (text[i] !== '=') {
      skipToSpace();
      pairs.push({ error: `${quote(text.slice(start, i))}: expected label=value` });
      continue;
    }
    i++;
    const dataStart = i;
    skipToSpace();
    pairs.push({ label, data: text.slice(dataStart, i) });
  }
  return pairs;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}...` : text);
}

export function parsePerfdata(text: string): ParsedPerfdata {
  const errors: string[] = [];
  const items: PerfItem[] = [];
  const undetermined: string[] = [];
  for (const token of tokenize(text)) {
    if ('error' in token) {
      errors.push(token.error);
      continue;
    }
    const { label, data } = token;
    const item = `${quote(`${label}=${data}`)}`;
    if (label === '') {
      errors.push(`${item}: empty label`);
      continue;
    }
    if (label.length > MAX_LABEL_CHARS) {
      errors.push(`${item}: label longer than ${MAX_LABEL_CHARS} characters`);
      continue;
    }
    const [valueField = '', warn = '', crit = '', min = '', max = ''] = data.split(';');
    if (/^U(?![0-9.])/.test(valueField)) {
      undetermined.push(label);
      continue;
    }
    const number = NUMBER.exec(valueField);
    const value = number ? parseNumber(number[0]) : null;
    if (number === null || value === null) {
      errors.push(`${item}: value ${quote(valueField)} is not a number or U`);
      continue;
    }
    const uom = valueField.slice(number[0].length);
    if (/[\d.,]/.test(uom) || uom.length > 32) {
      errors.push(`${item}: value ${quote(valueField)} is not a number with a unit`);
      continue;
    }
    const parsed: PerfItem = { label, value, uom };
    const fields = { warn, crit, min, max } as const;
    for (const field of ['warn', 'crit'] as const) {
      if (fields[field] === '') continue;
      const range = parseRange(fields[field]);
      if (range) parsed[field] = range;
      else
        errors.push(`${item}: ${field} ${quote(fields[field])} is not a Nagios range (10, 10:, ~:10, 10:20, @10:20)`);
    }
    for (const field of ['min', 'max'] as const) {
      if (fields[field] === '' || fields[field] === 'U') continue;
      const bound = parseNumber(fields[field]);
      if (bound !== null) parsed[field] = bound;
      else errors.push(`${item}: ${field} ${quote(fields[field])} is not a number`);
    }
    items.push(parsed);
  }
  return { items, undetermined, errors };
}
