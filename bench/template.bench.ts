import { performance } from 'node:perf_hooks';
import { mailBody } from '../collector/notify/mail.ts';
import { templateRenderer } from '../collector/notify/template.ts';
import { headline } from '../collector/notify/text.ts';
import type { NotificationBatch } from '../collector/notify/types.ts';
import { createRegistry, silentLogger } from '../shared/index.ts';
import { batchOf, makeAlert } from '../test/collector/notify/helpers.ts';
import { report } from './lib.ts';

const ITERATIONS = 5000;

/** A mail subject and body in Liquid, about as long as the built-in texts (the baseline). */
const SUBJECT = '[offhook] [{{ Status | upcase }}:{{ Alerts.size }}] {{ CommonLabels.severity }} {{ Headline }}';
const BODY = `{{ Headline }}
{% for a in Alerts %}
{{ a.Status | upcase }} {{ a.Labels.severity }} {{ a.Labels.host }} {{ a.Labels.alertname }}: {{
a.Annotations.summary }}
  started:     {{ a.StartsAt }}
{% for l in a.Labels %}  label {{ l[0] }}: {{ l[1] }}
{% endfor %}  fingerprint: {{ a.Fingerprint }}
  {{ a.GeneratorURL }}
{% endfor %}
-- 
offhook, receiver {{ Receiver }}, reason {{ Reason }}`;

function microsPer(fn: (batch: NotificationBatch) => string, batch: NotificationBatch): number {
  for (let i = 0; i < 500; i++) fn(batch); // warm-up: JIT and the renderer's parse cache
  const start = performance.now();
  for (let i = 0; i < ITERATIONS; i++) fn(batch);
  return ((performance.now() - start) * 1000) / ITERATIONS;
}

/**
 * What a notification template costs per notification (subject + body), against the built-in texts it replaces.
 * Batches of 1 (today) and 10 (a group).
 */
export async function run(): Promise<void> {
  const renderer = templateRenderer('bench', silentLogger(), createRegistry('bench'));
  const rows = [1, 10].map((size) => {
    const batch = batchOf(Array.from({ length: size }, (_, i) => makeAlert({ host: `web${i}` })));
    const builtin = microsPer((b) => `[offhook] ${headline(b)}${mailBody(b)}`, batch);
    const liquid = microsPer(
      (b) => renderer.render('subject', SUBJECT, b, () => '') + renderer.render('body', BODY, b, () => ''),
      batch,
    );
    return {
      name: `mail subject+body, Liquid, batch of ${size}`,
      value: liquid,
      unit: 'µs/notification',
      baseline: { name: 'built-in text (no template)', value: builtin },
    };
  });
  report({ bench: 'template', rows });
}
