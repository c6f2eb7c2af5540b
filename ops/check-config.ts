import { basename } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, type ConfigKinds, EXIT_OK, EXIT_USAGE, readConfigFile } from '../shared/index.ts';

/**
 * Which schema a file is checked against: --kind, else the kind named in the file name (agent.yaml, web1-agent.yaml).
 */
export function kindForFile(file: string, kinds: ConfigKinds, explicit?: string): string | null {
  if (explicit) return explicit in kinds ? explicit : null;
  const name = basename(file).toLowerCase();
  return Object.keys(kinds).find((kind) => name.includes(kind)) ?? null;
}

export function checkConfigFiles(
  files: string[],
  kinds: ConfigKinds,
  explicit?: string,
): { ok: boolean; lines: string[] } {
  const lines: string[] = [];
  let ok = true;
  for (const file of files) {
    const kind = kindForFile(file, kinds, explicit);
    if (!kind) {
      ok = false;
      lines.push(
        `${basename(file)}: cannot tell which config this is; name it ${Object.keys(kinds)
          .map((k) => `${k}.yaml`)
          .join(', ')} or pass --kind ${Object.keys(kinds).join('|')}`,
      );
      continue;
    }
    try {
      const { notices } = readConfigFile(file, kinds[kind]!);
      lines.push(`${basename(file)}: OK (${kind} config)`);
      for (const notice of notices) lines.push(`${basename(file)}: warning: ${notice}`);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      ok = false;
      lines.push(err.message);
    }
  }
  return { ok, lines };
}

export function registerCheckConfig(program: Command, kinds: ConfigKinds): void {
  program
    .command('check-config')
    .description('Validate config files; prints each problem with file, field, expectation and value, exits 2 on any')
    .argument('<files...>', 'YAML config files')
    .option('--kind <kind>', `config kind: ${Object.keys(kinds).join(', ') || '(none registered)'}`)
    .action((files: string[], options: { kind?: string }) => {
      const { ok, lines } = checkConfigFiles(files, kinds, options.kind);
      for (const line of lines) process.stdout.write(`${line}\n`);
      process.exitCode = ok ? EXIT_OK : EXIT_USAGE;
    });
}
