/**
 * The line drivers' names, as `line.driver` takes them. A list of its own, not the keys of drivers/open.ts: the config
 * schema is loaded by operator commands (check-config, status) that must not load a driver, and the card driver loads
 * native/ and its addon. open.ts is typed against this list, so a name without a driver (or the reverse) fails the
 * typecheck.
 */
export const DRIVER_NAMES = ['card', 'sip'] as const;

export type DriverName = (typeof DRIVER_NAMES)[number];
