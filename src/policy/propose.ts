/**
 * The least-privilege proposal: each current Allow statement keeps only the actions that are used, unobservable,
 * conditional or kept (never one that is not granted today), with its resources and condition; Deny and keep-Sid
 * statements are carried verbatim. The result is split to IAM's size limits and proven with our own evaluator.
 */
import type { PolicyDocumentJson, ProposedPolicy, RoleGrants, RoleUsage } from '../model.js'
import type { AnalyzeOptions, RoleAnalysis } from './analyze.js'
import { patternHasVariable, statementActionMatch } from './match.js'
import { isKeepStatement, keptIds } from './analyze.js'
import { compactActions } from './compact.js'
import { restrictingCondition } from './condition-effect.js'
import type { ConditionSubject } from './condition-effect.js'
import { decide } from './evaluate.js'
import { GRANTED, NOT_GRANTED } from './grants.js'
import type { GrantModel } from './grants.js'
import type { CompiledStatement } from './match.js'
import { narrowedResources, observedResources } from './resources.js'
import { verifyProposal } from './verify.js'

export interface ProposeOptions extends AnalyzeOptions {
  /** Managed policies a role may have attached (IAM default quota 10). */
  maxManagedPolicies?: number
}

export interface Proposal {
  /**
   * `proposed`: `policies` replace the current ones. `detach-all`: nothing granted is used, unobservable, conditional
   * or kept, so the current policies can go (no document). `none`: no safe proposal (see notes); never "detach".
   */
  outcome: 'proposed' | 'detach-all' | 'none'
  /** Empty unless the outcome is `proposed`. */
  policies: ProposedPolicy[]
  /** What was split / compacted / narrowed, in plain words. */
  notes: string[]
  verification: { usedCovered: boolean; noNewAccess: boolean; problems: string[] }
}

/** Managed policy size limit: characters excluding white space. */
export const MAX_POLICY_CHARACTERS = 6144
const MAX_POLICY_NAME = 128
const VERSION = '2012-10-17'

type Statement = Record<string, unknown>

export function policyCharacters(value: unknown): number {
  return JSON.stringify(value).replace(/\s/g, '').length
}

/** Characters one statement may take in a policy of its own. */
const STATEMENT_ROOM = MAX_POLICY_CHARACTERS - policyCharacters({ Version: VERSION, Statement: [] })

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

