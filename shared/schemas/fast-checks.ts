import { LABEL_NAME_RE } from './common.ts';

/*
 * What the hand-written acceptors (resource-fast.ts, log-fast.ts) check the same way zod's schemas do. Each acceptor
 * answers only "valid, and here is what zod would return" or "not sure" (zod then decides and words the rejection);
 * test/shared/*-fast.test.ts hold them equal to zod. A change to common.ts must be mirrored here.
 */

export const MAX_LABELS = 64;
export const MAX_LABEL_VALUE = 1024;
export const MAX_MESSAGE_ID = 128;
/** How many distinct valid names each cache keeps: a flood of new names then only takes the regex again. */
export const KNOWN_NAMES_CAP = 10_000;

export type Loose = Record<string, unknown>;

export function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** zod 4's number().int() accepts safe integers only; nonnegative() lets -0 through, as this does. */
export function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

/** A string zod's string().min(min).max(max) accepts (UTF-16 code units, as String.length counts). */
export function isText(value: unknown, min: number, max: number): value is string {
  return typeof value === 'string' && value.length >= min && value.length <= max;
}

/**
 * A plain object whose enumerable keys are exactly `keys`, in that order: zod would build an equal object with the
 * same key order, so the input can stand for it (a JSON.parse result has no symbol or non-enumerable keys).
 */
export function hasExactly(obj: Loose, keys: readonly string[]): boolean {
  if (Object.getPrototypeOf(obj) !== Object.prototype) return false;
  let i = 0;
  for (const key in obj) if (key !== keys[i++]) return false;
  return i === keys.length;
}

/** Agents send the same few label names every time: a name seen valid once skips the regex. */
const knownLabelNames = new Set<string>();

function labelNameValid(name: string): boolean {
  if (knownLabelNames.has(name)) return true;
  if (!LABEL_NAME_RE.test(name) || name.startsWith('__')) return false;
  if (knownLabelNames.size < KNOWN_NAMES_CAP) knownLabelNames.add(name);
  return true;
}

/** Valid label names that decode() refuses as keys anywhere (shared/decode.ts FORBIDDEN_KEYS). */
const PROTOTYPE_WORDS = new Set(['constructor', 'prototype']);

export const INVALID = 0;
export const VALID = 1;
/** Valid, but a key is one decode() looks for in the text (PROTOTYPE_WORDS). */
export const VALID_PROTOTYPE_WORD = 2;

/** The common.ts Labels schema's verdict on `labels`, an object. */
export function labelsVerdict(labels: Loose): number {
  const keys = Object.keys(labels);
  if (keys.length > MAX_LABELS) return INVALID;
  let verdict = VALID;
  for (const key of keys) {
    if (!labelNameValid(key)) return INVALID;
    const value = labels[key];
    if (typeof value !== 'string' || value.length > MAX_LABEL_VALUE) return INVALID;
    if (PROTOTYPE_WORDS.has(key)) verdict = VALID_PROTOTYPE_WORD;
  }
  return verdict;
}
