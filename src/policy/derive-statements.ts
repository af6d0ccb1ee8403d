/**
 * The statements of a proposal: each current Allow statement keeps only the actions of the keep plan, with its
 * resources (narrowed where observed) and condition; Deny and keep-Sid statements are carried verbatim.
 */
import type { AnalyzeOptions } from './analyze.js'
import { isKeepStatement } from './analyze.js'
import { compactActions } from './compact.js'
import { restrictingCondition } from './condition-effect.js'
import type { ConditionSubject } from './condition-effect.js'
import { NOT_GRANTED } from './grants.js'
import type { GrantModel } from './grants.js'
import type { KeepPlan } from './keep-plan.js'
import { patternHasVariable, statementActionMatch } from './match.js'
import type { CompiledStatement } from './match.js'
import { STATEMENT_ROOM, policyCharacters } from './policy-size.js'
import type { Statement } from './policy-size.js'
import { narrowedResources } from './resources.js'

/** True when the statement grants nothing that is not kept: it can then be carried unchanged. */
function keepsWholeStatement(model: GrantModel, compiled: CompiledStatement, keep: Set<number>): boolean {
  for (let id = 0; id < compiled.actionIds.length; id++) {
    if (compiled.actionIds[id] === 1 && model.granted[id] !== NOT_GRANTED && !keep.has(id)) return false
  }
  return true
}

/**
 * A statement granting every action (`*` or NotAction) can keep its shape: NotAction lists what it granted before
 * and must no longer grant. Returns that NotAction list, or undefined for other statements.
 */
function asExclusion(
  model: GrantModel,
  compiled: CompiledStatement,
  keptIds: number[]
): { actions: string[]; wildcards: string[] } | undefined {
  const s = compiled.statement
  if (!s.notActions && !s.actions?.includes('*')) return undefined
  const kept = new Set(keptIds)
  const removed: number[] = []
  for (let id = 0; id < compiled.actionIds.length; id++) {
    if (compiled.actionIds[id] === 1 && model.granted[id] !== NOT_GRANTED && !kept.has(id)) removed.push(id)
  }
  // Any wildcard may name removed actions: NotAction only ever narrows what the statement grants.
  const compacted = compactActions(model.catalog, removed, ['*'])
  return { actions: [...(s.notActions ?? []), ...compacted.actions], wildcards: compacted.wildcards }
}

interface Derivation {
  statements: Statement[]
  narrowed: number
  wildcards: string[]
  unknownCarried: string[]
  /** Statements written as NotAction (what they no longer grant) because that is shorter. */
  excluded: number
}

/** Whether a statement's Resource, NotResource or Condition holds `${` (Action names cannot). */
function carriesDollarText(statement: Statement): boolean {
  const { Resource, NotResource, Condition } = statement
  return JSON.stringify([Resource, NotResource, Condition]).includes('${')
}

/** A Condition that restricts the role's requests, or a policy variable: the grant holds only sometimes. */
function isConditionalStatement(s: CompiledStatement['statement'], subject: ConditionSubject): boolean {
  return (
    restrictingCondition(s.condition, subject) !== undefined ||
    (s.resources ?? s.notResources ?? []).some(p => patternHasVariable(s, p))
  )
}

function verbatim(compiled: CompiledStatement, unknownCarried: string[]): Derivation {
  return { statements: [compiled.statement.raw], narrowed: 0, wildcards: [], unknownCarried, excluded: 0 }
}

/** What one current Allow statement becomes: itself, statements of the kept actions by resources, or nothing. */
function deriveAllow(compiled: CompiledStatement, plan: KeepPlan): Derivation {
  const { model, keep, narrowable, dominators, observed } = plan
  const s = compiled.statement
  const narrowsFor = (id: number): string[] | undefined => {
    const seen = observed.get(id)
    return s.resources && seen ? narrowedResources(s.resources, seen) : undefined
  }
  // A grant that holds only under a Condition (or a policy variable) is never dropped: the statement stays verbatim.
  if (
    isConditionalStatement(s, model.subject) &&
    compiled.actionIds.some((on, id) => on === 1 && model.granted[id] !== NOT_GRANTED)
  ) {
    return verbatim(compiled, [])
  }
  const ids: number[] = []
  for (const id of keep) {
    if (compiled.actionIds[id] !== 1) continue
    const dominator = dominators.get(id)
    if (!dominator || dominator === compiled) ids.push(id)
  }
  // Names the catalog does not know (newer than it) that the role used or keep-actions protects, and that this
  // statement grants: the catalog cannot say which wildcard covers them, so they are carried by name.
  const outside = plan.keepOutsideCatalog.filter(name => statementActionMatch(model.catalog, compiled, name))
  const unknownCarried = [...new Set([...(s.actions ? compiled.unknownPatterns : []), ...outside])]
  if (
    ids.length > 0 &&
    keepsWholeStatement(model, compiled, keep) &&
    !ids.some(id => narrowable.has(id) && narrowsFor(id))
  ) {
    return verbatim(compiled, unknownCarried)
  }
  const groups = groupByResources(ids, id => (narrowable.has(id) ? narrowsFor(id) : undefined))
  const derivation: Derivation = { statements: [], narrowed: 0, wildcards: [], unknownCarried, excluded: 0 }
  for (const group of groups) {
    const carried = group.resources ? [] : unknownCarried
    if (group.ids.length === 0 && carried.length === 0) continue
    if (group.resources) derivation.narrowed += group.ids.length
    // A NotAction list built from catalog wildcards could exclude a name the catalog does not know.
    const mayExclude = !group.resources && outside.length === 0
    writeGroup(model, compiled, { ...group, carried, mayExclude }, derivation)
  }
  return derivation
}

