import type { Line } from '../../native/line.ts';
import type { Clock, Logger, Registry } from '../../shared/index.ts';
import type { LineConfig } from '../config.ts';
import { open as card } from './card/index.ts';
import type { LineDriver } from './driver.ts';
import type { DriverName } from './names.ts';
import { open as sip } from './sip/index.ts';

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
 * Every line driver, by the name `line.driver` gives it (names.ts lists the names for the config). Imported
 * statically, not with import(): the build splits each role's on-demand imports into chunks in a folder of their own,
 * where native/ would no longer find its addon next to the module (dist/build/Release).
 */
const DRIVERS = { card, sip } satisfies Record<DriverName, OpenDriver>;

export { DRIVER_NAMES, type DriverName } from './names.ts';

/** The one place a line driver is chosen: the process, the tests and the benches all open their line here. */
export function openDriver(line: LineConfig, context: DriverContext): Promise<LineDriver> {
  return DRIVERS[line.driver](line, context);
}
