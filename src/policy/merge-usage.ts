/**
 * Several usage sources merged into one verdict. The rule (README, "Several sources at once"):
 * - an action is **used** when any source saw it authorized (a source with weak evidence included: what it saw
 *   happened);
 * - it is **excess** only when at least one source whose evidence is sufficient can observe it over its window and
 *   no source saw it;
 * - otherwise it is **unobservable**, with the reason of every source.
 * The merged usage carries the union of the observed actions and each source's own usage (`merged`); the analysis
 * reads observability per source (policy/unobservable.ts) and the evidence verdict per source (policy/evidence.ts).
 */
import { compare } from '../model.js'
import type { MergedSource, ObservedAction, RoleUsage, UsageEvidence } from '../model.js'

function mergeAction(a: ObservedAction, b: ObservedAction): ObservedAction {
  const resources = [...new Set([...a.resources, ...b.resources])].sort(compare)
  const operations = [...new Set([...(a.operations ?? []), ...(b.operations ?? [])])].sort(compare)
  const firstSeen = [a.firstSeen, b.firstSeen].filter((d): d is string => d !== undefined).sort(compare)[0]
  const lastSeen = [a.lastSeen, b.lastSeen]
    .filter((d): d is string => d !== undefined)
    .sort(compare)
    .at(-1)
  const count = a.count === undefined && b.count === undefined ? undefined : (a.count ?? 0) + (b.count ?? 0)
  return {
    action: a.action,
    resources,
    ...(count !== undefined ? { count } : {}),
    ...(operations.length > 0 ? { operations } : {}),
    ...(firstSeen ? { firstSeen } : {}),
    ...(lastSeen ? { lastSeen } : {})
  }
}

/** The union of what the sources saw, by action (case-insensitive), in first-seen order. */
function unionOfActions(parts: readonly MergedSource[]): ObservedAction[] {
  const byAction = new Map<string, ObservedAction>()
  for (const { usage } of parts) {
    for (const observed of usage.actions) {
      const key = observed.action.toLowerCase()
      const known = byAction.get(key)
      byAction.set(key, known ? mergeAction(known, observed) : observed)
    }
  }
  return [...byAction.values()]
}

/** One usage from several sources' usages of the same role (at least one). */
export function mergeUsages(parts: readonly MergedSource[]): RoleUsage {
  const [first] = parts
  if (!first) throw new Error('mergeUsages: no source to merge')
  if (parts.length === 1 && !first.insufficient) return first.usage
  const starts = parts
    .map(p => p.usage.window.start)
    .filter(Boolean)
    .sort(compare)
  const ends = parts
    .map(p => p.usage.window.end)
    .filter(Boolean)
    .sort(compare)
  const notes = parts.flatMap(p => p.usage.evidence.notes.map(n => `${p.usage.source}: ${n}`))
  return {
    roleArn: first.usage.roleArn,
    source: first.usage.source,
    window: { start: starts[0] ?? '', end: ends.at(-1) ?? '' },
    complete: parts.every(p => p.usage.complete),
    actions: unionOfActions(parts),
    serviceLevelOnly: [],
    evidence: {
      ...parts.reduce<UsageEvidence>((all, p) => ({ ...all, ...p.usage.evidence }), { notes }),
      notes
    },
    merged: [...parts]
  }
}

/** The sources of a usage: its parts when merged, else itself. */
export function usageParts(usage: RoleUsage): readonly MergedSource[] {
  return usage.merged ?? [{ usage }]
}
