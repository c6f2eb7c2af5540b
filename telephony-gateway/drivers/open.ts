import type { Line } from '../../native/line.ts';
import type { Clock, Logger, Registry } from '../../shared/index.ts';
import type { LineConfig } from '../config.ts';
import type { LineDriver } from './driver.ts';

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

/**
 * Every line driver, by the name `line.driver` gives it. A module is loaded only when its driver is chosen, so a card
 * gateway never loads the SIP code (and config.ts can take the names from here without loading any driver).
 */
const DRIVERS = {
  card: () => import('./card/index.ts'),
  sip: () => import('./sip/index.ts'),
};

export type DriverName = keyof typeof DRIVERS;
export const DRIVER_NAMES = Object.keys(DRIVERS) as [DriverName, ...DriverName[]];

/** The one place a line driver is chosen: the process, the tests and the benches all open their line here. */
export async function openDriver(line: LineConfig, context: DriverContext): Promise<LineDriver> {
  const driver: { open: OpenDriver } = await DRIVERS[line.driver]();
  return driver.open(line, context);
}
