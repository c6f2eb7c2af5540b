#!/usr/bin/env node
// Entry point installed as `offhook`: loads the TypeScript sources through tsx (a runtime dependency).
import { spawn } from 'node:child_process';

// The gateway's native line operations each hold a libuv pool thread while they wait (native/README.md), so libuv's
// 4 threads would leave fs, dns and crypto waiting behind the line. libuv sizes its pool once, at first use, from
// UV_THREADPOOL_SIZE, and Node 20's ESM loader has already used it to read this very file: setting the variable here
// is too late for this process. So for these commands, unless the operator set it, the real work runs in a child
// started with it set; this process only relays signals and the exit status.
const POOL_COMMANDS = new Set(['gateway', 'test-call']);
const GATEWAY_POOL_SIZE = '16';
const CHILD_MARK = 'OFFHOOK_POOL_SIZED';

if (POOL_COMMANDS.has(process.argv[2]) && !process.env.UV_THREADPOOL_SIZE && !process.env[CHILD_MARK]) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, UV_THREADPOOL_SIZE: GATEWAY_POOL_SIZE, [CHILD_MARK]: '1' },
  });
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`offhook: cannot start ${process.argv[2]}: ${err.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (!signal) process.exit(code ?? 1);
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  if (process.env[CHILD_MARK]) {
    delete process.env[CHILD_MARK];
    // The IPC channel only tells us the relaying parent is gone (even SIGKILLed): then go the same way, at once,
    // so a killed gateway never keeps the line or its held alerts.
    process.channel?.unref();
    process.on('disconnect', () => process.kill(process.pid, 'SIGKILL'));
  }
  const { register } = await import('tsx/esm/api');
  register();
  await import('./offhook.ts');
}
