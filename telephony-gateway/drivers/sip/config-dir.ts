import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SipAccount } from './config.ts';

/** The silent source between prompts: an aubridge device no player pairs with (same names would echo the caller). */
export const IDLE_AUDIO_SOURCE = 'aubridge,offhook-idle';
const AUDIO_PLAYER = 'aubridge,offhook-rx';
const AUDIO_ALERT = 'aubridge,offhook-alert';

export interface BaresipLaunchSettings {
  /** "ip:port" for SIP (UDP and TCP). */
  sipListen: string;
  ctrlPort: number;
  rtpPorts: string;
  /** IPv4 address baresip binds media to and announces in SDP. */
  localAddress?: string;
  account: SipAccount;
  /** Resolved password (read from password_file when that is configured). */
  password?: string;
  codecs: string[];
  /** Where the sndfile module writes each call's audio (voice notes are cut from it); deleted after every call. */
  callAudioDir?: string;
}

function quoted(value: string): string {
  return `"${value}"`;
}

/** One line of baresip's accounts file. Manual answer: the gateway decides when to pick up. */
export function accountLine(settings: BaresipLaunchSettings, aorHost: string): string {
  const account = settings.account;
  const transport = account.transport;
  const codecs = `audio_codecs=${settings.codecs.join(',')}`;
  if (account.mode === 'direct') {
    return (
      `${quoted(account.display_name)} ` +
      `<sip:${account.user}@${aorHost};transport=${transport}>;regint=0;answermode=manual;${codecs}`
    );
  }
  const domain = account.realm ?? account.registrar.split(':')[0];
  const params = [`<sip:${account.user}@${domain};transport=${transport}>`];
  // Without a password baresip would prompt on stdin when challenged; a trunk that trusts our address never challenges.
  if (settings.password !== undefined)
    params.push(`auth_user=${account.auth_user ?? account.user}`, `auth_pass=${quoted(settings.password)}`);
  params.push(`outbound=${quoted(`sip:${account.registrar};transport=${transport}`)}`);
  params.push(`regint=${Math.max(60, Math.round(account.register_interval / 1000))}`, 'answermode=manual', codecs);
  return `${quoted(account.display_name)} ${params.join(';')}`;
}

export function configText(settings: BaresipLaunchSettings): string {
  const lines: Array<[string, string]> = [
    ['poll_method', 'epoll'],
    ['sip_listen', settings.sipListen],
    ['call_local_timeout', '120'],
    ['call_max_calls', '1'],
    ['audio_path', '/usr/share/baresip'],
    ['audio_player', AUDIO_PLAYER],
    ['audio_source', IDLE_AUDIO_SOURCE],
    ['audio_alert', AUDIO_ALERT],
    ['audio_level', 'no'],
    ['ausrc_format', 's16'],
    ['auplay_format', 's16'],
    ['auenc_format', 's16'],
    ['audec_format', 's16'],
    ['audio_buffer', '20-160'],
    // baresip 1.0's jitter buffer swallows the end of RFC 4733 events; 0-0 turns it off.
    ['jitter_buffer_delay', '0-0'],
    ['rtp_stats', 'no'],
    ['rtp_ports', settings.rtpPorts],
  ];
  if (settings.localAddress !== undefined) lines.push(['net_interface', settings.localAddress]);
  lines.push(
    ['module_path', '/usr/lib/baresip/modules'],
    ['module', 'g711.so'],
    ['module', 'aufile.so'],
    ['module', 'aubridge.so'],
    ...(settings.callAudioDir !== undefined
      ? ([
          ['module', 'sndfile.so'],
          ['snd_path', settings.callAudioDir],
        ] as Array<[string, string]>)
      : []),
    ['module_tmp', 'account.so'],
    ['module_app', 'menu.so'],
    ['module_app', 'ctrl_tcp.so'],
    ['ctrl_tcp_listen', `127.0.0.1:${settings.ctrlPort}`],
  );
  return (
    `# Written by the offhook gateway at each start; ` +
    `edits are overwritten.\n${lines.map(([key, value]) => `${key}\t\t${value}`).join('\n')}\n`
  );
}

/**
 * Writes `config`, `accounts` and `contacts` into `dir` (created 0700). The accounts file holds
 * the password and is mode 0600; nothing secret goes on baresip's command line.
 */
export async function writeConfigDir(dir: string, settings: BaresipLaunchSettings): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const aorHost = settings.localAddress ?? 'localhost';
  await writeFile(join(dir, 'config'), configText(settings), { mode: 0o600 });
  await writeFile(join(dir, 'accounts'), `${accountLine(settings, aorHost)}\n`, { mode: 0o600 });
  await chmod(join(dir, 'accounts'), 0o600);
  await writeFile(join(dir, 'contacts'), '', { mode: 0o600 });
}
