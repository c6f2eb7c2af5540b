import type { Command } from 'commander';
import { runDemo } from './demo/run.ts';

export function registerDeployCommands(program: Command): void {
  program
    .command('demo')
    .description('All-in-one demo: embedded nats-server on a free loopback port, agent, collector and gateway on the simulated line')
    .option('--keep-dir', 'keep the demo state directory on exit')
    .action(async (options: { keepDir?: boolean }) => {
      await runDemo({ keepDir: options.keepDir === true });
    });
}
