import type { Template } from 'liquidjs';
import { compileTemplate, renderLenient, templateVariables } from '../notify/template.ts';

/** Numbers read out on the phone: no long fractions ("95.3", not "95.2999"). */
export function formatValue(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return 'unknown';
  const abs = Math.abs(value);
  if (abs >= 100 || Number.isInteger(value)) return String(Math.round(value));
  if (abs >= 1) return String(Math.round(value * 10) / 10);
  return String(Number(value.toPrecision(2)));
}

export function formatDuration(ms: number): string {
  if (ms % 86_400_000 === 0 && ms >= 86_400_000) return plural(ms / 86_400_000, 'day');
  if (ms % 3_600_000 === 0 && ms >= 3_600_000) return plural(ms / 3_600_000, 'hour');
  if (ms % 60_000 === 0 && ms >= 60_000) return plural(ms / 60_000, 'minute');
  // Spoken durations round to the unit a person would use ("121 s" is "2 minutes").
  if (ms >= 2 * 3_600_000) return plural(Math.round(ms / 3_600_000), 'hour');
  if (ms >= 120_000) return plural(Math.round(ms / 60_000), 'minute');
  if (ms < 1000) return plural(ms, 'millisecond');
  return plural(Math.round(ms / 1000), 'second');
}

function plural(n: number, unit: string): string {
  return `${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** `{{` or `{%` anywhere means the summary is a Liquid template; otherwise `{name}` placeholders as before. */
export const isLiquid = (template: string): boolean => template.includes('{{') || template.includes('{%');

const compiled = new Map<string, Template[]>();

/** Liquid summary: the kind's placeholders as variables (`{{ host }}`, `{{ value }}`) and `labels`. */
function renderLiquid(template: string, vars: Record<string, string>, labels: Record<string, string>): string {
  let parsed = compiled.get(template);
  if (!parsed) {
    parsed = compileTemplate(template);
    compiled.set(template, parsed);
  }
  return renderLenient(parsed, { ...vars, labels });
}

const PLACEHOLDER_RE = /\{([a-zA-Z_][a-zA-Z0-9_]*(?:\.[a-zA-Z_][a-zA-Z0-9_]*)?)\}/g;

/**
 * Fills "{host}: disk {labels.mountpoint} is {value} % full" from the variables; an unknown
 * placeholder stays visible rather than vanishing, so a typo shows up in the first alert.
 * A Liquid summary (see isLiquid) that fails while rendering gives `fallback` (the kind's built-in summary) instead:
 * check-config has checked its syntax and variable names, so only a filter failing on this data gets here.
 */
export function renderSummary(
  template: string,
  vars: Record<string, string>,
  labels: Record<string, string> = {},
  fallback?: string,
): string {
  let text: string;
  if (isLiquid(template)) {
    try {
      text = renderLiquid(template, vars, labels);
    } catch {
      // Safe: the alert still needs a sentence; the built-in one says the same facts. Config checks make this rare.
      return fallback === undefined ? clip(template, 500) : renderSummary(fallback, vars, labels);
    }
  } else {
    text = template.replace(PLACEHOLDER_RE, (whole, key: string) => {
      if (key.startsWith('labels.')) return labels[key.slice(7)] ?? '';
      return vars[key] ?? whole;
    });
  }
  return clip(text.replace(/\s+/g, ' ').trim(), 500);
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** Placeholders a template may use, for config validation (Liquid: root variable names other than `labels`). */
export function unknownPlaceholders(template: string, known: readonly string[]): string[] {
  if (isLiquid(template))
    return templateVariables(template).filter((name) => name !== 'labels' && !known.includes(name));
  const unknown: string[] = [];
  for (const match of template.matchAll(PLACEHOLDER_RE)) {
    const key = match[1]!;
    if (!key.startsWith('labels.') && !known.includes(key)) unknown.push(key);
  }
  return unknown;
}
