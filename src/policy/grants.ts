/**
 * What a role is granted, action by action over the catalog, resource by resource: the resources an action can be
 * authorized on (its resource types' ARNs), allowed by the identity policies and the permissions boundary, minus
 * what Deny statements remove.
 */
import type { GrantedPolicy, RoleGrants } from '../model.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'
import { normalizePolicy } from './document.js'
import type { NormalizedPolicy } from './document.js'
import { neverHolds, restrictingCondition } from './condition-effect.js'
import type { ConditionSubject } from './condition-effect.js'
import { compilePolicy } from './evaluate.js'
import { globMatch } from './glob.js'
import { loosenPattern, patternHasVariable } from './match.js'
import { NAME, SEGMENT, findResource, prefixesAgree } from './resource-space.js'
import type { CompiledStatement } from './match.js'
import { at } from './at.js'

export const NOT_GRANTED = 0
export const GRANTED_CONDITIONALLY = 1
export const GRANTED = 2

export interface GrantModel {
  catalog: CatalogIndex
  policies: NormalizedPolicy[]
  boundary?: NormalizedPolicy
  /** Identity statements in policy order. */
  statements: CompiledStatement[]
  /** Per catalog id: NOT_GRANTED, GRANTED_CONDITIONALLY or GRANTED. */
  granted: Uint8Array
  /** Action patterns in the identity policies that match nothing in the catalog. */
  unknownActions: string[]
  /** The role the policies are granted to: what decides whether a Condition restricts its requests. */
  subject: ConditionSubject
}

function normalizeGranted(policy: GrantedPolicy): NormalizedPolicy {
  return normalizePolicy(policy.name, policy.document)
}

/**
 * Where a statement applies among resources, as globs: `in` one of the patterns, or `out` of all of them
 * (`out` of none is everywhere).
 */
interface Area {
  kind: 'in' | 'out'
  patterns: string[]
}

const NOWHERE: Area = { kind: 'in', patterns: [] }

interface StatementAreas {
  effect: 'Allow' | 'Deny'
  /** Where it applies whatever the request (no Condition, no policy variable in the way); undefined: nowhere. */
  certain?: Area
  /** Where it may apply. */
  maybe: Area
}

/**
 * A statement's areas. Its Condition counts only when it restricts the role's requests (one that holds for every
 * request, such as a pattern of only `*`, leaves the grant as wide as without it); without a subject, any does.
 */
function statementAreas(compiled: CompiledStatement, subject?: ConditionSubject): StatementAreas {
  const s = compiled.statement
  // A Deny whose Condition no request of the role meets (such as "deny when not over TLS") removes nothing.
  if (s.effect === 'Deny' && subject && neverHolds(s.condition)) return { effect: s.effect, maybe: NOWHERE }
  const conditional =
    s.condition !== undefined && (subject ? restrictingCondition(s.condition, subject) !== undefined : true)
  const hasVariable = (p: string) => patternHasVariable(s, p)
  let certain: Area | undefined
  let maybe: Area
  if (s.resources) {
    const plain = s.resources.filter(p => !hasVariable(p))
    if (!conditional && plain.length > 0) certain = { kind: 'in', patterns: plain }
    maybe = { kind: 'in', patterns: s.resources.map(p => (hasVariable(p) ? loosenPattern(p) : p)) }
  } else {
    const notResources = s.notResources ?? []
    // A variable in NotResource may expand to anything: the statement may apply anywhere, and nowhere for certain.
    const variable = notResources.some(hasVariable)
    if (!conditional && !variable) certain = { kind: 'out', patterns: notResources }
    maybe = variable ? { kind: 'out', patterns: [] } : { kind: 'out', patterns: notResources }
  }
  return { effect: s.effect, ...(certain ? { certain } : {}), maybe }
}

/**
 * Placeholders whose values AWS naming rules keep free of `/` and `:` (S3 bucket names, SQS queue names, DynamoDB
 * table names, SNS topic names, Lambda function names, KMS key ids). Any other placeholder may hold either.
 */
const PLAIN_NAMES = new Set(['BucketName', 'QueueName', 'TableName', 'TopicName', 'FunctionName', 'KeyId'])
/**
 * Placeholders that may hold `:` (S3 object keys, URL paths, entity paths). The others name resources whose names
 * and ids have no colon, so a pattern matches their ARNs only segment by segment: `table/app/index/app` is not an
 * import of some table whose import name would be `x:111122223333:table/app/index/app`.
 */
