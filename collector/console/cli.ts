import type { Command } from 'commander';
import { EXIT_USAGE } from '../../shared/index.ts';
import { hashPassword } from './password.ts';

/** Reads one line from stdin without echoing it when stdin is a terminal. */
async function readSecret(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of input as AsyncIterable<Buffer>) chunks.push(chunk);
    return Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '';
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  let text = '';
  return new Promise((resolve) => {
    const onData = (data: Buffer): void => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          return resolve(text);
        }
        if (char === '\u0003') process.exit(130);
        text = char === '\u007f' ? text.slice(0, -1) : text + char;
      }
    };
    input.on('data', onData);
  });
}

export function registerConsoleCommands(program: Command): void {
  const consoleCommand = program.command('console').description('The collector web console (collector/README.md)');
  consoleCommand
    .command('hash-password')
    .description('Print a password hash for collector.yaml console.users[].password_hash (password read from stdin)')
    .action(async () => {
      const password = await readSecret('password: ');
      if (password.length < 8) {
        process.stderr.write('password: expected at least 8 characters\n');
        process.exitCode = EXIT_USAGE;
        return;
      }
      process.stdout.write(`${await hashPassword(password)}\n`);
    });
}
