/**
 * Writes a set of catalog actions as a short Action list. A wildcard replaces explicit names only when, within the
 * catalog, it matches nothing but actions of the set, and the statement it replaces already granted a wildcard
 * covering it: otherwise it would grant actions AWS adds later that today's policy does not.
 */
import type { CatalogIndex } from './catalog.js'
import { globCovers } from './glob.js'

const VERB = /^[A-Z][a-z]+/

interface CompactedActions {
  actions: string[]
  /** Wildcards used, e.g. `ssm:Get*`. */
  wildcards: string[]
}

function byLowerCase(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : 0
}

export function compactActions(
  catalog: CatalogIndex,
  ids: readonly number[],
  grantedPatterns: readonly string[]
): CompactedActions {
  const set = new Set(ids)
  const lowerGranted = grantedPatterns.map(p => p.toLowerCase())
  // Every id of a verb proposes the same candidate: each is judged against the granted patterns once.
  const allowed = new Map<string, boolean>()
  const allowedWildcard = (candidate: string): boolean => {
    let answer = allowed.get(candidate)
    if (answer === undefined) {
      const lower = candidate.toLowerCase()
      answer = lowerGranted.some(p => globCovers(p, lower))
      allowed.set(candidate, answer)
    }
    return answer
  }
  // Each verb wildcard is judged once: the ids of a verb that it cannot replace would otherwise each re-expand it.
  const judged = new Map<string, number[] | undefined>()
  const coversOnlySet = (candidate: string): number[] | undefined => {
    if (judged.has(candidate)) return judged.get(candidate)
    const matched = catalog.expandIds(candidate)
    const result = matched.length > 1 && matched.every(id => set.has(id)) ? matched : undefined
    judged.set(candidate, result)
    return result
  }
  const byService = new Map<string, number[]>()
  for (const id of [...set].sort((a, b) => a - b)) {
    const service = catalog.serviceOf(id)
    const list = byService.get(service)
    if (list) list.push(id)
    else byService.set(service, [id])
  }
  const actions: string[] = []
  const wildcards: string[] = []
  for (const [service, serviceIds] of byService) {
    const whole = `${service}:*`
    if (
      serviceIds.length === catalog.actionsOf(service).length &&
      serviceIds.length > 1 &&
      allowedWildcard(whole)
    ) {
      actions.push(whole)
      wildcards.push(whole)
      continue
    }
    const done = new Set<number>()
    for (const id of serviceIds) {
      const name = catalog.names[id]
      if (name === undefined || done.has(id)) continue
      const verb = VERB.exec(name.slice(service.length + 1))?.[0]
      const candidate = verb ? `${service}:${verb}*` : undefined
      const matched = candidate && allowedWildcard(candidate) ? coversOnlySet(candidate) : undefined
      if (candidate && matched) {
        actions.push(candidate)
        wildcards.push(candidate)
        for (const m of matched) done.add(m)
      } else {
        actions.push(name)
        done.add(id)
      }
    }
  }
  return { actions: actions.sort(byLowerCase), wildcards: wildcards.sort(byLowerCase) }
}
