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
import { GRANTED, NOT_GRANTED, buildGrantModel } from './grants.js'
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

function deriveAllow(
  model: GrantModel,
  compiled: CompiledStatement,
  keep: Set<number>,
  narrowable: Set<number>,
  dominators: Map<number, CompiledStatement>,
  observed: Map<number, string[]>,
  keepOutsideCatalog: string[]
): Derivation {
  const { catalog } = model
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
    return { statements: [s.raw], narrowed: 0, wildcards: [], unknownCarried: [], excluded: 0 }
  }
  const ids: number[] = []
  for (const id of keep) {
    if (compiled.actionIds[id] !== 1) continue
    const dominator = dominators.get(id)
    if (!dominator || dominator === compiled) ids.push(id)
  }
  // Names the catalog does not know (newer than it) that the role used or keep-actions protects, and that this
  // statement grants: the catalog cannot say which wildcard covers them, so they are carried by name.
  const outside = keepOutsideCatalog.filter(name => statementActionMatch(catalog, compiled, name))
  const unknownCarried = [...new Set([...(s.actions ? compiled.unknownPatterns : []), ...outside])]
  if (
    ids.length > 0 &&
    keepsWholeStatement(model, compiled, keep) &&
    !ids.some(id => narrowable.has(id) && narrowsFor(id))
  ) {
    return { statements: [s.raw], narrowed: 0, wildcards: [], unknownCarried, excluded: 0 }
  }
  const groups = new Map<string, { resources?: string[]; ids: number[] }>([['', { ids: [] }]])
  let narrowed = 0
  for (const id of ids.sort((a, b) => a - b)) {
    const narrowTo = narrowable.has(id) ? narrowsFor(id) : undefined
    const key = narrowTo ? JSON.stringify(narrowTo) : ''
    const group = groups.get(key) ?? { resources: narrowTo, ids: [] }
    group.ids.push(id)
    groups.set(key, group)
    if (narrowTo) narrowed++
  }
  const statements: Statement[] = []
  const wildcards: string[] = []
  let excluded = 0
  for (const [key, group] of groups) {
    const carried = key === '' ? unknownCarried : []
    if (group.ids.length === 0 && carried.length === 0) continue
    const compacted = compactActions(catalog, group.ids, s.actions ?? [])
    const statement: Statement = {}
    if (key === '' && s.sid) statement.Sid = s.sid
    statement.Effect = 'Allow'
    statement.Action = [...compacted.actions, ...carried]
    // A NotAction list built from catalog wildcards could exclude a name the catalog does not know.
    const exclusion = key === '' && outside.length === 0 ? asExclusion(model, compiled, group.ids) : undefined
    // A NotAction list cannot be split across statements: use it only when it fits in one policy.
    if (
      exclusion &&
      policyCharacters(exclusion.actions) < policyCharacters(statement.Action) &&
      policyCharacters({ ...s.raw, Sid: statement.Sid, Action: undefined, NotAction: exclusion.actions }) <=
        STATEMENT_ROOM
    ) {
      delete statement.Action
      statement.NotAction = exclusion.actions
      excluded += group.ids.length === 0 ? 0 : 1
    } else {
      wildcards.push(...compacted.wildcards)
    }
    if (group.resources) statement.Resource = group.resources
    else if (s.resources) statement.Resource = s.raw.Resource
    else statement.NotResource = s.raw.NotResource
    if (s.raw.Condition !== undefined) statement.Condition = s.raw.Condition
    statements.push(statement)
  }
  return { statements, narrowed, wildcards, unknownCarried, excluded }
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

const NOTHING_VERIFIED = { usedCovered: true, noNewAccess: true, problems: [] }

