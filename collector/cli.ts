import type { Command } from 'commander';
import type { ConfigKinds } from '../deploy/check-config.ts';

/** Config schemas `offhook check-config` knows for the collector (filled in as the collector lands). */
export const collectorConfigKinds: ConfigKinds = {};

export function registerCollectorCommands(_program: Command): void {}
