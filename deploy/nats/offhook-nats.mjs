#!/usr/bin/env node
// Runs offhook-nats.ts (ensure-streams, backup, restore) from any directory, like offhook.mjs does for the CLI.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./offhook-nats.ts');
await runCli(process.argv.slice(2));