const FREE_TEXT = /Object|Path/

/**
 * An ARN template as a glob: the role's partition; placeholders stand for text without a colon (plain names also
 * without `/`), except free-text ones in the resource part.
 */
function templateGlob(template: string, partition: string): string {
  const parts = template.split(':')
  const head = parts
    .slice(0, 5)
    .map(p => p.replace('${Partition}', partition).replace(/\$\{[^}]*\}/g, SEGMENT))
  const tail = parts
    .slice(5)
    .join(':')
    .replace(/\$\{([^}]*)\}/g, (_, name: string) =>
      PLAIN_NAMES.has(name) ? NAME : FREE_TEXT.test(name) ? '*' : SEGMENT
    )
  return parts.length > 5 ? [...head, tail].join(':') : head.join(':')
}

/**
 * A resource's ARN and its qualified forms: the service's resource types whose template is this one plus
 * `:${Qualifier}` (a Lambda function's version or alias, a Step Functions state machine's, a Batch job definition's
 * revision). Requests that name a qualified form are authorized on it (`function:app:live`), so an action on
 * the resource applies there too.
 */
function qualifiedForms(catalog: CatalogIndex, service: string, template: string): string[] {
  const qualified = catalog
    .resourceArnTemplates(service)
    .filter(t => t.startsWith(`${template}:`) && /^:\$\{[^}]*\}$/.test(t.slice(template.length)))
  const literal = LITERAL_SUFFIXES.get(`${service}/${template}`)
  return [template, ...qualified, ...(literal ? [`${template}${literal}`] : [])]
}

/**
 * ARN forms the catalog's templates omit, by service and template, as glob suffixes. CloudWatch Logs authorizes
 * most log-group actions on `log-group:NAME:*`, with a literal trailing `*` ("Overview of managing access
 * permissions to your CloudWatch Logs resources", CloudWatch Logs User Guide); `?` stands for that one character.
 */
const LITERAL_SUFFIXES = new Map([
  ['logs/arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}', ':?']
])

/** The resource globs an action can be authorized on: its resource types' ARN templates, variables widened. */
function actionResourceGlobs(
  catalog: CatalogIndex,
  id: number,
  partition: string
): { globs: string[]; star: boolean } {
  const info = catalog.action(at(catalog.names, id))
  const globs: string[] = []
  const service = info?.service ?? ''
  for (const type of info?.resourceTypes ?? []) {
    const template = catalog.resourceArnTemplate(service, type.name)
    // A type without an ARN template is not known to us: any resource may be one.
    if (template === undefined) globs.push('*')
    else
      for (const form of qualifiedForms(catalog, service, template)) globs.push(templateGlob(form, partition))
  }
  // The Service Authorization Reference: an action with no resource type is authorized on "*" only.
  const star = globs.length === 0
  return { globs: [...new Set(globs)], star }
}

/**
 * Whether some resource the action can be authorized on lies in one allowing area of each set (identity, and the
 * boundary when set) and outside every denying area. `fixed` checks the one resource string "*" instead of globs.
 */
function someResource(
  templates: string[],
  star: boolean,
  allowSets: Area[][],
  denies: Area[],
  find: (must: string[], mustNot: string[]) => boolean
): boolean {
  if (star) {
    const inArea = (a: Area) => {
      const hit = a.patterns.some(p => globMatch(p, '*'))
      return a.kind === 'in' ? hit : !hit
    }
    if (allowSets.every(set => set.some(inArea)) && !denies.some(inArea)) return true
  }
  const choose = (index: number, must: string[], mustNot: string[]): boolean => {
    if (index < allowSets.length) {
      for (const area of at(allowSets, index)) {
        if (area.kind === 'out') {
          if (choose(index + 1, must, [...mustNot, ...area.patterns])) return true
        } else {
          for (const p of area.patterns) {
            const next = [...must, p]
            if (prefixesAgree(next) && choose(index + 1, next, mustNot)) return true
          }
        }
      }
      return false
    }
    const deny = index - allowSets.length
    if (deny < denies.length) {
      const area = at(denies, deny)
      if (area.kind === 'in') return choose(index + 1, must, [...mustNot, ...area.patterns])
      // Outside this Deny's NotResource area means inside one of its patterns.
      return area.patterns.some(p => choose(index + 1, [...must, p], mustNot))
    }
    return find(must, mustNot)
  }
  return templates.some(t => choose(0, [t], []))
}

