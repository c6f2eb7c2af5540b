import { counter, Gauge, type Registry } from '../../../shared/index.ts';

/** The SIP line's metrics (none registered without a registry); a second line in the same registry shares them. */
export function sipLineMetrics(registry: Registry | undefined) {
  const gauge = (name: string, help: string): Gauge => {
    const existing = registry?.getSingleMetric(name);
    return (existing as Gauge | undefined) ?? new Gauge({ name, help, registers: registry ? [registry] : [] });
  };
  return {
    lineUp: gauge('offhook_sip_line_up', '1 while baresip runs and answers on its control socket'),
    registered: gauge('offhook_sip_registered', '1 while the SIP account is registered (always 0 in direct mode)'),
    restarts: registry
      ? counter(
          registry,
          'offhook_sip_baresip_restarts_total',
          'baresip restarts by cause (exited, hung, control_lost, start_failed)',
          ['reason'],
        )
      : null,
    invalidFrames: registry
      ? counter(registry, 'offhook_sip_control_invalid_total', 'ctrl_tcp frames dropped as invalid, by reason', [
          'reason',
        ])
      : null,
  };
}

export type SipLineMetrics = ReturnType<typeof sipLineMetrics>;
