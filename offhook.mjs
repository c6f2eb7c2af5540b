#!/usr/bin/env node
// Development entry point: runs the TypeScript sources through tsx. Installs run the bundles `npm run build` makes
// (dist/offhook, see deploy/README.md), which need neither tsx nor TypeScript.
// One process per command: the gateway wants UV_THREADPOOL_SIZE=16, which libuv reads before this file runs, so the
// launcher (dist/offhook), the unit and the demo set it; started here without it the gateway warns and runs.
const { register } = await import('tsx/esm/api');
register();
await import('./offhook.ts');
