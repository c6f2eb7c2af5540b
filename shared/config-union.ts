import * as z from 'zod';

type Discriminable = z.core.$ZodTypeDiscriminable;
/** What a registry entry needs for the union: a collector rule plugin and an agent check plugin both fit. */
export interface HasSchema {
  readonly kind: string;
  readonly configSchema: Discriminable;
}
/** The schema of each plugin, position for position, so z.infer keeps every member's own type. */
type SchemasOf<T extends readonly HasSchema[]> = { -readonly [I in keyof T]: T[I]['configSchema'] };

/**
 * One discriminated union over `kind` built from a registry tuple (`[a, b, c] as const`), so registering a plugin
 * also registers its config schema: no second list to keep in step. The tuple must stay a tuple (`as const`, not
 * `readonly Plugin[]`) or the inferred config type collapses to the plugin base type.
 */
export function configUnion<const T extends readonly [HasSchema, ...HasSchema[]]>(plugins: T, error: string) {
  // map() loses the tuple positions; SchemasOf restores them (one schema per plugin, same order).
  const schemas = plugins.map((p) => p.configSchema) as SchemasOf<T>;
  return z.discriminatedUnion('kind', schemas, { error });
}

/** The values a plugin's schema accepts for `kind` (its z.literal/z.enum), for registry consistency checks. */
export function schemaKinds(plugin: HasSchema): string[] {
  const values = plugin.configSchema._zod.propValues?.kind;
  return values ? [...values].map(String) : [];
}
