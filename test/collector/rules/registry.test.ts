import assert from 'node:assert/strict';
import { ENGINE_KINDS, RULE_PLUGINS, RuleConfig } from '../../../collector/rules/index.ts';
import { schemaKinds } from '../../../shared/config-union.ts';
import { RuleKind } from '../../../shared/index.ts';

describe('rule registry (collector/rules/index.ts)', () => {
  for (const plugin of RULE_PLUGINS) {
    it(`${plugin.kind}: its schema's kind literal is exactly its plugin kind`, () => {
      assert.deepEqual(schemaKinds(plugin), [plugin.kind]);
    });

    it(`${plugin.kind}: a wire-valid rule kind, not one the engine raises itself`, () => {
      assert.ok(RuleKind.safeParse(plugin.kind).success, `${plugin.kind} does not match the wire RuleKind pattern`);
      assert.ok(!(ENGINE_KINDS as readonly string[]).includes(plugin.kind), `${plugin.kind} is an engine kind`);
    });

    it(`${plugin.kind}: RuleConfig routes kind: ${plugin.kind} to this plugin's schema`, () => {
      const result = RuleConfig.safeParse({ kind: plugin.kind });
      assert.equal(result.success, false, 'a rule without a name must not parse');
      const direct = plugin.configSchema.safeParse({ kind: plugin.kind });
      assert.deepEqual(result.error?.issues, direct.error?.issues);
    });
  }

  it('registers each kind once', () => {
    const kinds = RULE_PLUGINS.map((p) => p.kind);
    assert.deepEqual([...new Set(kinds)], kinds);
  });

  it('names every registered kind when kind: is unknown', () => {
    const result = RuleConfig.safeParse({ kind: 'nope', name: 'x' });
    assert.equal(result.success, false);
    const message = result.error?.issues.map((i) => i.message).join('; ') ?? '';
    for (const plugin of RULE_PLUGINS) assert.match(message, new RegExp(`"${plugin.kind}"`));
  });
});