const specCache = new WeakMap<CatalogIndex, Int32Array>()

/** Per catalog id, a number shared by exactly the actions with the same service and resource types. */
function resourceSpecs(catalog: CatalogIndex): Int32Array {
  let specs = specCache.get(catalog)
  if (!specs) {
    specs = new Int32Array(catalog.size)
    const numbers = new Map<string, number>()
    for (let id = 0; id < catalog.size; id++) {
      const info = catalog.action(at(catalog.names, id))
      const key = `${info?.service}:${info?.resourceTypes.map(t => t.name).join(',')}`
      let n = numbers.get(key)
      if (n === undefined) numbers.set(key, (n = numbers.size))
      specs[id] = n
    }
    specCache.set(catalog, specs)
  }
  return specs
}

interface StatementSet {
  areas: StatementAreas[]
  compiled: CompiledStatement[]
}

function statementSet(statements: CompiledStatement[], subject?: ConditionSubject): StatementSet {
  return { areas: statements.map(c => statementAreas(c, subject)), compiled: statements }
}

/**
 * Per catalog id, the grant level: GRANTED when some resource the action applies to is allowed for certain by the
 * identity statements (and the boundary) and no Deny may apply there; GRANTED_CONDITIONALLY when some such resource
 * may be allowed (under a Condition or a policy variable) and no Deny applies there for certain.
 */
function grantLevels(
  catalog: CatalogIndex,
  partition: string,
  identity: CompiledStatement[],
  boundaryStatements?: CompiledStatement[],
  subject?: ConditionSubject
): Uint8Array {
  const identitySet = statementSet(identity, subject)
  const sets = [identitySet, ...(boundaryStatements ? [statementSet(boundaryStatements, subject)] : [])]
  const levels = new Uint8Array(catalog.size)
  const found = new Map<string, boolean>()
  const find = (must: string[], mustNot: string[]): boolean => {
    const wanted = must.filter(p => p !== '*')
    // Most candidate pairs (a resource type of one service, a pattern naming another) part at their first characters.
    if (!prefixesAgree(wanted)) return false
    const relevant = mustNot.filter(p => prefixesAgree([...wanted, p]))
    if (relevant.length === 0 && wanted.length <= 1) return true
    if (relevant.includes('*')) return false
    const key = JSON.stringify([wanted, relevant])
    let answer = found.get(key)
    if (answer === undefined) {
      answer = findResource(wanted, relevant) !== undefined
      found.set(key, answer)
    }
    return answer
  }
  const byKey = new Map<string, number>()
  const specs = resourceSpecs(catalog)
  const globs = specGlobs(partition)
  const isAllow = identitySet.areas.map(a => a.effect === 'Allow')
  const applying: number[][] = sets.map(() => [])
  for (let id = 0; id < catalog.size; id++) {
    let anyAllow = false
    const spec = at(specs, id)
    let key = String(spec)
    for (let set = 0; set < sets.length; set++) {
      const list = at(applying, set)
      list.length = 0
      const compiled = at(sets, set).compiled
      for (let i = 0; i < compiled.length; i++) {
        if (at(compiled, i).actionIds[id] !== 1) continue
        list.push(i)
        if (set === 0 && isAllow[i]) anyAllow = true
      }
      key += `/${list.join(',')}`
    }
    if (!anyAllow) continue
    let level = byKey.get(key)
    if (level === undefined) {
      const accepted = globs[spec] ?? (globs[spec] = actionResourceGlobs(catalog, id, partition))
      const pick = (set: number, effect: 'Allow' | 'Deny') =>
        at(applying, set)
          .map(i => at(at(sets, set).areas, i))
          .filter(a => a.effect === effect)
      const allows = sets.map((_, i) => pick(i, 'Allow'))
      const denies = sets.flatMap((_, i) => pick(i, 'Deny'))
      const certainAllows = allows.map(list => list.flatMap(a => (a.certain ? [a.certain] : [])))
      const certainDenies = denies.flatMap(a => (a.certain ? [a.certain] : []))
      const maybeAllows = allows.map(list => list.map(a => a.maybe))
      const maybeDenies = denies.map(a => a.maybe)
      if (someResource(accepted.globs, accepted.star, certainAllows, maybeDenies, find)) level = GRANTED
      else if (someResource(accepted.globs, accepted.star, maybeAllows, certainDenies, find))
        level = GRANTED_CONDITIONALLY
      else level = NOT_GRANTED
      byKey.set(key, level)
    }
    levels[id] = level
  }
  return levels
}

