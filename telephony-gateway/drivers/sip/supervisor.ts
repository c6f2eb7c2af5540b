import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freeTcpPort, killAndWait, type Logger, type Registry } from '../../../shared/index.ts';
import { readAccountPassword, type SipLineConfig } from './config.ts';
import { writeConfigDir, type BaresipLaunchSettings } from './config-dir.ts';
import { BaresipControl, CommandTimeoutError, type BaresipEvent } from './control.ts';
import { sipLineMetrics, type SipLineMetrics } from './metrics.ts';
import { freeRtpRange, freeSipPort } from './ports.ts';
import { exitWithin } from './process.ts';

export type SpawnProcess = (command: string, args: string[], options: SpawnOptions) => ChildProcess;

export interface SupervisorOptions {
  config: SipLineConfig;
  /** Private directory for baresip's config (0700) and prompt copies. */
  runDir: string;
  logger: Logger;
  registry?: Registry;
  /** Tests pass their PID-tracking spawn so a failed test never leaves baresip running. */
  spawnProcess?: SpawnProcess;
  /** How long a starting baresip may take to say "ready". */
  readyTimeoutMs?: number;
  /** How long a stopping baresip may take to say goodbye (BYE, un-REGISTER) before SIGKILL. */
  stopGraceMs?: number;
}

export interface SupervisorEvents {
  up: [BaresipControl];
  down: [reason: string];
  event: [BaresipEvent];
}

/** Port clashes are retried at once with fresh ports this many times before backing off. */
const BIND_RETRIES = 5;
/** An instance that has run this long without trouble resets the backoff. */
const STABLE_AFTER_MS = 30_000;

class LaunchError extends Error {
  constructor(
    message: string,
    readonly portClash: boolean,
  ) {
    super(message);
  }
}

const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Keeps one baresip running: writes its config, starts it with `-f DIR`, connects to ctrl_tcp,
 * proves it alive with a periodic harmless command, and after a death or a hang reports the line
 * down and starts a fresh one with exponential backoff.
 */
export class BaresipSupervisor extends EventEmitter<SupervisorEvents> {
  private child: ChildProcess | null = null;
  private controlConnection: BaresipControl | null = null;
  private state: 'stopped' | 'starting' | 'up' | 'down' = 'stopped';
  private stopping = false;
  private failures = 0;
  private upSince = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private launching: Promise<void> | null = null;
  private healthTimer: NodeJS.Timeout | null = null;
  private healthInFlight = false;
  private password: string | undefined;
  private launched: { sipPort: number; ctrlPort: number; rtpPorts: string } | null = null;
  /** baresip's last "reg: ..." output line: the registrar's answer an operator needs to see. */
  private lastRegistrarAnswer = '';
  private registrationState: 'unknown' | 'ok' | 'failed' = 'unknown';
  private readonly metrics: SipLineMetrics;
  private readonly log: Logger;

  constructor(private readonly options: SupervisorOptions) {
    super();
    this.log = options.logger.child({ line: 'sip' });
    this.metrics = sipLineMetrics(options.registry);
  }

