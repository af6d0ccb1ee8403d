/**
 * What the head of a pull request grants beyond its base: per catalog action, the resource patterns of head Allow
 * statements that no base Allow statement already grants (as widely, and under no narrower condition), each judged
 * against usage and by risk. Keep markers play no part: a statement unchanged at the base adds nothing anyway, and
 * one the pull request adds or changes is judged like any other.
 */
import { ACCESS_LEVELS } from '../model.js'
import type { AddedAccess, AddedRisk, RoleGrants, RoleUsage } from '../model.js'
import { restrictingCondition } from './condition-effect.js'
import type { ConditionSubject } from './condition-effect.js'
import { isObject } from './document.js'
import { escalationIds } from './escalation.js'
import { globCovers, globMatch } from './glob.js'
import { NOT_GRANTED, buildGrantModel } from './grants.js'
import type { GrantModel } from './grants.js'
import type { CompiledStatement } from './match.js'
import { hasPolicyVariable } from './match.js'
import { usedActionNames } from './analyze.js'
import { isConcreteArn, observedResources } from './resources.js'
import { unobservableActions } from './unobservable.js'
import { at } from './at.js'

/** Reads of secret material: widened to every resource they hand out every secret of the account. */
const SECRET_READS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:BatchGetSecretValue',
  'ssm:GetParameter',
  'ssm:GetParameters',
  'ssm:GetParametersByPath',
  'kms:Decrypt'
]

/** The resource part of an ARN naming any secret, parameter or key of a service. */
const SECRET_RESOURCES: Record<string, string> = {
  secretsmanager: 'secret:*',
  ssm: 'parameter/*',
  kms: 'key/*'
}

/**
 * Whether a Resource pattern names every secret of its service in some account and Region: `*`, `arn:*`,
 * `arn:aws:secretsmanager:*:*:secret:*`, `arn:aws:ssm:eu-west-1:111122223333:parameter/*` alike. The pattern's
 * own partition, Region and account are kept, so only the wildcard in the name decides.
 */
function coversEverySecret(pattern: string, action: string): boolean {
  const [service = ''] = action.split(':')
  const resource = SECRET_RESOURCES[service]
  if (!resource) return pattern === '*'
  const [, partition, , region, account] = pattern.split(':')
  const concrete = (part: string | undefined, fallback: string) =>
    part !== undefined && part !== '' && !/[*?]/.test(part) ? part : fallback
  return globCovers(
    pattern,
    `arn:${concrete(partition, 'aws')}:${service}:${concrete(region, 'us-east-1')}:${concrete(account, '111122223333')}:${resource}`
  )
}

interface AddedAccessResult {
  added: AddedAccess[]
  nonRestrictingConditions: string[]
}

interface Allow {
  compiled: CompiledStatement
  condition?: string
}

function allowsOf(model: GrantModel, subject: ConditionSubject): Allow[] {
  return model.statements
    .filter(c => c.statement.effect === 'Allow')
    .map(compiled => {
      const restricting = restrictingCondition(compiled.statement.condition, subject)
      return { compiled, ...(restricting ? { condition: canonicalJson(restricting) } : {}) }
    })
}

/** JSON with object keys sorted: two statements written in a different key order compare equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isObject(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v
  )
}

/**
 * Whether one base Allow statement grants every resource the head names: one pattern, or everything but the head's
 * NotResource patterns (`excluded`).
 */
function resourceCovered(base: CompiledStatement, pattern: string, excluded?: readonly string[]): boolean {
  const { resources, notResources } = base.statement
  if (resources)
    return resources.some(p => p === pattern || (!hasPolicyVariable(p) && globCovers(p, pattern)))
  // NotResource at the head too: the base grants as much when the head excludes all the base excluded.
  if (excluded) return (notResources ?? []).every(p => excluded.some(q => q === p || globCovers(q, p)))
  // NotResource grants everything it does not name: the pattern must be disjoint from every excluded pattern.
  return (notResources ?? []).every(
    p => !globMatch(p, pattern) && !globCovers(pattern, p) && !hasPolicyVariable(p)
  )
}