interface ResourceGroup {
  /** Narrowed resources; undefined for the statement's own Resource or NotResource. */
  resources?: string[]
  ids: number[]
}

/** Kept ids by the resources they are narrowed to; the first group keeps the statement's own resources. */
function groupByResources(ids: number[], narrowTo: (id: number) => string[] | undefined): ResourceGroup[] {
  const groups = new Map<string, ResourceGroup>([['', { ids: [] }]])
  for (const id of ids.sort((a, b) => a - b)) {
    const resources = narrowTo(id)
    const key = resources ? JSON.stringify(resources) : ''
    const group = groups.get(key) ?? { ...(resources ? { resources } : {}), ids: [] }
    group.ids.push(id)
    groups.set(key, group)
  }
  return [...groups.values()]
}

/** One derived statement: the group's actions (or, when shorter, NotAction of what it no longer grants). */
function writeGroup(
  model: GrantModel,
  compiled: CompiledStatement,
  group: ResourceGroup & { carried: string[]; mayExclude: boolean },
  into: Derivation
): void {
  const { carried, mayExclude } = group
  const s = compiled.statement
  const compacted = compactActions(model.catalog, group.ids, s.actions ?? [])
  const statement: Statement = {}
  if (!group.resources && s.sid) statement.Sid = s.sid
  statement.Effect = 'Allow'
  statement.Action = [...compacted.actions, ...carried]
  const exclusion = mayExclude ? asExclusion(model, compiled, group.ids) : undefined
  // A NotAction list cannot be split across statements: use it only when it fits in one policy.
  if (
    exclusion &&
    policyCharacters(exclusion.actions) < policyCharacters(statement.Action) &&
    policyCharacters({ ...s.raw, Sid: statement.Sid, Action: undefined, NotAction: exclusion.actions }) <=
      STATEMENT_ROOM
  ) {
    delete statement.Action
    statement.NotAction = exclusion.actions
    into.excluded += group.ids.length === 0 ? 0 : 1
  } else {
    into.wildcards.push(...compacted.wildcards)
  }
  if (group.resources) statement.Resource = group.resources
  else if (s.resources) statement.Resource = s.raw.Resource
  else statement.NotResource = s.raw.NotResource
  if (s.raw.Condition !== undefined) statement.Condition = s.raw.Condition
  into.statements.push(statement)
}

/** Every statement of the proposal, before sizing: Deny and keep-Sid statements verbatim, Allow statements derived. */
export interface Derived {
  statements: Statement[]
  carriedDeny: number
  carriedKeep: number
  narrowed: number
  excluded: number
  wildcards: Set<string>
  unknownCarried: Set<string>
  /** A statement of a pre-2012 policy whose `${...}` text the proposal would carry (it would become a variable). */
  literalDollar?: CompiledStatement['statement']
}

export function deriveStatements(plan: KeepPlan, options: AnalyzeOptions): Derived {
  const derived: Derived = {
    statements: [],
    carriedDeny: 0,
    carriedKeep: 0,
    narrowed: 0,
    excluded: 0,
    wildcards: new Set(),
    unknownCarried: new Set()
  }
  const { statements } = derived
  const seen = new Set<string>()
  const push = (statement: Statement) => {
    const key = JSON.stringify(statement)
    if (!seen.has(key)) statements.push(statement)
    seen.add(key)
  }
  for (const compiled of plan.model.statements) {
    const s = compiled.statement
    const before = statements.length
    if (s.effect === 'Deny') {
      derived.carriedDeny++
      push(s.raw)
    } else if (isKeepStatement(s, options)) {
      derived.carriedKeep++
      push(s.raw)
    } else {
      const allow = deriveAllow(compiled, plan)
      allow.statements.forEach(push)
      derived.narrowed += allow.narrowed
      derived.excluded += allow.excluded
      allow.wildcards.forEach(w => derived.wildcards.add(w))
      allow.unknownCarried.forEach(u => derived.unknownCarried.add(u))
    }
    // Before 2012-10-17 `${...}` is literal text; a proposal is always 2012-10-17, where it becomes a policy variable.
    if (s.literalDollar && statements.slice(before).some(carriesDollarText)) derived.literalDollar ??= s
  }
  return derived
}
