import assert from 'node:assert/strict';
import { CollectorConfig } from '../../collector/config.ts';
import { startCollector } from '../../collector/service.ts';
import { createRegistry, NatsConfig, silentLogger } from '../../shared/index.ts';
import { startGateway } from '../../telephony-gateway/gateway.ts';
import { openDriver } from '../../telephony-gateway/drivers/open.ts';
import { openSimLine } from '../../native/index.ts';
import { gatewayConfig } from '../telephony-gateway/helpers.ts';
import { speechStateDir, removeSpeechCache } from '../telephony-gateway/harness.ts';
import { useNatsServer } from '../helpers/nats-server.ts';
import { RecordingSink } from '../collector/nats-harness.ts';

// A single server refuses R3 streams, which shows the configured replicas reach ensureStreams; the cluster test
// (nats-cluster.test.ts) covers what R3 buys.
const REFUSED = /replicas > 1 not supported in non-clustered mode/;

describe('nats.stream_replicas: the replicas collector and gateway create streams with', function () {
  const server = useNatsServer();
  after(async () => {
    removeSpeechCache();
  });

  it('defaults to 1 and names the fix for a bad value', () => {
    assert.equal(NatsConfig.parse({}).stream_replicas, 1);
    assert.equal(NatsConfig.parse(undefined).stream_replicas, 1);
    assert.equal(NatsConfig.parse({ stream_replicas: 3 }).stream_replicas, 3);
    const bad = NatsConfig.safeParse({ stream_replicas: 'three' });
    assert.ok(!bad.success && /expected 1, 3 or 5/.test(bad.error.issues[0]!.message));
    assert.ok(!NatsConfig.safeParse({ stream_replicas: 0 }).success);
  });

  it('the collector creates its streams with nats.stream_replicas', async () => {
    const config = CollectorConfig.parse({
      nats: { servers: [server.url], prefix: 'rcoll', stream_replicas: 3 },
      listen: '127.0.0.1:0',
    });
    await assert.rejects(
      startCollector(config, {
        logger: silentLogger(),
        registry: createRegistry('collector'),
        sink: new RecordingSink(),
      }),
      REFUSED,
    );
  });

  it('the gateway creates its streams with nats.stream_replicas', async () => {
    const line = await openSimLine({ speed: 100 });
    try {
      const config = gatewayConfig({
        gateway_host: 'gw1',
        state_dir: speechStateDir,
        nats: { servers: [server.url], prefix: 'rgw', stream_replicas: 3 },
        line: { backend: 'sim' },
      });
      const driver = await openDriver(config.line, { stateDir: config.state_dir, logger: silentLogger(), line });
      await assert.rejects(startGateway({ config, driver, logger: silentLogger(), metricsListen: null }), REFUSED);
    } finally {
      await line.close();
    }
  });
});
