/**
 * What a source that reports last access (LastAccess entries) can observe: an action with an action-level entry, or
 * any action of a service whose service-level entry shows it unused over the whole window. Anything else is
 * unobservable: a service used in the window tells nothing of which of its actions were, and a service with no entry
 * is not covered (for unused-access findings: used in the tracking period, or not tracked). Service-level data never
 * makes one action used or unused on its own. Pure.
 */
import type { LastAccess, RoleUsage } from '../model.js'
import type { CatalogIndex } from './catalog.js'

/** Whether an entry shows no use in the window (no use at all, or last use before it). */
export function unusedInWindow(entry: LastAccess, windowStart: string): boolean {
  return entry.lastUsed === undefined || Date.parse(entry.lastUsed) < Date.parse(windowStart)
}

const NOT_COVERED: Partial<Record<RoleUsage['source'], string>> = {
  'unused-access':
    'not listed as unused by the unused-access findings: used in their tracking period, or not tracked by AWS at action level'
}

/** Catalog id -> reason for every action the entries do not observe; undefined when the usage has no entries. */
export function lastAccessUnobservable(
  catalog: CatalogIndex,
  usage: RoleUsage
): Map<number, string> | undefined {
  const entries = usage.lastAccess
  if (!entries) return undefined
  const actions = new Set<number>()
  const services = new Map<string, LastAccess>()
  for (const e of entries) {
    if (e.level === 'service') services.set(e.key.toLowerCase(), e)
    else for (const id of catalog.expandIds(e.key)) actions.add(id)
  }
  const notCovered =
    NOT_COVERED[usage.source] ?? `${usage.source} has no last-access data for this action or its service`
  const reasons = new Map<number, string>()
  for (let id = 0; id < catalog.size; id++) {
    if (actions.has(id)) continue
    const service = services.get(catalog.serviceOf(id))
    if (service && unusedInWindow(service, usage.window.start)) continue
    reasons.set(
      id,
      service?.lastUsed
        ? `${catalog.serviceOf(id)} was last used ${service.lastUsed.slice(0, 10)} (${usage.source}, service level): which of its actions is not known`
        : notCovered
    )
  }
  return reasons
}
