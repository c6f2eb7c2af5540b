/**
 * Series that have an alert or engine state: `rule \0 series key` → fingerprint, with a count per rule, so a clear
 * verdict of a rule with none (a healthy fleet) is passed over without building its key.
 */
export class ActiveSeries {
  private readonly byKey = new Map<string, string>();
  private readonly perRule = new Map<string, number>();

  static key(rule: string, series: string): string {
    return `${rule}\u0000${series}`;
  }

  get(key: string): string | undefined {
    return this.byKey.get(key);
  }

  set(key: string, fp: string): void {
    if (!this.byKey.has(key)) {
      const rule = ruleOfKey(key);
      this.perRule.set(rule, (this.perRule.get(rule) ?? 0) + 1);
    }
    this.byKey.set(key, fp);
  }

  delete(key: string): void {
    if (!this.byKey.delete(key)) return;
    const rule = ruleOfKey(key);
    const left = (this.perRule.get(rule) ?? 1) - 1;
    if (left === 0) this.perRule.delete(rule);
    else this.perRule.set(rule, left);
  }

  /** Whether any series of this rule is active. */
  any(rule: string): boolean {
    return this.perRule.has(rule);
  }
}

/**
 * The rule part of a key made by ActiveSeries.key() (the whole key when it holds no \0). Rule names cannot hold \0
 * (rules/types.ts RuleCommon), so the first one ends the name.
 */
export function ruleOfKey(key: string): string {
  const end = key.indexOf('\u0000');
  return end === -1 ? key : key.slice(0, end);
}
