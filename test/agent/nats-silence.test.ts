import assert from 'node:assert/strict';
import { useNatsServer } from '../helpers/nats-server.ts';
import { startOffhook } from '../../deploy/lib/offhook-process.ts';
import { killAndWait, waitForOutput } from '../../deploy/lib/processes.ts';
import { scrapeSum } from '../../deploy/lib/metrics-text.ts';
import { tempDir } from './helpers.ts';

describe('agent nats_silence (real agent process, real nats-server stopped)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  const dir = tempDir();

  after(async () => {
    dir.remove();
  });

  it('logs an error, offhook_agent_nats_silent 1 once NATS is silent for nats_silence, 0 when back', async () => {
    const agent = await startOffhook('agent', dir.path, 'agent', {
      host: 'silence1',
      nats: { servers: [server.url] },
      state_dir: `${dir.path}/state`,
      metrics_listen: '127.0.0.1:0',
      nats_silence: '500ms',
      resources: { enabled: false },
    });
    try {
      await waitForOutput(agent.child, /"msg":"connected to NATS"/);
      assert.equal(await scrapeSum(agent.metricsUrl, 'offhook_agent_nats_silent'), 0);

      const reported = waitForOutput(agent.child, /"level":"error"[^\n]*cannot reach NATS/, 30_000);
      await server.stop('SIGKILL');
      await reported;
      assert.equal(await scrapeSum(agent.metricsUrl, 'offhook_agent_nats_silent'), 1);
      assert.ok((await scrapeSum(agent.metricsUrl, 'offhook_agent_nats_silent_seconds')) > 0.5);

      const back = waitForOutput(agent.child, /NATS reachable again/, 30_000);
      await server.start();
      await back;
      assert.equal(await scrapeSum(agent.metricsUrl, 'offhook_agent_nats_silent'), 0);
      assert.equal(await scrapeSum(agent.metricsUrl, 'offhook_agent_nats_silent_seconds'), 0);
    } finally {
      await killAndWait(agent.child, 'SIGTERM');
    }
  });
});
