/**
 * One infrastructure-code policy narrowed to what its role needs: each Allow action pattern that grants an excess
 * action is replaced by the catalog actions it grants that are not excess (used, unobservable, conditional, kept);
 * a pattern without excess stays as written, and a statement left with no action goes. The result never grants an
 * action the document did not, and keeps every action the analysis did not call excess. The statements whose
 * indexes are in `keptAsIs` stay exactly as they are. A `used` action the catalog does not know (newer than it) that
 * a replaced pattern grants is kept by name: the catalog's list alone would take it away. Pure.
 */
import type { PolicyDocumentJson } from '../model.js'
import type { Catalog } from '../policy/catalog.js'
import { globMatch } from '../policy/glob.js'

/** The narrowed document, or undefined when no statement is left (the whole policy is excess). */
export function narrowDocument(
  document: PolicyDocumentJson,
  excess: ReadonlySet<string>,
  catalog: Catalog,
  keptAsIs: ReadonlySet<number> = new Set(),
  used: readonly string[] = []
): PolicyDocumentJson | undefined {
  const excessKey = new Set([...excess].map(a => a.toLowerCase()))
  const uncatalogued = used.filter(a => catalog.action(a) === undefined)
  const statements: Record<string, unknown>[] = []
  for (const [index, statement] of document.Statement.entries()) {
    const action = statement.Action
    if (statement.Effect !== 'Allow' || action === undefined || keptAsIs.has(index)) {
      statements.push(statement)
      continue
    }
    const patterns = (Array.isArray(action) ? action : [action]).map(String)
    const kept: string[] = []
    for (const pattern of patterns) {
      const granted = catalog.expand(pattern)
      if (!granted.some(a => excessKey.has(a.toLowerCase()))) {
        if (!kept.includes(pattern)) kept.push(pattern)
        continue
      }
      for (const a of granted) if (!excessKey.has(a.toLowerCase()) && !kept.includes(a)) kept.push(a)
      for (const a of uncatalogued)
        if (globMatch(pattern.toLowerCase(), a.toLowerCase()) && !kept.includes(a)) kept.push(a)
    }
    if (kept.length === 0) continue
    const unchanged = kept.length === patterns.length && kept.every((p, i) => p === patterns[i])
    statements.push(
      unchanged
        ? statement
        : { ...statement, Action: kept.length === 1 && !Array.isArray(action) ? kept[0] : kept }
    )
  }
  return statements.length === 0 ? undefined : { ...document, Statement: statements }
}
