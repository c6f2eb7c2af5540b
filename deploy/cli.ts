import { InvalidArgumentError, type Command } from 'commander';
import { runDemo } from './demo/run.ts';

function speed(value: string): number {
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 1 || parsed > 1000)
    throw new InvalidArgumentError('expected a number from 1 to 1000');
  return parsed;
}

export function registerDeployCommands(program: Command): void {
  program
    .command('demo')
    .description(
      'All-in-one demo: embedded nats-server on a free loopback port, three agents, the collector, ' +
        'and the gateway on the simulated line',
    )
    .option('--speed <factor>', 'run the simulated phone line this many times faster than real time', speed, 1)
    .option('--no-scenario', 'do not play the scripted incident (shop down → call → ack → recovery → log errors)')
    .option('--exit-after-scenario', 'stop everything once the scenario is over instead of waiting for Ctrl-C')
    .option('--keep-dir', 'keep the demo directory (configs, logs, line transcript) on exit')
    .addHelpText(
      'after',
      "\nThe demo writes its configs, each process's JSON log and the line transcript to a temp directory\n" +
        '(printed at start), removed on exit unless --keep-dir. Ctrl-C stops every process it started.',
    )
    .action(async (options: { speed: number; scenario: boolean; exitAfterScenario?: boolean; keepDir?: boolean }) => {
      await runDemo({
        speed: options.speed,
        scenario: options.scenario,
        exitAfterScenario: options.exitAfterScenario === true,
        keepDir: options.keepDir === true,
      });
    });
}
