import type * as z from 'zod';
import { cardSettings } from './card/config.ts';
import type { OpenDriver } from './open.ts';
import { SipLineConfig } from './sip/config.ts';

/** Settings a driver adds to `line:`, each optional or defaulted (every driver's settings share the one object). */
type Settings = Record<string, z.ZodType>;

/** One line driver as `line.driver` names it. */
export interface LineDriverEntry<Name extends string = string, S extends Settings = Settings> {
  readonly name: Name;
  readonly settings: S;
  /** Settings that must be given when this driver is chosen (sip's `sip:` section). */
  readonly requires: readonly string[];
  /**
   * Loads the driver module on demand (its `open`), so the config schema, and the operator commands that load it,
   * load no driver code: the card driver loads native/ and its addon.
   */
  readonly load: () => Promise<{ open: OpenDriver }>;
}

/** An entry, with its name and settings kept as literal types for the config schema. */
function driver<const Name extends string, S extends Settings = Record<never, never>>(entry: {
  name: Name;
  settings?: S;
  requires?: readonly (keyof S & string)[];
  load: () => Promise<{ open: OpenDriver }>;
}): LineDriverEntry<Name, S> {
  return { settings: {} as S, requires: [], ...entry };
}

/** Every line driver. Adding one is a new file (or folder) and one line here. */
export const LINE_DRIVERS = [
  driver({ name: 'card', settings: cardSettings, load: () => import('./card/index.ts') }),
  driver({
    name: 'sip',
    settings: { sip: SipLineConfig.optional() },
    requires: ['sip'],
    load: () => import('./sip/index.ts'),
  }),
] as const;

type Entries = typeof LINE_DRIVERS;
export type DriverName = Entries[number]['name'];
type Intersect<U> = (U extends unknown ? (u: U) => void : never) extends (i: infer I) => void ? I : never;
/** Every driver's settings in one shape, each with its own type. */
export type DriverSettings = Intersect<Entries[number]['settings']>;

export const DRIVER_NAMES = LINE_DRIVERS.map((entry) => entry.name) as unknown as readonly [
  DriverName,
  ...DriverName[],
];

/** The settings of all drivers, for `LineConfig`; a setting two drivers declare is a mistake caught at load. */
export function driverSettings(): DriverSettings {
  const shape: Settings = {};
  for (const entry of LINE_DRIVERS as readonly LineDriverEntry[]) {
    for (const [key, schema] of Object.entries(entry.settings)) {
      if (key in shape) throw new Error(`line driver ${entry.name}: setting ${key} is another driver's already`);
      shape[key] = schema;
    }
  }
  return shape as DriverSettings;
}

export function driverEntry(name: string): LineDriverEntry | undefined {
  return (LINE_DRIVERS as readonly LineDriverEntry[]).find((entry) => entry.name === name);
}