export function proposePolicies(
  grants: RoleGrants,
  usage: RoleUsage,
  analysis: RoleAnalysis,
  options: ProposeOptions
): Proposal {
  if (!grants.editable) {
    const why = grants.notEditableReason ?? 'the role cannot be edited'
    return { outcome: 'none', policies: [], notes: [`No proposal: ${why}.`], verification: NOTHING_VERIFIED }
  }
  const maxPolicies = options.maxManagedPolicies ?? 10
  const model = buildGrantModel(grants)
  const notes: string[] = []
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
  const dominators = findDominators(model, keep, options)
  const keepOutsideCatalog = [
    ...analysis.used.filter(name => model.catalog.idOf(name) === undefined),
    ...options.keepActions.filter(pattern => model.catalog.expandIds(pattern).length === 0)
  ]

  const statements: Statement[] = []
  const seen = new Set<string>()
  const push = (statement: Statement) => {
    const key = JSON.stringify(statement)
    if (!seen.has(key)) statements.push(statement)
    seen.add(key)
  }
  let narrowed = 0
  let carriedDeny = 0
  let carriedKeep = 0
  let excluded = 0
  const wildcards = new Set<string>()
  const unknownCarried = new Set<string>()
  // Before 2012-10-17 `${...}` is literal text; a proposal is always 2012-10-17, where it becomes a policy variable.
  let literalDollar: CompiledStatement['statement'] | undefined
  for (const compiled of model.statements) {
    const s = compiled.statement
    const before = statements.length
    if (s.effect === 'Deny') {
      carriedDeny++
      push(s.raw)
    } else if (isKeepStatement(s, options)) {
      carriedKeep++
      push(s.raw)
    } else {
      const derived = deriveAllow(model, compiled, keep, narrowable, dominators, observed, keepOutsideCatalog)
      derived.statements.forEach(push)
      narrowed += derived.narrowed
      derived.wildcards.forEach(w => wildcards.add(w))
      derived.unknownCarried.forEach(u => unknownCarried.add(u))
      excluded += derived.excluded
    }
    if (s.literalDollar && statements.slice(before).some(carriesDollarText)) literalDollar ??= s
  }
  if (literalDollar) {
    const policy = model.policies.find(p => p.name === literalDollar.policy)
    const why =
      `statement ${literalDollar.ref} (policy Version ${policy?.version ?? '2008-10-17'}) has \`\${...}\` text, which ` +
      `the proposal's Version ${VERSION} would read as a policy variable; move the policy to ${VERSION} ` +
      '(writing `${$}{` for a literal) first'
    return { outcome: 'none', policies: [], notes: [`No proposal: ${why}.`], verification: NOTHING_VERIFIED }
  }

  if (!statements.some(s => s.Effect === 'Allow')) {
    notes.push(
      'Nothing is used, unobservable, conditional or kept: every granted action is excess, so the least-privilege ' +
        'change is to detach the current policies (no document is proposed).'
    )
    return {
      outcome: 'detach-all',
      policies: [],
      notes,
      verification: verifyProposal(model, usage, analysis, [])
    }
  }
  if (carriedDeny > 0) notes.push(`Carried ${carriedDeny} Deny statement(s) unchanged.`)
  if (carriedKeep > 0)
    notes.push(
      `Carried ${carriedKeep} statement(s) verbatim because their Sid starts with "${options.keepSidPrefix}".`
    )
  if (namedButNotGranted.length > 0) {
    notes.push(
      `Kept used action(s) that the catalog's resource types say no statement can grant, with their statements' ` +
        `resources: ${namedButNotGranted.join(', ')}.`
    )
  }
  if (analysis.conditional.length > 0) {
    notes.push(`Kept ${analysis.conditional.length} conditionally granted action(s) with their Condition.`)
  }
  if (narrowed > 0) {
    notes.push(
      `Narrowed ${narrowed} used action(s) to the concrete resources observed (S3 object ARNs generalized to ` +
        `arn:aws:s3:::bucket/*).`
    )
  }
  if (wildcards.size > 0) {
    notes.push(
      `Compacted with wildcards that match only kept actions and that the current policy already granted: ` +
        `${[...wildcards].sort().join(', ')}.`
    )
  }
  if (excluded > 0) {
    notes.push(
      `Wrote ${excluded} statement(s) that grant every action as NotAction lists of what they no longer grant ` +
        '(shorter than listing what they keep; actions AWS adds later stay granted as they are today).'
    )
  }
  if (unknownCarried.size > 0) {
    notes.push(
      `Carried actions the catalog does not know, unchanged: ${[...unknownCarried].sort().join(', ')}.`
    )
  }

  const room = STATEMENT_ROOM
  const sized = statements.flatMap(s => splitOversized(s, room))
  if (sized.length > statements.length)
    notes.push('Split Action lists too long for one policy across statements.')
  const tooBig = sized.filter(s => policyCharacters(s) > room)
  if (tooBig.length > 0) {
    notes.push(
      `No proposal: a statement exceeds ${MAX_POLICY_CHARACTERS} characters on its own (its Resource and ` +
        'Condition are carried as they are, and only an Action list can be split).'
    )
    return { outcome: 'none', policies: [], notes, verification: NOTHING_VERIFIED }
  }
  const documents = pack(sized)
  if (documents.length > maxPolicies) {
    notes.push(
      `No proposal: it needs ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters, ` +
        `more than the ${maxPolicies} a role may have attached.`
    )
    return { outcome: 'none', policies: [], notes, verification: NOTHING_VERIFIED }
  }
  if (documents.length > 1) {
    notes.push(
      `Split into ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters.`
    )
  }
  const names = policyNames(grants.name, documents.length)
  const policies: ProposedPolicy[] = documents.map((Statement, i) => {
    const document: PolicyDocumentJson = { Version: VERSION, Statement }
    return { name: names[i], document, characters: policyCharacters(document) }
  })
  const verification = verifyProposal(model, usage, analysis, policies)
  if (!verification.usedCovered || !verification.noNewAccess) {
    notes.push('No proposal: the own-evaluator proof failed (see problems); nothing is proposed.')
    return { outcome: 'none', policies: [], notes, verification }
  }
  return { outcome: 'proposed', policies, notes, verification }
}
