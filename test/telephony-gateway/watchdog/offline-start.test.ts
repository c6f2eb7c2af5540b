import assert from 'node:assert/strict';
import { openSimLine } from '../../../native/index.ts';
import type { SimLine } from '../../../native/line.ts';
import { silentLogger } from '../../../shared/index.ts';
import { startGateway, type RunningGateway } from '../../../telephony-gateway/gateway.ts';
import { openDriver } from '../../../telephony-gateway/drivers/open.ts';
import { useNatsServer } from '../../helpers/nats-server.ts';
import { untilPolled } from '../../helpers/wait.ts';
import { SIM_SPEED, speechStateDir } from '../harness.ts';
import { gatewayConfig } from '../helpers.ts';
import { dialled, localState, playedFiles, spokenFile, watchdogInput } from './helpers.ts';

describe('gateway watchdog: started while NATS is down (sim line, real nats-server started later)', function () {
  this.timeout(60_000);
  const server = useNatsServer();
  let line: SimLine;
  let gateway: RunningGateway | undefined;

  before(async () => {
    await server.stop();
    line = await openSimLine({ speed: SIM_SPEED });
  });
  after(async () => {
    await server.start();
    await gateway?.stop();
    await line.close();
  });

  it('phones from config and local files, 1 acknowledges, and the call counts in the budget later', async () => {
    const prefix = 'wdoffline1';
    const config = gatewayConfig({
      gateway_host: 'gw1',
      state_dir: speechStateDir,
      nats: { servers: [server.url], prefix },
      line: { backend: 'sim' },
      watchdog: watchdogInput({ nats: '1s' }),
    });
    line.script({ number: '100', answerAfterRings: 1, then: [{ waitForPrompt: 'menu' }, { press: '1' }] });
    const driver = await openDriver(config.line, { stateDir: config.state_dir, logger: silentLogger(), line });
    const starting = startGateway({ config, driver, logger: silentLogger(), metricsListen: null });

    const ended = (): boolean =>
      playedFiles(line.transcript()).some((f) => f.startsWith('acked-')) &&
      line.transcript().at(-1)?.event === 'on_hook';
    await untilPolled(ended, 'the acknowledged call made without NATS', 30_000);
    assert.deepEqual(dialled(line.transcript()), ['100']);
    const summary =
      'offhook is blind: the telephony gateway has not reached NATS for less than a minute, ' +
      'so no alert can reach the phone';
    assert.equal(playedFiles(line.transcript())[0], await spokenFile(summary));
    assert.equal(localState(prefix).budget.calls.length, 1);

    await server.start();
    gateway = await starting;
    const remaining = await gateway.registry.getSingleMetric('offhook_gateway_budget_remaining_calls')!.get();
    const perHour = remaining.values.find((v) => v.labels.limit === 'calls_per_hour')?.value;
    assert.equal(perHour, config.budget.max_calls_per_hour - 1, 'the offline call is in the budget it started with');
    assert.deepEqual(dialled(line.transcript()), ['100'], 'acknowledged: nobody is called again');
  });
});
