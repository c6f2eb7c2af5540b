import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { NotificationsConfig } from '../../../collector/notify/config.ts';
import { notifierPlugins } from '../../../collector/notify/registry.ts';

const README = readFileSync(new URL('../../../collector/notify/README.md', import.meta.url), 'utf8');

describe('notifiers: README examples', () => {
  const blocks = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]!);

  it('has a complete example for every registered kind', () => {
    for (const plugin of notifierPlugins)
      assert.ok(
        blocks.some((b) => b.includes(`kind: ${plugin.kind}\n`)),
        `no example for ${plugin.kind}`,
      );
  });

  it('every example is a valid notifications section', () => {
    assert.ok(blocks.length >= notifierPlugins.length);
    for (const block of blocks) {
      const result = NotificationsConfig.safeParse(parse(block).notifications);
      assert.ok(result.success, `${block}\n${result.success ? '' : result.error.message}`);
    }
  });
});
