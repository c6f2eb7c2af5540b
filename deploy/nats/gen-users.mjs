#!/usr/bin/env node
// Runs gen-users.ts from any directory: tsx is resolved from this install's node_modules, not the caller's.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('./gen-users.ts');
runCli(process.argv.slice(2));