  get control(): BaresipControl | null {
    return this.state === 'up' ? this.controlConnection : null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** baresip's sndfile dumps of the current call's audio, both directions (see CallRecorder). */
  get callAudioDir(): string {
    return join(this.options.runDir, 'call-audio');
  }

  /** The ports the running baresip was given (SIP peers of a test need them when sip_port is 0). */
  get endpoint(): { sipPort: number; ctrlPort: number; rtpPorts: string } | null {
    return this.state === 'up' ? this.launched : null;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  start(): void {
    if (this.state !== 'stopped' || this.stopping) return;
    this.state = 'starting';
    this.beginLaunch();
  }

  private beginLaunch(): void {
    this.launching = this.launch().finally(() => {
      this.launching = null;
    });
  }

  /** Resolves with the control connection once baresip is up; rejects when the supervisor stops first. */
  waitUntilUp(): Promise<BaresipControl> {
    if (this.state === 'up' && this.controlConnection) return Promise.resolve(this.controlConnection);
    if (this.stopping) return Promise.reject(new Error('sip line is stopped'));
    return new Promise((resolve, reject) => {
      const onUp = (control: BaresipControl): void => {
        this.off('down', onDown);
        resolve(control);
      };
      const onDown = (reason: string): void => {
        if (!this.stopping) return;
        this.off('up', onUp);
        this.off('down', onDown);
        reject(new Error(`sip line is stopped (${reason})`));
      };
      this.on('up', onUp);
      this.on('down', onDown);
    });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.stopHealthChecks();
    const child = this.child;
    this.controlConnection?.close();
    if (child) await killAndWait(child, 'SIGTERM', this.options.stopGraceMs ?? 5_000);
    // A start under way notices `stopping` and kills what it spawned; wait so nothing outlives stop().
    await this.launching;
    const wasUp = this.state === 'up';
    this.state = 'stopped';
    this.metrics.lineUp.set(0);
    this.metrics.registered.set(0);
    this.emit('down', wasUp ? 'stopped' : 'stopped before it came up');
  }

  private async launch(): Promise<void> {
    for (let attempt = 1; !this.stopping; attempt++) {
      try {
        const control = await this.launchOnce();
        if (this.stopping) {
          control.close();
          if (this.child) await killAndWait(this.child, 'SIGTERM', this.options.stopGraceMs ?? 5_000);
          this.child = null;
          return;
        }
        this.controlConnection = control;
        this.state = 'up';
        this.upSince = Date.now();
        this.metrics.lineUp.set(1);
        this.log.info({ pid: this.child?.pid }, 'SIP line up (baresip ready)');
        this.startHealthChecks();
        this.emit('up', control);
        return;
      } catch (err) {
        const error = err as LaunchError;
        if (this.child) await killAndWait(this.child, 'SIGTERM', 1_000);
        this.child = null;
        if (this.stopping) return;
        if (error.portClash && attempt < BIND_RETRIES) {
          this.log.debug({ err: error, attempt }, 'baresip port taken meanwhile; picking new ports');
          continue;
        }
        this.metrics.restarts?.inc({ reason: 'start_failed' });
        this.scheduleRestart(`start failed: ${error.message}`);
        return;
      }
    }
  }

  private async launchOnce(): Promise<BaresipControl> {
    const config = this.options.config;
    const host = config.local_address ?? '127.0.0.1';
    const dir = join(this.options.runDir, 'baresip');
    const sipPort = config.sip_port === 0 ? await freeSipPort(host) : config.sip_port;
    const settings: BaresipLaunchSettings = {
      sipListen: `${config.local_address ?? '0.0.0.0'}:${sipPort}`,
      ctrlPort: await freeTcpPort('127.0.0.1'),
      rtpPorts: config.rtp_ports ?? (await freeRtpRange(host)),
      account: config.account,
      password: await readAccountPassword(this.options.config).catch((err: Error) => {
        throw new LaunchError(err.message, false);
      }),
      codecs: config.codecs,
    };
    if (config.local_address !== undefined) settings.localAddress = config.local_address;
    settings.callAudioDir = this.callAudioDir;
    await rm(this.callAudioDir, { recursive: true, force: true });
    await mkdir(this.callAudioDir, { recursive: true, mode: 0o700 });
    this.password = settings.password;
    this.launched = {
      sipPort: Number(settings.sipListen.slice(settings.sipListen.lastIndexOf(':') + 1)),
      ctrlPort: settings.ctrlPort,
      rtpPorts: settings.rtpPorts,
    };
    await writeConfigDir(dir, settings);
    if (this.stopping) throw new LaunchError('stopped before baresip was started', false);
    const spawnProcess = this.options.spawnProcess ?? spawn;
    const child = spawnProcess(config.baresip_path, ['-f', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    await this.waitForReady(child);
    const control = await BaresipControl.connect(settings.ctrlPort);
    control.on('event', (event) => this.onEvent(event));
    control.on('invalid', (reason, detail) => {
      this.metrics.invalidFrames?.inc({ reason });
      this.log.warn({ reason, detail }, 'dropped an invalid ctrl_tcp frame from baresip');
    });
    control.on('close', (reason) => {
      if (this.controlConnection === control && this.state === 'up' && !this.stopping)
        this.fail('control_lost', `control connection lost: ${reason}`);
    });
    // The first answer proves the socket belongs to this baresip and its menu is loaded.
    await control.command('listcalls', undefined, config.health_timeout);
    // A registration that finished before we connected sent its REGISTER_OK to nobody.
    this.registrationState = 'unknown';
    await this.checkRegistration(control);
    child.once('exit', (code, signal) => {
      if (this.child === child && !this.stopping)
        this.fail('exited', `baresip exited (code ${code}, signal ${signal})`);
    });
    return control;
  }

  /** 1 when baresip's registration info shows the account "OK", else 0. */
  async isRegistered(control = this.controlConnection): Promise<number> {
    if (!control) return 0;
    const info = await control.command('reginfo', undefined, this.options.config.health_timeout);
    return /\bOK\b/.test(info.data.replace(ANSI, '')) ? 1 : 0;
  }

  /** Register mode: mirrors baresip's registration state in the gauge and logs each change once. */
  private async checkRegistration(control: BaresipControl): Promise<void> {
    const account = this.options.config.account;
    if (account.mode !== 'register') return;
    const info = (await control.command('reginfo', undefined, this.options.config.health_timeout)).data.replace(
      ANSI,
      '',
    );
    const state = /\bOK\b/.test(info) ? 'ok' : /\bERR\b/.test(info) ? 'failed' : 'unknown';
    this.metrics.registered.set(state === 'ok' ? 1 : 0);
    if (state === this.registrationState || state === 'unknown') return;
    this.registrationState = state;
    if (state === 'ok') this.log.info({ registrar: account.registrar, user: account.user }, 'SIP account registered');
    else
      this.log.error(
        { registrar: account.registrar, user: account.user, answer: this.lastRegistrarAnswer || 'no answer' },
        'SIP registration failed; check account.user, password and realm',
      );
  }

  /** Resolves at "baresip is ready."; rejects on exit, a failed ctrl_tcp module, or the ready timeout. */
  private waitForReady(child: ChildProcess): Promise<void> {
    const timeoutMs = this.options.readyTimeoutMs ?? 10_000;
    return new Promise((resolve, reject) => {
      let portClash = false;
      let settled = false;
      const finish = (error?: LaunchError): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      const timer = setTimeout(
        () => finish(new LaunchError(`baresip not ready within ${timeoutMs} ms`, false)),
        timeoutMs,
      );
      const onLine = (raw: string): void => {
        const line = this.redact(raw.replace(ANSI, '').trim());
        if (line === '') return;
        if (/Address already in use/.test(line)) portClash = true;
        if (/^reg: /.test(line)) this.lastRegistrarAnswer = line.slice(5);
        if (/^module ctrl_tcp\.so:/.test(line)) finish(new LaunchError(`ctrl_tcp failed: ${line}`, portClash));
        if (/baresip is ready/.test(line)) finish();
        // baresip reports received DTMF on its console: those keys may be a PIN, which is never logged.
        if (/dtmf/i.test(line)) return;
        // "UA not found": a call for a user this account is not (a misrouted DID); worth an operator's eye.
        if (/fail|error|not found/i.test(line)) this.log.warn({ pid: child.pid, baresip: line }, 'baresip');
        else this.log.debug({ pid: child.pid, baresip: line }, 'baresip');
      };
      for (const stream of [child.stdout, child.stderr])
        if (stream) createInterface({ input: stream }).on('line', onLine);
      child.once('error', (err) =>
        finish(new LaunchError(`cannot run ${this.options.config.baresip_path}: ${err.message}`, false)),
      );
      child.once('exit', (code, signal) =>
        finish(
          new LaunchError(`baresip exited during start (code ${code}, signal ${signal})`, portClash || code === 98),
        ),
      );
    });
  }

  private redact(line: string): string {
    return this.password === undefined ? line : line.split(this.password).join('[redacted]');
  }

  private onEvent(event: BaresipEvent): void {
    if (event.type === 'REGISTER_OK' || event.type === 'REGISTER_FAIL') {
      const control = this.controlConnection;
      const failed = (err: unknown): void => this.log.debug({ err }, 'reginfo after a REGISTER event failed');
      if (control) void this.checkRegistration(control).catch(failed);
    }
    this.emit('event', event);
  }

  private startHealthChecks(): void {
    const { health_interval: interval, health_timeout: timeout } = this.options.config;
    this.healthTimer = setInterval(() => {
      const control = this.controlConnection;
      if (this.healthInFlight || !control || this.state !== 'up') return;
      this.healthInFlight = true;
      control
        .command('listcalls', undefined, timeout)
        .then(async () => {
          if (Date.now() - this.upSince >= STABLE_AFTER_MS) this.failures = 0;
          await this.checkRegistration(control);
        })
        .catch((err: Error) => {
          if (err instanceof CommandTimeoutError && this.controlConnection === control)
            this.fail('hung', `baresip hung: ${err.message}`);
        })
        .finally(() => {
          this.healthInFlight = false;
        });
    }, interval);
  }

  private stopHealthChecks(): void {
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.healthTimer = null;
    this.healthInFlight = false;
  }

  /** The running baresip is dead or useless: report the line down, kill it by PID, restart later. */
  private fail(reason: 'exited' | 'hung' | 'control_lost', detail: string): void {
    if (this.state !== 'up' || this.stopping) return;
    this.state = 'down';
    this.metrics.lineUp.set(0);
    this.stopHealthChecks();
    const child = this.child;
    this.child = null;
    this.controlConnection?.close();
    this.controlConnection = null;
    void this.reap(child, reason, detail);
  }

  /** Reports the line down only once the old process is gone, so two baresips never hold calls at once. */
  private async reap(
    child: ChildProcess | null,
    reason: 'exited' | 'hung' | 'control_lost',
    detail: string,
  ): Promise<void> {
    if (child && reason === 'control_lost') {
      // A dying baresip closes the socket a moment before its exit is seen: tell a crash from a broken socket.
      const status = await exitWithin(child, 1_000);
      if (status) [reason, detail] = ['exited', `baresip exited (code ${status.code}, signal ${status.signal})`];
    }
    if (child) await killAndWait(child, 'SIGKILL', 0);
    this.metrics.restarts?.inc({ reason });
    if (!this.stopping) this.scheduleRestart(detail);
  }

  private scheduleRestart(reason: string): void {
    this.state = 'down';
    this.metrics.lineUp.set(0);
    this.metrics.registered.set(0);
    const { restart_backoff_min: min, restart_backoff_max: max } = this.options.config;
    const delay = Math.min(max, min * 2 ** this.failures);
    this.failures++;
    this.log.error({ reason, restartInMs: delay, failures: this.failures }, 'SIP line down; restarting baresip');
    this.emit('down', reason);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) {
        this.state = 'starting';
        this.beginLaunch();
      }
    }, delay);
  }
}
