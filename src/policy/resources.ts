/**
 * Resources observed in use, and how a proposal may narrow a statement to them.
 */
import type { RoleUsage } from '../model.js'
import type { CatalogIndex } from './catalog.js'
import { globCovers } from './glob.js'
import { ownValue } from './own.js'
import { hasPolicyVariable, resourcePatternMatch } from './match.js'

/** A concrete ARN: no wildcard, no `${...}` placeholder (Access Analyzer templates are not concrete). */
export function isConcreteArn(resource: string): boolean {
  return resource.startsWith('arn:') && !/[*?]/.test(resource) && !resource.includes('${')
}

/**
 * Actions whose resource the caller names: it may not exist before the call (create, put, register, import, copy,
 * restore, replicate) or not after it (delete, deregister). Narrowed to the names seen in the window, they would deny
 * the next name (ci-build-4 after ci-build-1..3).
 */
const NAMES_ITS_RESOURCE =
  /^[^:]+:(Batch)?(Create|Put|Delete|Register|Deregister|Import|Copy|Restore|Replicate)/
/** Of those, the ones that may bring a resource into existence (ecr:BatchImportUpstreamImage: a pull-through cache). */
const MAY_CREATE = /^[^:]+:(Batch)?(Create|Put|Register|Import|Copy|Restore|Replicate)/

const S3_OBJECT = /^(arn:[^:]+:s3:::[^/]+)\/.+$/

const serviceOf = (action: string) => (action.split(':')[0] ?? '').toLowerCase()

/** Whether a resource is (or lies under) one created in the window. */
function underCreated(resource: string, created: ReadonlySet<string>): boolean {
  const bucket = S3_OBJECT.exec(resource)?.[1]
  return created.has(resource) || (bucket !== undefined && created.has(bucket))
}

/**
 * Catalog id -> the resources observed for it, only for actions a proposal may narrow: every observed resource is a
 * concrete ARN (an action seen once with `*` or a placeholder has no entry), none was created in the window (nor may
 * be: no call of the service created something the records do not name), and the action does not name its own
 * resource, except S3 object writes, which are only ever narrowed to `bucket/*`.
 */
export function observedResources(catalog: CatalogIndex, usage: RoleUsage): Map<number, string[]> {
  const all = new Map<number, Set<string>>()
  const unusable = new Set<number>()
  const created = new Set<string>()
  // Services in which the role created something the records do not name (most management events carry no
  // resources: a CreateQueue names its queue only in the request): any of its resources may be new in the window.
  const createdUnnamed = new Set<string>()
  for (const observed of usage.actions) {
    if (!MAY_CREATE.test(observed.action)) continue
    for (const r of observed.resources) if (isConcreteArn(r) && !S3_OBJECT.test(r)) created.add(r)
    if (observed.resources.length === 0 || !observed.resources.every(isConcreteArn))
      createdUnnamed.add(serviceOf(observed.action))
  }
  for (const observed of usage.actions) {
    const id = catalog.idOf(observed.action)
    if (id === undefined) continue
    if (createdUnnamed.has(serviceOf(observed.action))) unusable.add(id)
    if (observed.resources.length === 0 || !observed.resources.every(isConcreteArn)) unusable.add(id)
    if (observed.resources.some(r => underCreated(r, created))) unusable.add(id)
    if (NAMES_ITS_RESOURCE.test(observed.action) && !observed.resources.every(r => S3_OBJECT.test(r)))
      unusable.add(id)
    const set = all.get(id) ?? new Set<string>()
    for (const r of observed.resources) set.add(r)
    all.set(id, set)
  }
  const out = new Map<number, string[]>()
  for (const [id, set] of all) if (!unusable.has(id)) out.set(id, [...set].sort())
  return out
}

/** S3 object ARNs become `arn:aws:s3:::bucket/*`, so keys written later keep working. */
function generalizeResource(resource: string): string {
  const m = S3_OBJECT.exec(resource)
  return m ? `${m[1]}/*` : resource
}

/**
 * Resource types whose ARNs outlive the workload that uses them (a bucket, a table, a key, a role): a proposal may
 * name them. Instances, volumes, network interfaces, associations, log streams and the like are replaced all the
 * time; a policy narrowed to the ones seen last month would break on the next deployment.
 */
const DURABLE_RESOURCES: Record<string, RegExp> = {
  // A real bucket name: access point aliases (-s3alias, --ol-s3) and ARNs are authorized elsewhere.
  s3: /^(?![^/]*(-s3alias|--ol-s3)(\/|$))[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\*)?$/,
  kms: /^key\//,
  secretsmanager: /^secret:/,
  ssm: /^parameter\//,
  sqs: /^[^:/]+$/,
  sns: /^[^:/]+$/,
  iam: /^(role|policy|user|group|instance-profile)\//,
  ecr: /^repository\//,
  states: /^stateMachine:/
}
// Left out on purpose, because the ARN a record names is not always the one IAM authorizes: DynamoDB (a query
// on an index is authorized on table/T/index/I), Lambda (qualified function ARNs), CloudWatch Logs (streams are
// authorized below their group), KMS aliases (authorized on the key).

/** Whether a (generalized) concrete ARN names a durable resource. */
function isDurableResource(arn: string): boolean {
  const parts = arn.split(':')
  const service = parts[2] ?? ''
  const resource = parts.slice(5).join(':')
  return ownValue(DURABLE_RESOURCES, service)?.test(resource) ?? false
}

/**
 * The resources a statement (Resource patterns) can be narrowed to for one action, or undefined when it must keep
 * its own: every observed resource must be durable and covered for certain by the statement, before and after
 * generalizing.
 */
export function narrowedResources(
  patterns: readonly string[],
  observed: readonly string[]
): string[] | undefined {
  const covered = (r: string) => patterns.some(p => resourcePatternMatch(p, r) === 'yes')
  if (!observed.every(covered)) return undefined
  const narrowed = [...new Set(observed.map(generalizeResource))].sort()
  if (!narrowed.every(isDurableResource)) return undefined
  const safe = narrowed.every(r => patterns.some(p => !hasPolicyVariable(p) && globCovers(p, r)))
  if (!safe) return undefined
  const same = narrowed.length === patterns.length && narrowed.every(r => patterns.includes(r))
  return same ? undefined : narrowed
}
