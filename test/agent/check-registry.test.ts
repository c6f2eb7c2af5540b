import assert from 'node:assert/strict';
import { CheckConfig, checkKinds, checkPlugins, pluginFor } from '../../agent/checks/index.ts';
import { schemaKinds } from '../../shared/config-union.ts';

describe('check registry (agent/checks/index.ts)', () => {
  for (const plugin of checkPlugins) {
    const kinds = [plugin.kind, ...(plugin.aliases ?? [])];

    it(`${plugin.kind}: its schema accepts exactly its kind and aliases`, () => {
      assert.deepEqual(schemaKinds(plugin).sort(), [...kinds].sort());
    });

    it(`${plugin.kind}: CheckConfig routes each of its kinds to this plugin's schema`, () => {
      for (const kind of kinds) {
        assert.equal(pluginFor(kind), plugin);
        const result = CheckConfig.safeParse({ kind });
        const direct = plugin.configSchema.safeParse({ kind });
        assert.equal(result.success, direct.success, kind);
        assert.deepEqual(result.error?.issues, direct.error?.issues, kind);
      }
    });
  }

  it('gives each kind and alias to one plugin only', () => {
    const all = checkPlugins.flatMap((p) => [p.kind, ...(p.aliases ?? [])]);
    assert.deepEqual([...new Set(all)], all);
    assert.deepEqual([...checkKinds].sort(), [...all].sort());
  });
});
