import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SipLineConfig, type SipLineConfigInput } from '../../../../telephony-gateway/drivers/sip/config.ts';

/** A 5 s tone at 8 kHz: longer than any scenario waits before pressing a key or hanging up. */
export function makePrompt(dir: string, name = 'prompt.wav', rate = 8000, seconds = 5): string {
  const file = join(dir, name);
  execFileSync('sox', ['-n', '-r', String(rate), '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', '440']);
  return file;
}

export function sipConfig(input: Partial<SipLineConfigInput> & { dial_uri?: string }): SipLineConfig {
  return SipLineConfig.parse({
    local_address: '127.0.0.1',
    sip_port: 0,
    account: { mode: 'direct', user: 'gw' },
    health_interval: '500ms',
    health_timeout: '1s',
    restart_backoff_min: '100ms',
    restart_backoff_max: '1s',
    ...input,
  });
}
