import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { parseDocument } from 'yaml';
import type * as z from 'zod';
import { ConfigError } from './config.ts';
import { unreadableNatsFiles, type NatsConfig } from './nats.ts';
import { formatZodIssueLines } from './zod-errors.ts';

/**
 * No offhook config comes near this (the shipped examples are a few KiB). Without a limit a 50 MB file took a
 * collector 78 s and 4.3 GB of memory to die of a V8 out-of-memory abort.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;
/**
 * Alias expansions allowed while building the config (the yaml package's maxAliasCount): a few anchors reused for
 * shared settings stay far below it, an alias bomb ("billion laughs") stops at it instead of filling memory.
 */
export const MAX_ALIAS_COUNT = 100;

/** A process's config file: its schema plus what an empty or half-written file must not be silently run with. */
export interface ConfigFileKind<S extends z.ZodType = z.ZodType> {
  schema: S;
  /** Named in messages: "collector" (the example is deploy/examples/<label>.yaml). */
  label: string;
  /** Top-level keys a file must set, with why: their defaults would run a process that does nothing useful. */
  required?: Record<string, string>;
  /** The sections an empty file is told to start with (deploy/examples/<label>.yaml has them all). */
  essentials: string[];
  /** Settings left to a default that is real but worth saying: printed by check-config, logged at start. */
  notices?: (input: Record<string, unknown>) => string[];
}

export interface LoadedConfig<T> {
  config: T;
  notices: string[];
  /** The text it was read from: a reload that reads the same text has nothing to apply. */
  text: string;
}

const errorCode = (err: unknown): string => (err as NodeJS.ErrnoException).code ?? (err as Error).message;

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

function tooBig(name: string, bytes: number, exact: boolean): ConfigError {
  const limit = mib(MAX_CONFIG_BYTES).replace('.0 ', ' ');
  // 1 MiB + 1 byte would read "1.0 MiB; the limit is 1 MiB": give bytes when one decimal cannot tell them apart.
  const size = !exact ? `more than ${limit}` : mib(bytes) === mib(MAX_CONFIG_BYTES) ? `${bytes} bytes` : mib(bytes);
  return new ConfigError(name, [`file is ${size}; the limit is ${limit}`]);
}

/** Reads at most MAX_CONFIG_BYTES: the size is checked before reading, and pipes or devices are cut off at it. */
function readBounded(file: string, name: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new ConfigError(name, [`cannot read ${file}: ${errorCode(err)}`]);
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      throw new ConfigError(name, [`cannot read ${file}: it is a directory, expected a YAML file`]);
    }
    if (stat.isFile() && stat.size > MAX_CONFIG_BYTES) throw tooBig(name, stat.size, true);
    const buffer = Buffer.alloc(MAX_CONFIG_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    // A regular file that grew while being read, or a pipe: no size known beforehand.
    if (length > MAX_CONFIG_BYTES) throw tooBig(name, length, false);
    return buffer.toString('utf8', 0, length);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new ConfigError(name, [`cannot read ${file}: ${errorCode(err)}`]);
  } finally {
    closeSync(fd);
  }
}

/** Flow collections ([ ] and { }) nested deeper than this are refused before parsing (no config nests past 5). */
export const MAX_FLOW_DEPTH = 64;

/**
 * The deepest [ ] / { } nesting outside quotes and comments. The parser recurses per level: 1 MiB of "[" took 5.7 s
 * and 690 MB before it gave up, this scan takes milliseconds. A stray "[" in a plain scalar counts too, which can
 * only overestimate; a real config stays far below the limit either way.
 */
function flowDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote !== null) {
      if (quote === '"' && c === '\\') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const end = text.indexOf('\n', i);
      if (end < 0) break;
      i = end;
    } else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return deepest;
}

/** YAML text to plain data; every failure is a ConfigError naming the file, never a stack trace. */
function yamlToData(text: string, name: string): unknown {
  if (flowDepth(text) > MAX_FLOW_DEPTH) {
    throw new ConfigError(name, [`YAML: nested too deeply (more than ${MAX_FLOW_DEPTH} levels of [ ] or { })`]);
  }
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) {
      // The parser turns a stack overflow on deep nesting ([[[[...) into an error of its own: say what it means.
      const overflow = doc.errors.some((e) => /maximum call stack/i.test(e.message));
      if (overflow) throw new ConfigError(name, ['YAML: nested too deeply']);
      throw new ConfigError(
        name,
        doc.errors.map((e) => `YAML syntax: ${e.message.split('\n')[0]}`),
      );
    }
    return doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const message = (err as Error).message;
    if (/excessive alias count/i.test(message)) {
      const limit = `limit ${MAX_ALIAS_COUNT} alias expansions`;
      throw new ConfigError(name, [`YAML: too many aliases (${limit}); write the values out`]);
    }
    if (err instanceof RangeError) throw new ConfigError(name, ['YAML: nested too deeply']);
    throw new ConfigError(name, [`YAML: ${message.split('\n')[0]}`]);
  }
}