function headResources(
  statement: CompiledStatement['statement']
): { label: string; pattern: string; excluded?: readonly string[] }[] {
  if (statement.resources) return statement.resources.map(r => ({ label: r, pattern: r }))
  // A NotResource grant is as wide as `*` minus a few.
  const excluded = statement.notResources ?? []
  return [{ label: `NotResource: ${excluded.join(', ')}`, pattern: '*', excluded }]
}

function liftedLabels(statement: CompiledStatement['statement']): { label: string; pattern: string }[] {
  const ref = statement.ref
  if (statement.resources)
    return statement.resources.map(r => ({ label: `${r} (no longer denied by ${ref})`, pattern: r }))
  return [
    {
      label: `NotResource: ${(statement.notResources ?? []).join(', ')} (no longer denied by ${ref})`,
      pattern: '*'
    }
  ]
}

/** Whether a head Deny, for the actions both name, still denies everywhere and whenever the base Deny did. */
function denyCovers(head: CompiledStatement, base: CompiledStatement): boolean {
  // A Deny applies only when its condition holds: an unconditional one, or the very same condition, still covers.
  // (A test that a request can always satisfy is not one that always holds: `aws:SecureTransport` = false.)
  const headCondition = head.statement.condition
  if (headCondition && canonicalJson(headCondition) !== canonicalJson(base.statement.condition ?? {}))
    return false
  const h = head.statement
  const b = base.statement
  if (h.resources?.includes('*')) return true
  if (b.resources && h.resources)
    return b.resources.every(r =>
      h.resources?.some(p => p === r || (!hasPolicyVariable(p) && globCovers(p, r)))
    )
  // NotResource: the head must exclude no more than the base did.
  if (b.notResources && h.notResources) return h.notResources.every(p => b.notResources?.includes(p))
  return false
}

