/**
 * What a last-access source (IAM access advisor, unused-access findings) can judge. Such a source does not list
 * calls: it says, per service and per tracked action, when the role last used it. The rule:
 * - an action with its own entry (`level: 'action'`, a tracked action) is observable: used when its last use falls
 *   in the window, otherwise unused ("last used DATE" or "never used");
 * - an action without one is observable only when its whole service is unused over the window (the service's
 *   entry has no last use in it): nothing of the service was called, so none of its actions was;
 * - otherwise (the service was used and the action is not tracked, or the source has no entry for the service) it
 *   is unobservable, with the reason. Service-level use never makes a tracked action used.
 */
import type { LastAccess, RoleUsage } from '../model.js'
import { at } from './at.js'
import type { CatalogIndex } from './catalog.js'
import { dependentPatterns } from './dependent-actions.js'

/** What a last-access source knows of one action. */
export type LastAccessFact =
  | { observable: true; level: 'action' | 'service'; lastUsed?: string; usedInWindow: boolean }
  | { observable: false; reason: string }

/** The entries of a source by lower-case key. */
function entriesByKey(lastAccess: readonly LastAccess[]): Map<string, LastAccess> {
  const map = new Map<string, LastAccess>()
  for (const entry of lastAccess) map.set(`${entry.level}:${entry.key.toLowerCase()}`, entry)
  return map
}

/** Why a source with no entry for a service cannot judge its actions. */
function notCovered(source: RoleUsage['source'], service: string): string {
  return source === 'unused-access'
    ? 'not listed as unused by the unused-access findings: used in their tracking period, or not tracked by AWS at action level'
    : `${source}: no last-accessed data for ${service} (IAM reports only the services the role's permissions policies allow)`
}

function inWindow(lastUsed: string | undefined, windowStart: number): boolean {
  return lastUsed !== undefined && Date.parse(lastUsed) >= windowStart
}

function day(iso: string): string {
  return iso.slice(0, 10)
}

/** The facts of every catalog action for a source that fills lastAccess (by catalog id). */
export function lastAccessFacts(catalog: CatalogIndex, usage: RoleUsage): Map<number, LastAccessFact> {
  const facts = new Map<number, LastAccessFact>()
  const entries = entriesByKey(usage.lastAccess ?? [])
  const start = Date.parse(usage.window.start)
  const source = usage.source
  for (let id = 0; id < catalog.size; id++) {
    const name = at(catalog.names, id)
    const service = catalog.serviceOf(id)
    const action = entries.get(`action:${name.toLowerCase()}`)
    const whole = entries.get(`service:${service.toLowerCase()}`)
    if (action) {
      const used = inWindow(action.lastUsed, start)
      facts.set(id, {
        observable: true,
        level: 'action',
        ...(action.lastUsed ? { lastUsed: action.lastUsed } : {}),
        usedInWindow: used
      })
    } else if (whole && !inWindow(whole.lastUsed, start)) {
      facts.set(id, {
        observable: true,
        level: 'service',
        ...(whole.lastUsed ? { lastUsed: whole.lastUsed } : {}),
        usedInWindow: false
      })
    } else if (whole) {
      facts.set(id, {
        observable: false,
        reason:
          source === 'unused-access'
            ? `${service} was last used ${day(whole.lastUsed ?? '')} (${source}, service level): which of its actions is not known`
            : `${source}: ${service} was used (last ${day(whole.lastUsed ?? '')}), and AWS does not track ${name} at action level`
      })
    } else {
      facts.set(id, {
        observable: false,
        reason: notCovered(source, service)
      })
    }
  }
  return facts
}

/**
 * Catalog id -> reason for what a last-access source cannot observe: untracked actions of used services, services it
 * has no data for, and actions other services may authorize inside calls of a used service (a service used at
 * service level may have made any of its calls).
 */
export function lastAccessUnobservable(catalog: CatalogIndex, usage: RoleUsage): Map<number, string> {
  const reasons = new Map<number, string>()
  const facts = lastAccessFacts(catalog, usage)
  for (const [id, fact] of facts) if (!fact.observable) reasons.set(id, fact.reason)
  const start = Date.parse(usage.window.start)
  const usedServices = (usage.lastAccess ?? []).filter(
    e => e.level === 'service' && inWindow(e.lastUsed, start)
  )
  for (const { key } of usedServices) {
    for (const call of catalog.actionsOf(key)) {
      for (const pattern of dependentPatterns(call)) {
        for (const id of catalog.expandIds(pattern)) {
          if (reasons.has(id) || isUsed(facts.get(id))) continue
          reasons.set(
            id,
            `${usage.source}: may be authorized inside ${key} calls (used, last ${day(
              usedServices.find(s => s.key === key)?.lastUsed ?? ''
            )}), which are not recorded as use of this action`
          )
        }
      }
    }
  }
  return reasons
}

function isUsed(fact: LastAccessFact | undefined): boolean {
  return fact?.observable === true && fact.usedInWindow
}

/** "last used DATE (source)" or "never used in N days (source)" for an action the source observes unused. */
export function lastAccessEvidence(
  fact: LastAccessFact,
  source: string,
  windowDays: number
): string | undefined {
  if (!fact.observable || fact.usedInWindow) return undefined
  const what = fact.level === 'service' ? 'service ' : ''
  return fact.lastUsed
    ? `${what}last used ${day(fact.lastUsed)} (${source})`
    : `${what}never used in ${windowDays} days (${source})`
}
