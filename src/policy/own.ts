/**
 * A lookup in a constant table keyed by data from logs or policies: only the table's own keys count, so names such
 * as `constructor` or `__proto__` find nothing instead of Object.prototype members.
 */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined
}