export function addedAccess(
  head: RoleGrants,
  base: RoleGrants | undefined,
  usage: RoleUsage | undefined,
  keepActions: readonly string[]
): AddedAccessResult {
  const subject = { roleArn: head.arn, accountId: head.accountId }
  const headModel = buildGrantModel(head)
  const { catalog } = headModel
  const baseModel = base ? buildGrantModel({ ...base, arn: head.arn, accountId: head.accountId }) : undefined
  const baseAllows = baseModel ? allowsOf(baseModel, subject) : []
  const headAllows = allowsOf(headModel, subject)
  const exempt = new Set(keepActions.flatMap(p => catalog.expandIds(p)))

  const nonRestrictingConditions = headAllows
    .filter(a => a.compiled.statement.condition && a.condition === undefined)
    .map(a => `${a.compiled.statement.ref}: ${canonicalJson(a.compiled.statement.condition)}`)

  const covered = (
    id: number,
    pattern: string,
    condition: string | undefined,
    excluded?: readonly string[]
  ) =>
    baseModel !== undefined &&
    baseModel.granted[id] !== NOT_GRANTED &&
    baseAllows.some(
      b =>
        b.compiled.actionIds[id] === 1 &&
        (b.condition === undefined || b.condition === condition) &&
        resourceCovered(b.compiled, pattern, excluded)
    )

  interface Entry {
    resources: Set<string>
    patterns: Set<string>
    conditional: boolean
    grantedBy: Set<string>
  }
  const entries = new Map<number, Entry>()
  for (const allow of headAllows) {
    const { actionIds, statement } = allow.compiled
    const resources = headResources(statement)
    for (let id = 0; id < catalog.size; id++) {
      if (actionIds[id] !== 1 || headModel.granted[id] === NOT_GRANTED || exempt.has(id)) continue
      for (const r of resources) {
        if (covered(id, r.pattern, allow.condition, r.excluded)) continue
        let entry = entries.get(id)
        if (!entry) {
          entry = { resources: new Set(), patterns: new Set(), conditional: true, grantedBy: new Set() }
          entries.set(id, entry)
        }
        entry.resources.add(r.label)
        entry.patterns.add(r.pattern)
        entry.conditional &&= allow.condition !== undefined
        entry.grantedBy.add(statement.ref)
      }
    }
  }

  // A base Deny the head drops or weakens lifts a limit: what it denied and the head grants is added access too.
  if (baseModel) {
    const headDenies = headModel.statements.filter(c => c.statement.effect === 'Deny')
    for (const denied of baseModel.statements.filter(c => c.statement.effect === 'Deny')) {
      const lifted = liftedLabels(denied.statement)
      const grantedBy = headAllows.map(a => a.compiled)
      const still = headDenies.filter(d => denyCovers(d, denied))
      for (let id = 0; id < catalog.size; id++) {
        if (denied.actionIds[id] !== 1 || headModel.granted[id] === NOT_GRANTED || exempt.has(id)) continue
        if (still.some(d => d.actionIds[id] === 1)) continue
        let entry = entries.get(id)
        if (!entry) {
          entry = { resources: new Set(), patterns: new Set(), conditional: false, grantedBy: new Set() }
          entries.set(id, entry)
        }
        entry.conditional = false
        for (const { label, pattern } of lifted) {
          entry.resources.add(label)
          entry.patterns.add(pattern)
        }
        for (const a of grantedBy) if (a.actionIds[id] === 1) entry.grantedBy.add(a.statement.ref)
      }
    }
  }

  const escalation = escalationIds(catalog)
  const secretReads = new Set(SECRET_READS.flatMap(a => catalog.expandIds(a)))
  const usedIds = new Set(
    usage ? usedActionNames(catalog, usage).flatMap(name => catalog.expandIds(name)) : []
  )
  const observed = usage ? observedResources(catalog, usage) : new Map<number, string[]>()
  const unobservable = usage ? unobservableActions(catalog, usage) : new Map<number, string>()

  const added: AddedAccess[] = []
  for (const [id, entry] of entries) {
    const accessLevel = at(ACCESS_LEVELS, at(catalog.levelRank, id))
    const action = at(catalog.names, id)
    const patterns = [...entry.patterns]
    const newAction = !baseModel || baseModel.granted[id] === NOT_GRANTED
    // Widening a granted action is only "used" when a call fell on a resource the base did not grant.
    const usedOnAdded =
      usedIds.has(id) &&
      (newAction ||
        (observed.get(id) ?? []).some(
          r => isConcreteArn(r) && patterns.some(p => globMatch(p, r)) && !covered(id, r, undefined)
        ))
    const judgement: AddedAccess['judgement'] = !usage
      ? 'unverified'
      : usedOnAdded
        ? 'used'
        : unobservable.has(id)
          ? 'unobservable'
          : 'excess'
    const risk = riskOf(id, action, accessLevel, patterns, {
      escalation,
      secretReads,
      unobservable
    })
    added.push({
      action,
      accessLevel,
      resources: [...entry.resources].sort(),
      ...(newAction ? {} : { widened: true }),
      conditional: entry.conditional,
      grantedBy: [...entry.grantedBy],
      judgement,
      ...(risk ? { risk } : {})
    })
  }
  added.sort((a, b) => rankOf(a) - rankOf(b) || (a.action < b.action ? -1 : 1))
  return { added, nonRestrictingConditions }
}

function rankOf(a: AddedAccess): number {
  return (a.risk ? 0 : 10) + ACCESS_LEVELS.indexOf(a.accessLevel)
}

function riskOf(
  id: number,
  action: string,
  level: AddedAccess['accessLevel'],
  patterns: string[],
  known: { escalation: Set<number>; secretReads: Set<number>; unobservable: Map<number, string> }
): AddedRisk | undefined {
  if (known.escalation.has(id)) return 'privilege-escalation'
  if (level === 'Permissions management') return 'permissions-management'
  if (level === 'Write') return known.unobservable.has(id) ? 'unobservable-write' : 'write'
  if (known.secretReads.has(id) && patterns.some(p => coversEverySecret(p, action)))
    return 'secret-read-on-all-resources'
  return undefined
}
