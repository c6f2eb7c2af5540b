import { openLine } from '../../../native/index.ts';
import type { FarEndScript, Line, SimLine } from '../../../native/line.ts';
import { systemClock } from '../../../shared/index.ts';
import type { LineConfig } from '../../config.ts';
import type { OpenDriver } from '../open.ts';
import { CardDriver } from './card-driver.ts';
import { SimCardDriver } from './sim.ts';

export { CardDriver } from './card-driver.ts';

/** Opens the line the config names: the Voicetronix card, or the simulated line with its far-end scripts. */
async function openCardLine(line: LineConfig): Promise<Line> {
  if (line.backend === 'vpb') {
    return openLine({
      backend: 'vpb',
      vpb: {
        board: line.vpb.board,
        channel: line.vpb.channel,
        ...(line.vpb.library_path ? { libraryPath: line.vpb.library_path } : {}),
      },
    });
  }
  const sim = await openLine({
    backend: 'sim',
    sim: {
      speed: line.sim.speed,
      noDialTone: line.sim.no_dial_tone,
      ...(line.sim.dial_tone_delay !== undefined ? { dialToneDelayMs: line.sim.dial_tone_delay } : {}),
      ...(line.sim.ring_period !== undefined ? { ringPeriodMs: line.sim.ring_period } : {}),
    },
  });
  for (const script of line.sim.far_end) sim.script(script as unknown as FarEndScript);
  return sim;
}

/** The `card` driver: the analog line through native/ (`backend: vpb` or `sim`), or a line the caller opened. */
export const open: OpenDriver = async (config, context) => {
  const line = context.line ?? (await openCardLine(config));
  // Which libvpb binding is in use says which driver generation the addon was built for (native/README.md).
  if (line.backend === 'vpb') context.logger.info({ binding: line.binding }, 'vpb line open');
  const clock = context.clock ?? systemClock;
  const options = { dialPrefix: config.dial_prefix, now: () => clock.now() };
  if (line.backend === 'sim') return new SimCardDriver(line as SimLine, config.sim, options, context.logger);
  return new CardDriver(line, options);
};
