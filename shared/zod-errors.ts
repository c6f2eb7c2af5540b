import type * as z from 'zod';

/** Renders a zod path the way an operator reads a YAML/JSON path: checks[2].port */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): { found: boolean; value: unknown } {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, part))
      return { found: false, value: undefined };
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return { found: true, value: current };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  if (text === undefined) return String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** "at least 3 characters", "at most 5 items", "a value >= 1": a size or value limit as an operator reads it. */
function bound(origin: string, words: string, sign: string, limit: number | bigint): string {
  if (origin === 'string') return `${words} ${limit} characters`;
  if (origin === 'array') return `${words} ${limit} items`;
  return `a value ${sign} ${limit}`;
}

/** Rewrites zod's wording into "expected X" so every message reads "<path>: expected X, got Y". */
function expectation(issue: z.core.$ZodIssue): string {
  const message = issue.message;
  if (message.startsWith('expected') || message.startsWith('at most') || message.startsWith('label')) return message;
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `expected ${bound(issue.origin, 'at least', '>=', issue.minimum)}`;
    case 'too_big':
      return `expected ${bound(issue.origin, 'at most', '<=', issue.maximum)}`;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'unrecognized_keys':
      return (
        `unknown field${issue.keys.length > 1 ? 's' : ''} ` +
        `${issue.keys.map((k) => JSON.stringify(k)).join(', ')} (check the spelling)`
      );
    case 'invalid_union':
      return 'expected one of the allowed shapes';
    default:
      return message;
  }
}

/** One line per problem: `checks[2].port: expected integer 1-65535, got "eighty"`. */
export function formatZodIssueLines(error: z.ZodError, input: unknown): string[] {
  return error.issues.map((issue) => {
    const { found, value } = valueAt(input, issue.path);
    const got = issue.code === 'unrecognized_keys' ? '' : `, got ${found ? describeValue(value) : 'nothing'}`;
    return `${formatPath(issue.path)}: ${expectation(issue)}${got}`;
  });
}

export function formatZodIssues(error: z.ZodError, input: unknown): string {
  return formatZodIssueLines(error, input).slice(0, 5).join('; ');
}