function isKind(spec: z.ZodType | ConfigFileKind): spec is ConfigFileKind {
  return typeof (spec as ConfigFileKind).label === 'string' && 'schema' in spec;
}

function emptyMessage(kind: ConfigFileKind | null): string {
  if (!kind) return 'the file is empty; expected a YAML mapping of settings';
  const what = kind.essentials.map((k) => `${k}:`).join(' and ');
  return `the file is empty; the ${kind.label} needs at least ${what} (see deploy/examples/${kind.label}.yaml)`;
}

type Spec<S extends z.ZodType> = S | ConfigFileKind<S>;

function parseWithNotices<S extends z.ZodType>(text: string, file: string, spec: Spec<S>): LoadedConfig<z.infer<S>> {
  const name = basename(file);
  const kind = isKind(spec) ? spec : null;
  const schema = kind ? kind.schema : (spec as S);
  const data = yamlToData(text, name);
  // An empty file (or only comments) used to start a process on built-in defaults: no rules, local NATS.
  if (data === null || data === undefined) throw new ConfigError(name, [emptyMessage(kind)]);
  const problems: string[] = [];
  const isMap = typeof data === 'object' && !Array.isArray(data);
  if (kind && isMap && Object.keys(data).length === 0) throw new ConfigError(name, [emptyMessage(kind)]);
  if (kind && isMap) {
    for (const [key, why] of Object.entries(kind.required ?? {})) {
      if (!(key in data)) problems.push(`${key}: missing; ${why}`);
    }
  }
  let result: ReturnType<S['safeParse']>;
  try {
    result = schema.safeParse(data) as ReturnType<S['safeParse']>;
  } catch (err) {
    // Deep nesting that the parser took can still exhaust the stack in validation.
    if (err instanceof RangeError) throw new ConfigError(name, ['YAML: nested too deeply']);
    throw err;
  }
  if (!result.success) problems.push(...formatZodIssueLines(result.error, data));
  if (problems.length > 0) throw new ConfigError(name, problems);
  const notices = kind?.notices && isMap ? kind.notices(data as Record<string, unknown>) : [];
  return { config: result.data as z.infer<S>, notices, text };
}

export function parseConfigText<S extends z.ZodType>(text: string, file: string, spec: Spec<S>): z.infer<S> {
  return parseWithNotices(text, file, spec).config;
}

/** Reads, parses and validates a config file; every problem is a ConfigError (exit code 2 in the commands). */
export function loadConfigFile<S extends z.ZodType>(file: string, spec: Spec<S>): z.infer<S> {
  return readConfigFile(file, spec).config;
}

/** loadConfigFile plus the notices about real defaults a process logs at start and check-config prints. */
export function readConfigFile<S extends z.ZodType>(file: string, spec: Spec<S>): LoadedConfig<z.infer<S>> {
  return parseWithNotices(readBounded(file, basename(file)), file, spec);
}

/**
 * readConfigFile for a process about to run: the files its `nats:` section names (nkey seed, creds, TLS) must also be
 * readable here, or it is a config error now rather than a connection that never happens.
 */
export function readProcessConfig<S extends z.ZodType>(
  file: string,
  kind: ConfigFileKind<S>,
): LoadedConfig<z.infer<S>> {
  const loaded = readConfigFile(file, kind);
  const nats = (loaded.config as { nats?: NatsConfig }).nats;
  const problems = nats ? unreadableNatsFiles(nats) : [];
  if (problems.length > 0) throw new ConfigError(basename(file), problems);
  return loaded;
}

/** Notice for a process whose file leaves out nats: (the local default server is a real choice on one host). */
export function natsDefaultNotice(input: Record<string, unknown>): string[] {
  return 'nats' in input ? [] : ['nats: not set; connecting to nats://127.0.0.1:4222 (the default)'];
}
