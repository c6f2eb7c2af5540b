import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { trackChild, waitForOutput } from '../../deploy/lib/processes.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('npm start (the demo)', function () {
  this.timeout(240_000);

  it('plays alert → notification → call → ack → recovery, and Ctrl-C leaves no process behind', async () => {
    // Its own process group, so "Ctrl-C" can go to the whole group as a terminal sends it.
    const npm = trackChild(
      spawn('npm', ['start', '--', '--speed', '20'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      }),
    );
    let output = '';
    let onOutput = (): void => undefined;
    const collect = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      onOutput();
    };
    npm.stdout!.on('data', collect);
    npm.stderr!.on('data', collect);
    // The demo's own stdout outlives npm's exit on SIGINT, so wait for what the demo says last.
    const demoStopped = new Promise<void>((resolve) => {
      onOutput = () => {
        if (/stopped \d+ processes/.test(output)) resolve();
      };
    });
    try {
      await playAndStop();
    } finally {
      // Whatever failed above, nothing of the demo may outlive the test: its whole process group goes.
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }

    async function playAndStop(): Promise<void> {
      await waitForOutput(npm, /scenario complete|FAILED/, 200_000);
      assert.doesNotMatch(output, /FAILED/, output);

      // Two sources, each in order: what crossed NATS (alerts, calls, acks) and what happened on the
      // line (from the gateway's transcript). Between the two the interleaving is not fixed.
      const natsStory = [
        /started collector \(pid \d+\)/,
        /status page: +http:\/\/127\.0\.0\.1:\d+\//,
        /all agents are reporting/,
        /FIRING \(critical\) \S+ shop_down: .* the demo shop is not answering/,
        /outbound call bob \(5550101\): no_answer, [0-9.]+ s, about 0\.\d\d EUR in call charges/,
        /outbound call alice \(5550102\): acknowledged, pressed "1"/,
        /acknowledged [0-9a-f]{16} by alice via dtmf/,
        /RESOLVED \S+ shop_down/,
        /FIRING \(warning\) \S+ database_errors: .*3 database errors/,
        /scenario complete/,
      ];
      const lineStory = [
        /dialling 5550101/,
        /no answer/,
        /dialling 5550102/,
        /answered/,
        /speaking: "This is offhook with one alert\. critical, .*the demo shop is not answering\."/,
        /speaking: "Press 1 to acknowledge\./,
        /far end pressed 1/,
        /speaking: "Acknowledged\./,
      ];
      const notifications = [
        /notify +webhook "demo-webhook": FIRING 1 alert/,
        /notify +webhook "demo-webhook": RESOLVED 1 alert/,
      ];
      for (const story of [natsStory, lineStory, notifications]) {
        let from = 0;
        for (const pattern of story) {
          const match = pattern.exec(output.slice(from));
          assert.ok(match, `expected ${pattern} after position ${from} in:\n${output}`);
          from += match.index + match[0].length;
        }
      }
      assert.equal((output.match(/dialling/g) ?? []).length, 2, 'exactly two calls: Bob (no answer), then Alice');

      const pids = [...output.matchAll(/\(pid (\d+)\)/g), ...output.matchAll(/nats-server \(pid (\d+)\)/g)].map((m) =>
        Number(m[1]),
      );
      assert.ok(pids.length >= 6, `pids printed: ${pids.join(' ')}`);
      assert.ok(pids.every(alive), 'every component is running before Ctrl-C');

      const npmExited = once(npm, 'exit');
      process.kill(-npm.pid!, 'SIGINT');
      await Promise.all([demoStopped, npmExited]);
      assert.match(output, /stopping \(Ctrl-C\)/);
      const leftovers = pids.filter(alive);
      assert.deepEqual(leftovers, [], `processes left behind: ${leftovers.join(' ')}`);
      assert.ok(!existsSync(demoDir(output)), 'the demo directory was removed');
    }
  });

  it('stops every process and removes its directory when SIGINT reaches npm alone', async () => {
    const npm = trackChild(
      spawn('npm', ['start', '--', '--no-scenario'], {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, FORCE_COLOR: '0' },
      }),
    );
    let output = '';
    npm.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    npm.stderr!.on('data', (chunk: Buffer) => {
      output += chunk.toString('utf8');
    });
    try {
      await waitForOutput(npm, /press Ctrl-C to stop|FAILED/, 200_000);
      assert.doesNotMatch(output, /FAILED/, output);
      const pids = [...output.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
      assert.ok(pids.length >= 6 && pids.every(alive), `pids printed: ${pids.join(' ')}`);
      const stopped = waitForOutput(npm, /stopped \d+ processes/, 30_000);
      const npmExited = once(npm, 'exit');
      // Not the process group: only npm, as `kill -INT <npm pid>` or a supervisor that signals its child does.
      process.kill(npm.pid!, 'SIGINT');
      await Promise.all([stopped, npmExited]);
      const leftovers = pids.filter(alive);
      assert.deepEqual(leftovers, [], `processes left behind: ${leftovers.join(' ')}`);
      assert.ok(!existsSync(demoDir(output)), 'the demo directory was removed');
    } finally {
      try {
        process.kill(-npm.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
});

function demoDir(output: string): string {
  const dir = /configs, logs and the line transcript in (\S+)/.exec(output)?.[1];
  assert.ok(dir, 'the demo printed its directory');
  return dir;
}
