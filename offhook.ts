import { Command } from 'commander';
import { OFFHOOK_VERSION } from './shared/version.ts';

// One binary, one subcommand per process or operator task. Each role's module is imported only when one of its
// commands runs, so `offhook agent` never loads the collector, the gateway, nodemailer or a native addon. The build
// (deploy/build/build.mjs) turns each of these imports into a separate bundle: dist/<role>.mjs.
type Register = (program: Command) => void;
interface Role {
  commands: readonly string[];
  /** The Debian package that ships the role's bundle, for the "not installed" message. */
  debPackage: string;
  load: () => Promise<Register>;
}

const ROLES: Record<string, Role> = {
  agent: {
    commands: ['agent'],
    debPackage: 'offhook-agent',
    load: async () => (await import('./agent/cli.ts')).registerAgentCommands,
  },
  collector: {
    commands: ['collector', 'console'],
    debPackage: 'offhook-collector',
    load: async () => (await import('./collector/cli.ts')).registerCollectorCommands,
  },
  gateway: {
    commands: ['gateway', 'calls', 'test-call'],
    debPackage: 'offhook-gateway',
    load: async () => (await import('./telephony-gateway/cli.ts')).registerGatewayCommands,
  },
  cli: {
    commands: ['alerts', 'ack', 'silence', 'status', 'check-config'],
    debPackage: 'offhook',
    load: async () => (await import('./ops/cli.ts')).registerOperatorCli,
  },
  demo: {
    commands: ['demo'],
    debPackage: '',
    load: async () => (await import('./deploy/cli.ts')).registerDeployCommands,
  },
};

/** A role bundle that is absent from a packaged install (e.g. the gateway on an agent-only server). */
function notInstalled(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' && /\/(agent|collector|gateway|cli|demo)\.mjs'/.test((err as Error).message);
}

const program = new Command('offhook')
  .description('Host monitoring over NATS that ends in a real phone call')
  .version(OFFHOOK_VERSION)
  .showHelpAfterError()
  // Set before the roles register their commands, which inherit it: --help and --version exit 0, a mistyped command
  // line 2, as every config error does (README, Exit codes); commander's own default would be 1.
  .exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : 2));

const wanted = process.argv[2];
const named = Object.entries(ROLES).find(([, role]) => role.commands.includes(wanted ?? ''));
if (named) {
  const [name, role] = named;
  let register: Register;
  try {
    register = await role.load();
  } catch (err) {
    if (!notInstalled(err)) throw err;
    process.stderr.write(
      name === 'demo'
        ? 'offhook demo runs from a source checkout: npm start\n'
        : `offhook ${wanted}: the ${role.debPackage} package is not installed on this host ` +
            `(apt install ${role.debPackage})\n`,
    );
    process.exit(1);
  }
  register(program);
} else {
  // Help, `help <cmd>`, a typo: list every command that is installed here.
  for (const role of Object.values(ROLES)) {
    const register = await role.load().catch((err: unknown) => {
      if (notInstalled(err)) return null;
      throw err;
    });
    register?.(program);
  }
}

await program.parseAsync(process.argv);
