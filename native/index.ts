/**
 * The public face of native/: `openLine()` returns a `Line` (see line.ts) backed by the C++ addon,
 * either the Voicetronix card through libvpb (`vpb`) or the simulated exchange line (`sim`).
 */
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type {
  Backend,
  CallProgress,
  CollectResult,
  FarEndScript,
  HookState,
  InboundScript,
  Line,
  LineEvents,
  OpenLineOptions,
  PlayResult,
  RecordResult,
  SimLine,
  TranscriptEntry,
} from './line.ts';

// Every type of the contract is part of this folder's public face.
export type * from './line.ts';

/**
 * The addon's per-line object (native/src/addon.cc); every blocking call returns a Promise settled by an AsyncWorker.
 */
interface NativeHandle {
  openSim(options: NonNullable<OpenLineOptions['sim']>): void;
  openVpb(
    options: NonNullable<OpenLineOptions['vpb']> & { libraryPath: string; board: number; channel: number },
  ): Promise<void>;
  offHook(): Promise<void>;
  onHook(): Promise<void>;
  waitForDialTone(timeoutMs: number): Promise<boolean>;
  waitForRing(timeoutMs: number): Promise<{ callerId: string | null } | null>;
  dial(number: string): Promise<void>;
  waitForAnswer(timeoutMs: number): Promise<CallProgress>;
  play(wavPath: string, interruptOnDigit: boolean): Promise<PlayResult>;
  record(path: string, timeoutMs: number, termKey: string | undefined): Promise<RecordResult>;
  collect(
    maxDigits: number,
    timeoutMs: number,
    interDigitTimeoutMs: number | undefined,
    termKey: string | undefined,
  ): Promise<CollectResult>;
  flushDigits(): void;
  hookState(): HookState;
  callerId(): string | null;
  binding(): string;
  close(): Promise<void>;
  script(script: FarEndScript): void;
  ring(script: InboundScript): void;
  transcript(): TranscriptEntry[];
}

type EventCallback = (type: string, value: string | null) => void;
interface Addon {
  LineHandle: new (onEvent: EventCallback) => NativeHandle;
}

/**
 * Where the addon is, relative to this module: native/build/Release in the tree and next to the gateway bundle once
 * built (dist/build/Release); one folder up when the build put this module into a chunk of gateway-chunks/, as it
 * does for a driver the gateway imports on demand (telephony-gateway/drivers/registry.ts).
 */
const ADDON_PATHS = ['./build/Release/offhook_line.node', '../build/Release/offhook_line.node'];

let addon: Addon | undefined;
function loadAddon(): Addon {
  if (!addon) {
    const path = ADDON_PATHS.find((candidate) => existsSync(new URL(candidate, import.meta.url))) ?? ADDON_PATHS[0]!;
    try {
      addon = createRequire(import.meta.url)(path) as Addon;
    } catch (error) {
      throw new Error(
        `the phone line addon native/build/Release/offhook_line.node is not built or does not load ` +
          `(${(error as Error).message}); ` +
          'build it with: npm rebuild --workspace native',
      );
    }
  }
  return addon;
}

/** The default name handed to dlopen(); the loader search path finds it when the Voicetronix driver is installed. */
export const DEFAULT_VPB_LIBRARY = 'libvpb.so';

export class LineArgumentError extends Error {
  readonly code = 'EBADARG';
}

