import type * as z from 'zod';
import { Duration, formatPromDuration, Labels, Port, RegexSource } from '../shared/index.ts';
import { checkPlugins } from './checks/index.ts';
import { Bytes } from './config-types.ts';

/**
 * The check reference in agent/README.md is generated from the plugins' schemas, so it cannot
 * drift: test/agent/readme.test.ts compares the two.
 */
type Def = {
  type: string;
  defaultValue?: unknown;
  innerType?: z.ZodType;
  element?: z.ZodType;
  entries?: Record<string, string>;
  values?: unknown[];
  in?: z.ZodType;
};

const NAMED = new Map<unknown, string>([
  [Duration, 'duration'],
  [Port, 'port'],
  [RegexSource, 'regex'],
  [Bytes, 'size'],
  [Labels, 'map'],
]);

function describe(schema: z.ZodType): { type: string; required: boolean; defaultValue?: unknown } {
  const named = NAMED.get(schema);
  if (named) return { type: named, required: true };
  const def = (schema as unknown as { def: Def }).def;
  switch (def.type) {
    case 'default': {
      const inner = describe(def.innerType!);
      return { type: inner.type, required: false, defaultValue: def.defaultValue };
    }
    case 'optional':
      return { ...describe(def.innerType!), required: false };
    case 'string':
      return { type: 'string', required: true };
    case 'number':
      return { type: 'number', required: true };
    case 'boolean':
      return { type: 'boolean', required: true };
    case 'enum':
      return { type: Object.values(def.entries!).join(' \\| '), required: true };
    case 'literal':
      return { type: def.values!.map(String).join(' \\| '), required: true };
    case 'array':
      return { type: `list of ${describe(def.element!).type}`, required: true };
    case 'record':
      return { type: 'map', required: true };
    case 'pipe':
      return { type: NAMED.get(def.in) ?? describe(def.in!).type, required: true };
    default:
      return { type: def.type, required: true };
  }
}

function showDefault(kind: string, field: string, value: unknown): string {
  if (value === undefined) return '';
  if (['interval', 'timeout'].includes(field) && typeof value === 'number') return formatPromDuration(value);
  return kind && typeof value === 'object' ? JSON.stringify(value) : String(value);
}

export function checkReference(): string {
  const out: string[] = [];
  for (const plugin of checkPlugins) {
    const shape = (plugin.configSchema as unknown as { shape: Record<string, z.ZodType> }).shape;
    const kinds = [plugin.kind, ...(plugin.aliases ?? [])].map((k) => `\`${k}\``).join(' / ');
    out.push(`### ${kinds}`, '', plugin.description, '', '| field | type | default |', '|---|---|---|');
    for (const [field, schema] of Object.entries(shape)) {
      if (field === 'kind') continue;
      const info = describe(schema);
      out.push(
        `| \`${field}\` | ${info.type} | ` +
          `${info.required ? '**required**' : showDefault(plugin.kind, field, info.defaultValue)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}
