import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SipLineConfig, dialUri } from '../../../../telephony-gateway/drivers/sip/config.ts';
import { accountLine, configText } from '../../../../telephony-gateway/drivers/sip/config-dir.ts';
import {
  encodeNetstring,
  NetstringDecoder,
  NetstringError,
} from '../../../../telephony-gateway/drivers/sip/netstring.ts';
import { callerIdOf, outcomeOfClose } from '../../../../telephony-gateway/drivers/sip/outcome.ts';
import {
  encodeWav,
  parseWav,
  PromptCache,
  toPlaybackRate,
  WavFormatError,
} from '../../../../telephony-gateway/drivers/sip/wav.ts';
import { makePrompt } from './fixtures.ts';

function issues(input: unknown): string[] {
  const result = SipLineConfig.safeParse(input);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

describe('sip driver units', () => {
  describe('netstring framing', () => {
    it('decodes frames split across chunks and several frames in one chunk', () => {
      const decoder = new NetstringDecoder();
      const bytes = Buffer.concat([encodeNetstring('{"a":"é"}'), encodeNetstring('{"b":2}')]);
      assert.deepEqual(decoder.push(bytes.subarray(0, 5)), []);
      assert.deepEqual(decoder.push(bytes.subarray(5)), ['{"a":"é"}', '{"b":2}']);
      assert.equal(encodeNetstring('é').toString(), '2:é,');
    });
    it('rejects a stream that is not netstrings, naming what was wrong', () => {
      assert.throws(() => new NetstringDecoder().push(Buffer.from('hello world, not a netstring')), NetstringError);
      assert.throws(() => new NetstringDecoder().push(Buffer.from('3:abc;')), /expected "," after a 3-byte frame/);
      assert.throws(() => new NetstringDecoder().push(Buffer.from('99999999:')), /exceeds/);
    });
  });

  describe('call outcomes', () => {
    it('maps SIP statuses in CALL_CLOSED to the card driver outcomes', () => {
      assert.deepEqual(outcomeOfClose('486 Busy Here'), { outcome: 'busy', detail: 'SIP 486 Busy Here', status: 486 });
      assert.equal(outcomeOfClose('600 Busy Everywhere').outcome, 'busy');
      assert.equal(outcomeOfClose('480 Temporarily Unavailable').outcome, 'no_answer');
      assert.deepEqual(outcomeOfClose('603 Decline'), {
        outcome: 'failed',
        detail: 'rejected: SIP 603 Decline',
        status: 603,
      });
      assert.deepEqual(outcomeOfClose('404 Not Found'), {
        outcome: 'failed',
        detail: 'SIP 404 Not Found',
        status: 404,
      });
      assert.equal(outcomeOfClose('Connection timed out').outcome, 'failed');
    });
    it('takes the caller ID from the URI: the number, else the URI, null when anonymous', () => {
      assert.equal(callerIdOf('sip:+4930555123@127.0.0.1:5071'), '+4930555123');
      assert.equal(callerIdOf('sip:alice@pbx.example.net;transport=tcp'), 'sip:alice@pbx.example.net;transport=tcp');
      assert.equal(callerIdOf('sip:anonymous@anonymous.invalid'), null);
      assert.equal(callerIdOf(undefined), null);
    });
  });

  describe('config', () => {
    it('names the field and the fix for bad settings', () => {
      assert.deepEqual(issues({ account: { mode: 'direct' } }), [
        'dial_uri: expected dial_uri (e.g. "sip:{number}@pbx.example.net:5060") when account.mode ' +
          'is "direct": there is no registrar to send calls to',
      ]);
      assert.match(
        issues({ account: { mode: 'register', registrar: 'sip.example.net', user: 'gw', password: 'a"b' } })[0]!,
        /^account\.password: expected a password without double quotes/,
      );
      assert.match(
        issues({ local_address: 'eth0', dial_uri: 'sip:{number}@x', account: { mode: 'direct' } })[0]!,
        /^local_address: expected an IPv4 address/,
      );
      assert.match(
        issues({ dial_uri: 'sip:pbx', account: { mode: 'direct' } })[0]!,
        /^dial_uri: expected a SIP URI containing \{number\}/,
      );
      assert.match(issues({ account: { mode: 'fax' } })[0]!, /account/);
    });
    it('accepts both examples of the SIP README as written', () => {
      const readme = readFileSync(
        fileURLToPath(new URL('../../../../telephony-gateway/drivers/sip/README.md', import.meta.url)),
        'utf8',
      );
      const examples = [...readme.matchAll(/```yaml\n([\s\S]*?)```/g)].map(
        (m) => parseYaml(m[1]!) as { line: { driver: string; sip: unknown } },
      );
      assert.equal(examples.length, 2);
      for (const example of examples) {
        assert.equal(example.line.driver, 'sip');
        assert.deepEqual(issues(example.line.sip), []);
      }
    });
    it('dials sip:<number>@<realm> through the registrar by default', () => {
      const config = SipLineConfig.parse({
        account: {
          mode: 'register',
          registrar: 'proxy.example.net:5070',
          realm: 'example.net',
          user: 'gw',
          password: 'pw',
        },
      });
      assert.equal(dialUri(config, '+4930123'), 'sip:+4930123@example.net');
    });
    it('writes the password quoted in the account line and never a registrar for direct mode', () => {
      const register = SipLineConfig.parse({
        account: {
          mode: 'register',
          registrar: '127.0.0.1:5080',
          realm: 'offhook.test',
          user: 'gw',
          password: 'p;w d',
          transport: 'tls',
        },
      });
      const settings = {
        sipListen: '127.0.0.1:5060',
        ctrlPort: 4444,
        rtpPorts: '10000-10019',
        account: register.account,
        password: 'p;w d',
        codecs: ['pcmu'],
      };
      assert.equal(
        accountLine(settings, '127.0.0.1'),
        '"offhook" <sip:gw@offhook.test;transport=tls>;auth_user=gw;auth_pass="p;w ' +
          'd";outbound="sip:127.0.0.1:5080;transport=tls";regint=600;answermode=manual;audio_codecs=pcmu',
      );
      const direct = SipLineConfig.parse({ dial_uri: 'sip:{number}@pbx', account: { mode: 'direct', user: 'alerts' } });
      assert.match(
        accountLine({ ...settings, account: direct.account }, '192.0.2.5'),
        /^"offhook" <sip:alerts@192\.0\.2\.5;transport=udp>;regint=0;answermode=manual/,
      );
      const text = configText({ ...settings, localAddress: '127.0.0.1' });
      assert.match(text, /^call_max_calls\t\t1$/m);
      assert.match(text, /^jitter_buffer_delay\t\t0-0$/m);
      assert.match(text, /^net_interface\t\t127\.0\.0\.1$/m);
      assert.match(text, /^ctrl_tcp_listen\t\t127\.0\.0\.1:4444$/m);
      assert.ok(!text.includes('p;w d'));
    });
  });

  describe('prompt WAVs', () => {
    let dir: string;
    before(() => (dir = mkdtempSync(join(tmpdir(), 'offhook-sip-wav-'))));
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('copies a 16 kHz prompt as 8 kHz mono with 3 s of silence, keeping the prompt length', async () => {
      const source = makePrompt(dir, 'wide.wav', 16000, 1);
      const prompt = await new PromptCache(dir).prepare(source);
      assert.equal(prompt.durationMs, 1000);
      const copy = parseWav(readFileSync(prompt.file), prompt.file);
      assert.equal(copy.sampleRate, 8000);
      assert.equal(copy.channels, 1);
      assert.equal(copy.samples.length, 8000 * 4);
      assert.equal(
        copy.samples.subarray(8000).every((s) => s === 0),
        true,
      );
    });
    it('averages stereo to mono and refuses what baresip cannot play, saying how to convert', () => {
      const stereo = toPlaybackRate(
        { sampleRate: 8000, channels: 2, samples: Int16Array.from([100, 300, -100, -300]) },
        's.wav',
      );
      assert.deepEqual([...stereo], [200, -200]);
      assert.throws(
        () => toPlaybackRate({ sampleRate: 44100, channels: 1, samples: new Int16Array(4) }, 'cd.wav'),
        /cd\.wav: expected 8 or 16 kHz audio, got 44100 Hz \(convert with: sox/,
      );
      const eightBit = encodeWav(new Int16Array(4));
      eightBit.writeUInt16LE(8, 34);
      assert.throws(() => parseWav(eightBit, 'old.wav'), WavFormatError);
      assert.throws(() => parseWav(Buffer.from('not a wav at all'), 'x.wav'), /x\.wav: expected a RIFF\/WAVE file/);
    });
  });
});
