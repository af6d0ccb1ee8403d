/**
 * What a proposal keeps of a role's current grants, decided once per role from its analysis: the actions it must keep,
 * where resources may be narrowed, and which statement makes other grants of an action redundant.
 */
import type { RoleUsage } from '../model.js'
import type { AnalyzeOptions, RoleAnalysis } from './analyze.js'
import { isKeepStatement, keptIds } from './analyze.js'
import { decide } from './evaluate.js'
import { GRANTED, NOT_GRANTED } from './grants.js'
import type { GrantModel } from './grants.js'
import type { CompiledStatement } from './match.js'
import { observedResources } from './resources.js'

function idsOf(model: GrantModel, names: Iterable<string>): Set<number> {
  const ids = new Set<number>()
  for (const name of names) {
    const id = model.catalog.idOf(name)
    if (id !== undefined && model.granted[id] !== NOT_GRANTED) ids.add(id)
  }
  return ids
}

/** Unconditional Allow statements on Resource `*` make every other grant of the same action redundant. */
function findDominators(
  model: GrantModel,
  keep: Set<number>,
  options: AnalyzeOptions
): Map<number, CompiledStatement> {
  const dominators = new Map<number, CompiledStatement>()
  const wide = model.statements.filter(
    c => c.statement.effect === 'Allow' && !c.statement.condition && c.statement.resources?.includes('*')
  )
  // A keep-Sid statement is carried whole, so it wins over a derived one.
  wide.sort(
    (a, b) => Number(isKeepStatement(b.statement, options)) - Number(isKeepStatement(a.statement, options))
  )
  for (const id of keep) {
    const dominator = wide.find(c => c.actionIds[id] === 1)
    if (dominator) dominators.set(id, dominator)
  }
  return dominators
}

/** What the proposal keeps of the current grants, and where it may narrow resources: decided once per role. */
export interface KeepPlan {
  model: GrantModel
  /** Catalog ids the proposal grants: used, unobservable, conditional or kept. */
  keep: Set<number>
  /** Used actions an Allow statement names but whose resource types no statement can match (see planKeeps). */
  namedButNotGranted: string[]
  /** Ids whose Resource may be narrowed to what was observed: used under an unconditional grant, never protected. */
  narrowable: Set<number>
  /** Per id, the concrete resources observed, all allowed today. */
  observed: Map<number, string[]>
  /** Per kept id, the unconditional Allow on `*` that makes every other grant of it redundant. */
  dominators: Map<number, CompiledStatement>
  /** Used or keep-actions names the catalog does not know: carried by name by the statements that grant them. */
  keepOutsideCatalog: string[]
}

export function planKeeps(usage: RoleUsage, analysis: RoleAnalysis, options: AnalyzeOptions): KeepPlan {
  const { model } = analysis
  const keep = idsOf(model, [
    ...analysis.used,
    ...analysis.unobservable.map(u => u.action),
    ...analysis.conditional.map(c => c.action),
    ...analysis.kept
  ])
  // A used action that an Allow statement names but whose resource types (per the catalog) no statement can match:
  // the source saw the call, so the catalog may be missing a type. Carrying it grants nothing new.
  const namedButNotGranted: string[] = []
  for (const name of analysis.used) {
    const id = model.catalog.idOf(name)
    if (id === undefined || model.granted[id] !== NOT_GRANTED) continue
    if (!model.statements.some(c => c.statement.effect === 'Allow' && c.actionIds[id] === 1)) continue
    keep.add(id)
    namedButNotGranted.push(name)
  }
  const protectedIds = keptIds(model, options)
  // Narrow only what was used under an unconditional grant, never kept, unobservable or conditional actions.
  const narrowable = new Set(
    [...idsOf(model, analysis.used)].filter(id => model.granted[id] === GRANTED && !protectedIds.has(id))
  )
  const observed = observedResources(model.catalog, usage)
  // Narrowing to a resource the current policies deny would keep nothing the role really used: never do it.
  for (const [id, resources] of observed) {
    const allowedToday = resources.every(
      r => decide(model.statements, c => c.actionIds[id] === 1, r).decision === 'allow'
    )
    if (!allowedToday) observed.delete(id)
  }
  return {
    model,
    keep,
    namedButNotGranted,
    narrowable,
    observed,
    dominators: findDominators(model, keep, options),
    keepOutsideCatalog: [
      ...analysis.used.filter(name => model.catalog.idOf(name) === undefined),
      ...options.keepActions.filter(pattern => model.catalog.expandIds(pattern).length === 0)
    ]
  }
}
