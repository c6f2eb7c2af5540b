import type { Line } from '../../native/line.ts';
import type { Clock, Logger, Registry } from '../../shared/index.ts';
import type { LineConfig } from '../config.ts';
import type { LineDriver } from './driver.ts';
import { driverEntry } from './registry.ts';

/** What a driver may need besides its `line:` settings. */
export interface DriverContext {
  /** The gateway's `state_dir`; a driver keeps its run files in a folder of its own under it. */
  stateDir: string;
  logger: Logger;
  /** Where a driver registers its metrics (the sip driver's baresip restarts); none when absent. */
  registry?: Registry;
  /** The gateway's clock, for off-hook times; the system clock when absent. */
  clock?: Clock;
  /** An analog line opened already (tests hand in a sim line they script); only the card driver takes one. */
  line?: Line;
}

/** Each driver module exports `open` of this type. */
export type OpenDriver = (line: LineConfig, context: DriverContext) => Promise<LineDriver>;

export { DRIVER_NAMES, type DriverName } from './registry.ts';

/**
 * The one place a line driver is chosen: the process, the tests and the benches all open their line here. The driver
 * module is loaded now, on demand (drivers/registry.ts), so only the chosen driver's code is ever loaded.
 */
export async function openDriver(line: LineConfig, context: DriverContext): Promise<LineDriver> {
  const entry = driverEntry(line.driver);
  // The config schema accepts only registered names; a hand-built config may still name another.
  if (!entry) throw new Error(`line.driver: no driver named "${line.driver}"`);
  const { open } = await entry.load();
  return open(line, context);
}