const globCache = new Map<string, ({ globs: string[]; star: boolean } | undefined)[]>()

/** Per resource spec number, the globs of the resources its actions accept, filled as needed; per partition. */
function specGlobs(partition: string): ({ globs: string[]; star: boolean } | undefined)[] {
  let list = globCache.get(partition)
  if (!list) {
    list = []
    globCache.set(partition, list)
  }
  return list
}

/** Distinct policy sets remembered: a run's roles mostly share a few (the same AWS managed policies). */
const LEVELS_MEMO_SIZE = 64
const levelsMemo = new Map<string, Uint8Array>()

/**
 * The grant levels of a role, shared with every earlier role of the same policy documents in the same partition.
 * The role itself (its ARN and account) counts only through Conditions: it is part of the key when one has any.
 * Read only: the levels are shared between the models of those roles.
 */
function memoGrantLevels(
  grants: RoleGrants,
  partition: string,
  statements: readonly CompiledStatement[],
  boundaryStatements: readonly CompiledStatement[] | undefined,
  compute: () => Uint8Array
): Uint8Array {
  const conditional = [...statements, ...(boundaryStatements ?? [])].some(
    c => c.statement.condition !== undefined
  )
  const key = JSON.stringify([
    partition,
    conditional ? [grants.arn, grants.accountId] : null,
    grants.policies.map(p => p.document),
    grants.boundary ? grants.boundary.document : null
  ])
  let levels = levelsMemo.get(key)
  if (levels) {
    // Most recently used last: the oldest entry is the one evicted.
    levelsMemo.delete(key)
  } else {
    levels = compute()
    if (levelsMemo.size >= LEVELS_MEMO_SIZE) {
      const oldest = levelsMemo.keys().next()
      if (!oldest.done) levelsMemo.delete(oldest.value)
    }
  }
  levelsMemo.set(key, levels)
  return levels
}

/** The grant model of a role: built once per role by the analysis, which hands it on to the proposal. */
export function buildGrantModel(grants: RoleGrants): GrantModel {
  const catalog = loadCatalogIndex()
  const policies = grants.policies.map(normalizeGranted)
  const statements = policies.flatMap(p => compilePolicy(catalog, p))
  const boundary = grants.boundary ? normalizeGranted(grants.boundary) : undefined
  // The boundary intersects per resource: identity and boundary must allow the same resource.
  // Requests name resources in the role's own partition.
  const partition = /^arn:([^:]+):/.exec(grants.arn)?.[1] ?? 'aws'
  const subject = { roleArn: grants.arn, accountId: grants.accountId }
  const boundaryStatements = boundary ? compilePolicy(catalog, boundary) : undefined
  const granted = memoGrantLevels(grants, partition, statements, boundaryStatements, () =>
    grantLevels(catalog, partition, statements, boundaryStatements, subject)
  )
  const unknownActions = [...new Set(statements.flatMap(c => c.unknownPatterns))].sort()
  const model: GrantModel = { catalog, policies, statements, granted, unknownActions, subject }
  if (boundary) model.boundary = boundary
  return model
}

/**
 * Refs (`policy` or `policy#Sid`) of the Allow statements that grant each catalog action. Actions granted by the
 * same statements share one array, so a role granted `*` costs one array, not one per action: read, do not mutate.
 */
export function grantedByLookup(model: GrantModel): (id: number) => string[] {
  const allows = model.statements.filter(c => c.statement.effect === 'Allow')
  const shared = new Map<number | string, string[]>()
  // A bit set of the granting statements is the cache key (a string past 31 statements).
  const keyOf = (id: number): number | string => {
    if (allows.length > 31) return allows.map(c => c.actionIds[id]).join('')
    let key = 0
    for (let i = 0; i < allows.length; i++) if (at(allows, i).actionIds[id] === 1) key |= 1 << i
    return key
  }
  return id => {
    const key = keyOf(id)
    let refs = shared.get(key)
    if (!refs) {
      refs = []
      for (const allow of allows) {
        const ref = allow.statement.ref
        if (allow.actionIds[id] === 1 && !refs.includes(ref)) refs.push(ref)
      }
      shared.set(key, refs)
    }
    return refs
  }
}