/** What the proposal keeps of the current grants, and where it may narrow resources: decided once per role. */
interface KeepPlan {
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

function planKeeps(usage: RoleUsage, analysis: RoleAnalysis, options: AnalyzeOptions): KeepPlan {
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
    writeGroup(model, compiled, group, carried, mayExclude, derivation)
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
  group: ResourceGroup,
  carried: string[],
  mayExclude: boolean,
  into: Derivation
): void {
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
interface Derived {
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

function deriveStatements(plan: KeepPlan, options: AnalyzeOptions): Derived {
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

/** Splits a derived statement whose Action list alone exceeds the size limit. */
function splitOversized(statement: Statement, room: number): Statement[] {
  if (policyCharacters(statement) <= room || !Array.isArray(statement.Action)) return [statement]
  const parts: Statement[] = []
  let actions: string[] = []
  const withActions = (list: string[]) => ({ ...statement, Action: list })
  for (const action of statement.Action as string[]) {
    if (actions.length > 0 && policyCharacters(withActions([...actions, action])) > room) {
      parts.push(withActions(actions))
      actions = []
    }
    actions.push(action)
  }
  if (actions.length > 0) parts.push(withActions(actions))
  return parts.map((part, i) => {
    if (i === 0 || part.Sid === undefined) return part
    return { ...part, Sid: `${part.Sid}${i + 1}` }
  })
}

/** First-fit packing into documents of at most MAX_POLICY_CHARACTERS, with unique Sids in each document. */
function pack(statements: Statement[]): Statement[][] {
  const empty = policyCharacters({ Version: VERSION, Statement: [] })
  const docs: { statements: Statement[]; size: number; sids: Set<string> }[] = []
  for (const statement of statements) {
    const size = policyCharacters(statement)
    const sid = typeof statement.Sid === 'string' ? statement.Sid : undefined
    let doc = docs.find(
      d =>
        d.size + size + (d.statements.length > 0 ? 1 : 0) <= MAX_POLICY_CHARACTERS &&
        !(sid && d.sids.has(sid))
    )
    if (!doc) {
      doc = { statements: [], size: empty, sids: new Set() }
      docs.push(doc)
    }
    doc.size += size + (doc.statements.length > 0 ? 1 : 0)
    doc.statements.push(statement)
    if (sid) doc.sids.add(sid)
  }
  return docs.map(d => d.statements)
}

function policyNames(roleName: string, count: number): string[] {
  const suffix = '-least-privilege'
  const base = roleName.slice(0, MAX_POLICY_NAME - suffix.length - 4)
  if (count === 1) return [`${base}${suffix}`]
  return Array.from({ length: count }, (_, i) => `${base}${suffix}-${i + 1}`)
}

/** What was carried, kept, narrowed and compacted, in plain words. */
function derivationNotes(
  derived: Derived,
  plan: KeepPlan,
  analysis: RoleAnalysis,
  options: AnalyzeOptions
): string[] {
  const notes: string[] = []
  if (derived.carriedDeny > 0) notes.push(`Carried ${derived.carriedDeny} Deny statement(s) unchanged.`)
  if (derived.carriedKeep > 0)
    notes.push(
      `Carried ${derived.carriedKeep} statement(s) verbatim because their Sid starts with "${options.keepSidPrefix}".`
    )
  if (plan.namedButNotGranted.length > 0) {
    notes.push(
      `Kept used action(s) that the catalog's resource types say no statement can grant, with their statements' ` +
        `resources: ${plan.namedButNotGranted.join(', ')}.`
    )
  }
  if (analysis.conditional.length > 0) {
    notes.push(`Kept ${analysis.conditional.length} conditionally granted action(s) with their Condition.`)
  }
  if (derived.narrowed > 0) {
    notes.push(
      `Narrowed ${derived.narrowed} used action(s) to the concrete resources observed (S3 object ARNs generalized to ` +
        `arn:aws:s3:::bucket/*).`
    )
  }
  if (derived.wildcards.size > 0) {
    notes.push(
      `Compacted with wildcards that match only kept actions and that the current policy already granted: ` +
        `${[...derived.wildcards].sort().join(', ')}.`
    )
  }
  if (derived.excluded > 0) {
    notes.push(
      `Wrote ${derived.excluded} statement(s) that grant every action as NotAction lists of what they no longer grant ` +
        '(shorter than listing what they keep; actions AWS adds later stay granted as they are today).'
    )
  }
  if (derived.unknownCarried.size > 0) {
    notes.push(
      `Carried actions the catalog does not know, unchanged: ${[...derived.unknownCarried].sort().join(', ')}.`
    )
  }
  return notes
}

/** The statements in managed policies within IAM's size and count limits, or why they cannot be. */
function sizePolicies(
  roleName: string,
  statements: Statement[],
  maxPolicies: number,
  notes: string[]
): ProposedPolicy[] | undefined {
  const sized = statements.flatMap(s => splitOversized(s, STATEMENT_ROOM))
  if (sized.length > statements.length)
    notes.push('Split Action lists too long for one policy across statements.')
  if (sized.some(s => policyCharacters(s) > STATEMENT_ROOM)) {
    notes.push(
      `No proposal: a statement exceeds ${MAX_POLICY_CHARACTERS} characters on its own (its Resource and ` +
        'Condition are carried as they are, and only an Action list can be split).'
    )
    return undefined
  }
  const documents = pack(sized)
  if (documents.length > maxPolicies) {
    notes.push(
      `No proposal: it needs ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters, ` +
        `more than the ${maxPolicies} a role may have attached.`
    )
    return undefined
  }
  if (documents.length > 1) {
    notes.push(
      `Split into ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters.`
    )
  }
  const names = policyNames(roleName, documents.length)
  return documents.map((Statement, i) => {
    const document: PolicyDocumentJson = { Version: VERSION, Statement }
    return { name: names[i] ?? `${roleName}-${i + 1}`, document, characters: policyCharacters(document) }
  })
}

const NOTHING_VERIFIED = { usedCovered: true, noNewAccess: true, problems: [] }

function noProposal(why: string, notes: string[] = []): Proposal {
  return {
    outcome: 'none',
    policies: [],
    notes: [...notes, `No proposal: ${why}.`],
    verification: NOTHING_VERIFIED
  }
}

/** The least-privilege proposal for one role, from its analysis (which holds the role's grant model). */
export function proposePolicies(
  grants: RoleGrants,
  usage: RoleUsage,
  analysis: RoleAnalysis,
  options: ProposeOptions
): Proposal {
  if (!grants.editable) return noProposal(grants.notEditableReason ?? 'the role cannot be edited')
  const { model } = analysis
  const plan = planKeeps(usage, analysis, options)
  const derived = deriveStatements(plan, options)
  const dollar = derived.literalDollar
  if (dollar) {
    const policy = model.policies.find(p => p.name === dollar.policy)
    return noProposal(
      `statement ${dollar.ref} (policy Version ${policy?.version ?? '2008-10-17'}) has \`\${...}\` text, which ` +
        `the proposal's Version ${VERSION} would read as a policy variable; move the policy to ${VERSION} ` +
        '(writing `${$}{` for a literal) first'
    )
  }
  if (!derived.statements.some(s => s.Effect === 'Allow')) {
    const notes = [
      'Nothing is used, unobservable, conditional or kept: every granted action is excess, so the least-privilege ' +
        'change is to detach the current policies (no document is proposed).'
    ]
    return {
      outcome: 'detach-all',
      policies: [],
      notes,
      verification: verifyProposal(model, usage, analysis, [])
    }
  }
  const notes = derivationNotes(derived, plan, analysis, options)
  const policies = sizePolicies(grants.name, derived.statements, options.maxManagedPolicies ?? 10, notes)
  if (!policies) return { outcome: 'none', policies: [], notes, verification: NOTHING_VERIFIED }
  const verification = verifyProposal(model, usage, analysis, policies)
  if (!verification.usedCovered || !verification.noNewAccess) {
    notes.push('No proposal: the own-evaluator proof failed (see problems); nothing is proposed.')
    return { outcome: 'none', policies: [], notes, verification }
  }
  return { outcome: 'proposed', policies, notes, verification }
}