function checkMs(name: string, value: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new LineArgumentError(`${name} must be a finite number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

class NativeLine extends EventEmitter implements Line {
  private closing: Promise<void> | undefined;

  constructor(
    readonly backend: Backend,
    protected readonly handle: NativeHandle,
  ) {
    super();
  }

  /** Called by the addon's ThreadSafeFunction on the JS thread. */
  dispatch(type: string, value: string | null): void {
    try {
      if (type === 'ring') this.emit('ring', { callerId: value });
      else if (type === 'dtmf') this.emit('dtmf', value);
      else if (type === 'tone') this.emit('tone', value);
      else if (type === 'hangup') this.emit('hangup');
      else if (type === 'error' && this.listenerCount('error') > 0)
        this.emit('error', new Error(value ?? 'line error'));
    } catch (error) {
      // A listener's bug must not unwind through the addon; it surfaces as an uncaught exception as usual.
      queueMicrotask(() => {
        throw error;
      });
    }
  }

  get hookState(): HookState {
    return this.handle.hookState();
  }

  get binding(): string {
    return this.handle.binding();
  }

  get callerId(): string | null {
    return this.handle.callerId();
  }

  offHook(): Promise<void> {
    return this.handle.offHook();
  }

  onHook(): Promise<void> {
    return this.handle.onHook();
  }

  waitForDialTone(timeoutMs: number): Promise<boolean> {
    return this.handle.waitForDialTone(checkMs('waitForDialTone timeoutMs', timeoutMs));
  }

  waitForRing(timeoutMs: number): Promise<{ callerId: string | null } | null> {
    return this.handle.waitForRing(checkMs('waitForRing timeoutMs', timeoutMs));
  }

  dial(number: string): Promise<void> {
    if (typeof number !== 'string')
      throw new LineArgumentError(`dial needs the number as a string, got ${typeof number}`);
    return this.handle.dial(number);
  }

  waitForAnswer(timeoutMs: number): Promise<CallProgress> {
    return this.handle.waitForAnswer(checkMs('waitForAnswer timeoutMs', timeoutMs));
  }

  play(wavPath: string, options: { interruptOnDigit?: boolean } = {}): Promise<PlayResult> {
    return this.handle.play(wavPath, options.interruptOnDigit ?? false);
  }

  record(path: string, options: { timeoutMs: number; termKey?: string }): Promise<RecordResult> {
    return this.handle.record(path, checkMs('record timeoutMs', options.timeoutMs), options.termKey);
  }

  collect(options: {
    maxDigits: number;
    timeoutMs: number;
    interDigitTimeoutMs?: number;
    termKey?: string;
  }): Promise<CollectResult> {
    if (!Number.isInteger(options.maxDigits) || options.maxDigits < 1 || options.maxDigits > 64) {
      throw new LineArgumentError(
        `collect maxDigits must be an integer from 1 to 64, got ${String(options.maxDigits)}`,
      );
    }
    const interDigit =
      options.interDigitTimeoutMs === undefined
        ? undefined
        : checkMs('collect interDigitTimeoutMs', options.interDigitTimeoutMs);
    return this.handle.collect(
      options.maxDigits,
      checkMs('collect timeoutMs', options.timeoutMs),
      interDigit,
      options.termKey,
    );
  }

  flushDigits(): void {
    this.handle.flushDigits();
  }

  override on<E extends keyof LineEvents>(event: E, listener: LineEvents[E]): this {
    return super.on(event, listener);
  }

  override off<E extends keyof LineEvents>(event: E, listener: LineEvents[E]): this {
    return super.off(event, listener);
  }

  close(): Promise<void> {
    this.closing ??= this.handle.close();
    return this.closing;
  }
}

class NativeSimLine extends NativeLine implements SimLine {
  declare readonly backend: 'sim';

  script(script: FarEndScript): void {
    this.handle.script(script);
  }

  ring(script: InboundScript): void {
    this.handle.ring(script);
  }

  transcript(): TranscriptEntry[] {
    return this.handle.transcript();
  }
}

function createHandle(): { handle: NativeHandle; attach: (line: NativeLine) => void } {
  let target: NativeLine | undefined;
  const handle = new (loadAddon().LineHandle)((type, value) => target?.dispatch(type, value));
  return { handle, attach: (line) => (target = line) };
}

/** Opens a simulated line (see SimLine); `speed` > 1 makes line time pass faster than real time. */
export async function openSimLine(options: OpenLineOptions['sim'] = {}): Promise<SimLine> {
  const speed = options.speed ?? 1;
  if (!Number.isFinite(speed) || speed <= 0)
    throw new LineArgumentError(`sim.speed must be a number > 0, got ${String(speed)}`);
  for (const key of ['dialToneDelayMs', 'ringPeriodMs'] as const) {
    if (options[key] !== undefined) checkMs(`sim.${key}`, options[key]);
  }
  const { handle, attach } = createHandle();
  const line = new NativeSimLine('sim', handle);
  attach(line);
  handle.openSim({ ...options, speed });
  return line;
}

async function openVpbLine(options: OpenLineOptions['vpb'] = {}): Promise<Line> {
  const board = options.board ?? 0;
  const channel = options.channel ?? 0;
  for (const [name, value] of [
    ['vpb.board', board],
    ['vpb.channel', channel],
  ] as const) {
    if (!Number.isInteger(value) || value < 0)
      throw new LineArgumentError(`${name} must be an integer >= 0, got ${String(value)}`);
  }
  for (const key of ['interRingbackMs', 'ringbackTimeoutMs', 'callerIdWindowMs'] as const) {
    if (options[key] !== undefined) checkMs(`vpb.${key}`, options[key]);
  }
  const { handle, attach } = createHandle();
  const line = new NativeLine('vpb', handle);
  attach(line);
  try {
    await handle.openVpb({ ...options, libraryPath: options.libraryPath ?? DEFAULT_VPB_LIBRARY, board, channel });
  } catch (error) {
    await handle.close();
    throw error;
  }
  return line;
}

export function openLine(options: OpenLineOptions & { backend: 'sim' }): Promise<SimLine>;
export function openLine(options: OpenLineOptions): Promise<Line>;
export async function openLine(options: OpenLineOptions): Promise<Line> {
  if (options.backend === 'sim') return openSimLine(options.sim);
  if (options.backend === 'vpb') return openVpbLine(options.vpb);
  throw new LineArgumentError(
    `line backend must be "vpb" or "sim", got ${JSON.stringify((options as { backend: unknown }).backend)}`,
  );
}
