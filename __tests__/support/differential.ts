/**
 * The differential check of the policy engine: random policy sets (Action/NotAction, Resource/NotResource,
 * wildcards, conditions, Deny, boundaries, 2008-10-17 versions, policy variables) analyzed and proposed by
 * src/policy, then judged by the independent reference evaluator (./iam-reference.ts) on sampled resources and
 * request contexts. The catalog is used as data only: which actions exist and the ARN templates of the resource
 * types each one accepts.
 *
 * Properties, per generated role:
 * (a) every excess action is allowed in every sampled context on some resource it can apply to;
 * (b) every used, unobservable and conditional action stays allowed by the proposal wherever it is allowed today;
 * (c) the proposal allows nothing the current policies do not;
 * (d) every granted action is in exactly one class, and every action allowed today is in one.
 */
import type { GrantedPolicy, RoleGrants, RoleUsage } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { proposePolicies } from '../../src/policy/propose.js'
import { referenceAllows } from './iam-reference.js'
import type { ReferencePolicy, ReferenceStatement, RequestContext } from './iam-reference.js'
import { at } from '../../src/policy/at.js'

const catalog = loadCatalog()
const ACCOUNT = '111122223333'
const SERVICES = ['s3', 'ssm', 'sqs', 'iam', 'dynamodb', 'kms']
const NAMES = ['data', 'alice', 'app']
const REGIONS = ['us-east-1', 'eu-west-1']
const USERNAME = 'alice'

const ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/differential`
/** Keys every request of the role carries: its SDK calls use TLS. */
const EVERY_REQUEST = { 'aws:SecureTransport': 'true', 'aws:PrincipalArn': ROLE_ARN }

export const CONTEXTS: RequestContext[] = [
  { 'aws:username': USERNAME, 'aws:MultiFactorAuthPresent': 'true', 'aws:RequestedRegion': 'us-east-1' },
  { 'aws:username': USERNAME, 'aws:MultiFactorAuthPresent': 'false', 'aws:RequestedRegion': 'eu-west-1' },
  { 'aws:username': 'bob', 'aws:RequestedRegion': 'us-east-1', 'aws:ResourceTag/team': 'web' },
  { 'aws:RequestedRegion': 'eu-west-1', 'aws:MultiFactorAuthPresent': 'true' }
].map(c => ({ ...c, ...EVERY_REQUEST }))

const CONDITIONS: Record<string, Record<string, string>>[] = [
  { Bool: { 'aws:MultiFactorAuthPresent': 'true' } },
  { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } },
  { StringLike: { 'aws:username': 'a*' } },
  // Conditions that hold for every request, for none, or only where a key is present.
  { Bool: { 'aws:SecureTransport': 'true' } },
  { Bool: { 'aws:SecureTransport': 'false' } },
  { StringLike: { 'aws:PrincipalArn': '*' } },
  { StringLike: { 'aws:ResourceTag/team': '*' } }
]

/** A small seeded generator (mulberry32): a seed replays its case exactly. */
export class Random {
  private state: number
  constructor(seed: number) {
    this.state = seed >>> 0
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let t = this.state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number {
    return Math.floor(this.next() * n)
  }
  chance(p: number): boolean {
    return this.next() < p
  }
  pick<T>(items: readonly T[]): T {
    return at(items, this.int(items.length))
  }
  some<T>(items: readonly T[], max: number): T[] {
    const n = 1 + this.int(max)
    return [...new Set(Array.from({ length: n }, () => this.pick(items)))]
  }
}

/**
 * The resource model both sides share (an input, not evaluation logic): a placeholder holds any text without `:`,
 * possibly empty; names without `/` or `:` by AWS naming rules hold neither; object keys and paths hold any text.
 */
const PLAIN_PLACEHOLDERS = new Set([
  'BucketName',
  'QueueName',
  'TableName',
  'TopicName',
  'FunctionName',
  'KeyId'
])

interface ResourceType {
  template: string
  /** Which ARNs are of this type: what the reference takes a resource an action "can apply to" to be. */
  shape: RegExp
}

const typeCache = new Map<string, ResourceType[]>()

/** The resource types an action accepts, from the catalog's data; empty when it takes only "*". */
function resourceTypes(action: string): ResourceType[] {
  let types = typeCache.get(action)
  if (!types) {
    const info = catalog.action(action)
    types = []
    for (const t of info?.resourceTypes ?? []) {
      const template = catalog.resourceArnTemplate(info?.service ?? '', t.name)
      if (!template) continue
      const parts = template.split(':')
      const escape = (text: string) => text.replace(/[\\^$.|+(){}[\]*?]/g, '\\$&')
      const segment = (text: string, inHead: boolean) =>
        text
          .split(/(\$\{[^}]*\})/)
          .map(piece => {
            const name = /^\$\{([^}]*)\}$/.exec(piece)?.[1]
            // A literal `*` in a template (any account, say) stands for any text within the segment.
            if (name === undefined) return escape(piece).replace(/\\\*/g, '[^:]*')
            if (name === 'Partition') return 'aws'
            if (inHead) return '[^:]*'
            return PLAIN_PLACEHOLDERS.has(name) ? '[^:/]*' : /Object|Path/.test(name) ? '.*' : '[^:]*'
          })
          .join('')
      const head = parts.slice(0, 5).map(p => segment(p, true))
      const tail = parts.length > 5 ? [segment(parts.slice(5).join(':'), false)] : []
      types.push({ template, shape: new RegExp(`^${[...head, ...tail].join(':')}$`) })
    }
    typeCache.set(action, types)
  }
  return types
}

function instantiate(template: string, name: string, region: string): string {
  return template.replace(/\$\{([^}]*)\}/g, (_, key: string) =>
    key === 'Partition' ? 'aws' : key === 'Region' ? region : key === 'Account' ? ACCOUNT : name
  )
}

/** Concrete ARNs of the service's resource types, built from a small vocabulary. */
function serviceArns(service: string): string[] {
  const templates = new Set<string>()
  for (const action of catalog.actionsOf(service))
    for (const t of resourceTypes(action)) templates.add(t.template)
  return [...templates].flatMap(t => NAMES.map(n => instantiate(t, n, at(REGIONS, 0))))
}

const arnsByService = new Map(SERVICES.map(s => [s, serviceArns(s)]))

/** A Resource pattern: `*`, or a sampled ARN with a wildcard, a `?`, or the user name turned into a variable. */
function resourcePattern(random: Random): string {
  if (random.chance(0.2)) return '*'
  const arn = random.pick(arnsByService.get(random.pick(SERVICES)) ?? [])
  const roll = random.int(5)
  if (roll === 0) return arn
  if (roll === 1) return `${arn.slice(0, 1 + random.int(arn.length - 1))}*`
  if (roll === 2) {
    const cut = random.int(arn.length)
    return `${arn.slice(0, cut)}?${arn.slice(cut + 1)}`
  }
  if (roll === 3 && arn.includes(USERNAME))
    return arn.replace(USERNAME, random.pick(['${aws:username}', '${aws:username}*']))
  return arn.replace(at(REGIONS, 0), '*')
}

function actionPattern(random: Random): string {
  const service = random.pick(SERVICES)
  const roll = random.int(10)
  if (roll === 0) return '*'
  if (roll === 1) return `${service}:*`
  const action = random.pick(catalog.actionsOf(service))
  if (roll <= 3) return `${action.slice(0, action.indexOf(':') + 1 + 3)}*`
  return action
}

function statement(random: Random, effect: 'Allow' | 'Deny'): ReferenceStatement {
  const s: ReferenceStatement = { Effect: effect }
  const actions = Array.from({ length: 1 + random.int(3) }, () => actionPattern(random))
  if (random.chance(0.15)) s.NotAction = actions
  else s.Action = actions
  const resources = Array.from({ length: 1 + random.int(2) }, () => resourcePattern(random))
  if (random.chance(0.15))
    s.NotResource =
      resources.filter(r => r !== '*').length > 0 ? resources.filter(r => r !== '*') : ['arn:aws:s3:::data/*']
  else s.Resource = resources
  if (random.chance(0.25)) s.Condition = random.pick(CONDITIONS)
  return s
}

function policy(random: Random, statements: number, denies: boolean): ReferencePolicy {
  return {
    Version: random.chance(0.15) ? '2008-10-17' : '2012-10-17',
    Statement: Array.from({ length: statements }, () =>
      statement(random, denies && random.chance(0.25) ? 'Deny' : 'Allow')
    )
  }
}

export interface DifferentialCase {
  seed: number
  identity: ReferencePolicy[]
  boundary?: ReferencePolicy
  used: string[]
  keepActions: string[]
}

export function generateCase(seed: number): DifferentialCase {
  const random = new Random(seed)
  const identity = Array.from({ length: 1 + random.int(2) }, () => policy(random, 1 + random.int(4), true))
  const mentioned = identity.flatMap(p =>
    p.Statement.flatMap(s => [...toList(s.Action), ...toList(s.NotAction)])
  )
  const candidates = mentioned.flatMap(p => catalog.expand(p)).slice(0, 2000)
  const used = candidates.length > 0 && random.chance(0.8) ? random.some(candidates, 4) : []
  const c: DifferentialCase = { seed, identity, used, keepActions: [] }
  if (random.chance(0.3)) c.boundary = policy(random, 1 + random.int(2), true)
  if (random.chance(0.15) && candidates.length > 0) c.keepActions = [random.pick(candidates)]
  return c
}

function toList(value: string | string[] | undefined): string[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value]
}

function granted(name: string, document: ReferencePolicy, kind: GrantedPolicy['kind']): GrantedPolicy {
  return { name, kind, awsManaged: false, document, origin: 'test' }
}

/** Resources to try an action on: its types' ARNs from the vocabulary and every policy pattern made concrete. */
function sampleResources(action: string, patterns: readonly string[]): string[] {
  const types = resourceTypes(action)
  if (types.length === 0) return ['*']
  const out = new Set<string>()
  for (const t of types)
    for (const n of NAMES) for (const r of REGIONS) out.add(instantiate(t.template, n, r))
  for (const pattern of patterns) {
    for (const filler of ['', 'x', 'data', `${USERNAME}/x`, 'x:x', 'x:x:x:x', 'us-east-1:111122223333:x']) {
      const variants = [pattern, pattern.replace(/\$\{aws:username\}/g, USERNAME)]
      for (const v of variants)
        for (const one of ['x', ':']) out.add(v.replace(/\*/g, filler).replace(/\?/g, one))
    }
  }
  return [...out].filter(r => types.some(t => t.shape.test(r)))
}

export interface CaseResult {
  seed: number
  outcome: string
  checkedActions: number
  failures: string[]
}

/** Analyzes and proposes for one generated role and checks the four properties with the reference evaluator. */
export function checkCase(c: DifferentialCase, spread: number, perClass: number): CaseResult {
  const grants: RoleGrants = {
    arn: ROLE_ARN,
    name: 'differential',
    path: '/',
    accountId: ACCOUNT,
    policies: c.identity.map((p, i) => granted(`p${i}`, p, 'inline')),
    editable: true
  }
  if (c.boundary) grants.boundary = granted('boundary', c.boundary, 'boundary')
  const usage: RoleUsage = {
    roleArn: grants.arn,
    source: 'access-analyzer',
    window: { start: '2026-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' },
    complete: true,
    actions: c.used.map(action => ({ action, resources: ['*'] })),
    serviceLevelOnly: [],
    evidence: { notes: [] }
  }
  const options = { keepActions: c.keepActions, keepSidPrefix: 'Keep' }
  const analysis = analyzeRole(grants, usage, options)
  const proposal = proposePolicies(grants, usage, analysis, options)
  const proposed: ReferencePolicy[] = proposal.policies.map(p => p.document as unknown as ReferencePolicy)
  const failures: string[] = []
  const fail = (text: string) => {
    if (failures.length < 5) failures.push(text)
  }

  const classes = new Map<string, string[]>()
  const add = (action: string, cls: string) => {
    const list = classes.get(action)
    if (list) list.push(cls)
    else classes.set(action, [cls])
  }
  const usedGranted = new Set(analysis.used.filter(a => !analysis.usedNotGranted.includes(a)))
  for (const a of usedGranted) add(a, 'used')
  for (const e of analysis.excess) add(e.action, 'excess')
  for (const u of analysis.unobservable) add(u.action, 'unobservable')
  for (const k of analysis.conditional) add(k.action, 'conditional')
  for (const k of analysis.kept) add(k, 'kept')
  for (const [action, list] of classes)
    if (list.length !== 1) fail(`(d) ${action} is in ${list.join(' and ')}`)

  const patterns = [c.identity, c.boundary ? [c.boundary] : []]
    .flat()
    .flatMap(p => p.Statement.flatMap(s => [...toList(s.Resource), ...toList(s.NotResource)]))
  // Every class is checked on a sample of its actions (a `*` grant puts the whole catalog in one class).
  const random = new Random(c.seed ^ 0x2545f491)
  const byClass = new Map<string, string[]>()
  for (const [action, list] of classes) {
    const key = at(list, 0)
    const members = byClass.get(key)
    if (members) members.push(action)
    else byClass.set(key, [action])
  }
  const fromClasses = [...byClass.values()].flatMap(list =>
    list.length <= perClass ? list : Array.from({ length: perClass }, () => random.pick(list))
  )
  const actions = new Set([...namedActions(c), ...catalogSpread(c.seed, spread), ...fromClasses])
  const current = (action: string, resource: string, context: RequestContext) =>
    referenceAllows(c.identity, c.boundary, action, resource, context)
  // The proposal replaces the identity policies; the boundary stays.
  const after = (action: string, resource: string, context: RequestContext) =>
    referenceAllows(proposed, c.boundary, action, resource, context)
  const judged = proposal.outcome === 'proposed' || proposal.outcome === 'detach-all'
  for (const action of actions) {
    const cls = classes.get(action)?.[0]
    const resources = sampleResources(action, patterns)
    let allowedSomewhere = false
    let unconditionally = false
    for (const resource of resources) {
      let everywhere = true
      for (const context of CONTEXTS) {
        const before = current(action, resource, context)
        if (before) allowedSomewhere = true
        else everywhere = false
        if (!judged) continue
        const now = after(action, resource, context)
        if (now && !before)
          fail(`(c) the proposal allows ${action} on ${resource} in ${JSON.stringify(context)}`)
        if (
          before &&
          !now &&
          (cls === 'used' || cls === 'unobservable' || cls === 'conditional' || cls === 'kept')
        )
          fail(`(b) ${cls} ${action} on ${resource} in ${JSON.stringify(context)} is no longer allowed`)
      }
      if (everywhere) unconditionally = true
    }
    if (cls === 'excess' && !unconditionally)
      fail(`(a) excess ${action} is allowed unconditionally on no resource`)
    if (allowedSomewhere && cls === undefined) fail(`(d) ${action} is allowed today but in no class`)
  }
  return { seed: c.seed, outcome: proposal.outcome, checkedActions: actions.size, failures }
}

/** The actions a case is checked on: those its Action patterns name, plus a spread over the whole catalog. */
export function catalogSpread(seed: number, count: number): string[] {
  const random = new Random(seed ^ 0x5bd1e995)
  const services = catalog.services()
  const out = new Set<string>()
  while (out.size < count) {
    const service = random.pick(services)
    const actions = catalog.actionsOf(service)
    if (actions.length > 0) out.add(random.pick(actions))
  }
  return [...out]
}

export function namedActions(c: DifferentialCase): string[] {
  const patterns = [...c.identity, ...(c.boundary ? [c.boundary] : [])].flatMap(p =>
    p.Statement.flatMap(s => [...toList(s.Action), ...toList(s.NotAction)])
  )
  const out = new Set<string>()
  for (const p of patterns) for (const a of catalog.expand(p).slice(0, 10)) out.add(a)
  return [...out]
}
