/**
 * Granted actions the usage source cannot see. They are never called excess: the proposal keeps them and the
 * report lists them with the reason, so a person decides.
 *
 * Sources: never-logged.ts and dependent-actions.ts (each entry with its AWS page), the IAM user guide, "IAM Access
 * Analyzer policy generation" (data events are not analyzed at action level) and the CloudTrail user guide, "Logging
 * data events" (which operations are data events, logged only when a trail or event data store selects them), and
 * each service's CloudTrail page (AppSync, Aurora DSQL, Verified Permissions, Keyspaces, SageMaker AI, Bedrock).
 */
import { ACCESS_LEVELS, readsLogRecords } from '../model.js'
import type { MergedSource, ObservedAction, RoleUsage } from '../model.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'
import { dependentPatterns } from './dependent-actions.js'
import { lastAccessUnobservable } from './last-access.js'
import { NEVER_LOGGED } from './never-logged.js'
import { EXCLUDABLE_SOURCES, READ_ONLY_EVENT_ACTIONS, trailLoggingOrigin } from './trail-logging.js'
import { at } from './at.js'

/** A call that creates or registers something may carry tags, authorized as the service's tagging actions. */
const CREATES = /:(Create|Run|Put|Register|Import|Copy|Allocate|Start|Request|Issue|Publish)/
/** Tagging actions that add tags (removing tags is never part of creating something). */
const ADDS_TAGS = /:(Tag|AddTags|CreateTags|Put\w*Tagging)/

/** Catalog patterns of data-event operations, by service prefix. */
const DATA_EVENT_PATTERNS: Record<string, string[]> = {
  s3: [
    's3:ListBucket',
    's3:ListBucketVersions',
    's3:ListBucketMultipartUploads',
    's3:ListMultipartUploadParts',
    's3:AbortMultipartUpload'
  ],
  's3-object-lambda': ['s3-object-lambda:*'],
  s3express: ['s3express:CreateSession'],
  lambda: ['lambda:InvokeFunction', 'lambda:InvokeFunctionUrl', 'lambda:InvokeAsync'],
  dynamodb: [
    'dynamodb:BatchGetItem',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
    'dynamodb:DeleteItem',
    'dynamodb:GetItem',
    'dynamodb:PartiQL*',
    'dynamodb:PutItem',
    'dynamodb:Query',
    'dynamodb:Scan',
    'dynamodb:UpdateItem',
    'dynamodb:DescribeStream',
    'dynamodb:GetRecords',
    'dynamodb:GetShardIterator',
    'dynamodb:ListStreams'
  ],
  kinesis: [
    'kinesis:GetRecords',
    'kinesis:GetShardIterator',
    'kinesis:PutRecord',
    'kinesis:PutRecords',
    'kinesis:SubscribeToShard'
  ],
  sns: ['sns:Publish'],
  sqs: ['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage', 'sqs:SendMessage'],
  ebs: ['ebs:*'],
  // High-volume calls that trails do not record as management events: treated like data events, observable only
  // when events of that kind were seen.
  logs: ['logs:PutLogEvents', 'logs:GetLogEvents', 'logs:FilterLogEvents'],
  cloudwatch: ['cloudwatch:PutMetricData', 'cloudwatch:GetMetricData', 'cloudwatch:GetMetricStatistics'],
  xray: [
    'xray:PutTraceSegments',
    'xray:PutTelemetryRecords',
    'xray:GetSamplingRules',
    'xray:GetSamplingTargets'
  ],
  'cloudtrail-data': ['cloudtrail-data:PutAuditEvents'],
  // Each service's CloudTrail page names these as data events, not logged unless selected.
  appsync: ['appsync:GraphQL', 'appsync:EventConnect', 'appsync:EventPublish', 'appsync:EventSubscribe'],
  dsql: ['dsql:DbConnect', 'dsql:DbConnectAdmin'],
  verifiedpermissions: ['verifiedpermissions:IsAuthorized', 'verifiedpermissions:IsAuthorizedWithToken'],
  cassandra: ['cassandra:Select', 'cassandra:Modify'],
  sagemaker: ['sagemaker:InvokeEndpoint*'],
  bedrock: ['bedrock:InvokeAgent', 'bedrock:InvokeFlow', 'bedrock:Retrieve', 'bedrock:RetrieveAndGenerate']
}

/** S3 resource types whose operations are object-level data events. */
const S3_OBJECT_RESOURCE_TYPES = new Set(['object', 'accesspointobject'])

function dataEventIds(catalog: CatalogIndex): Map<number, string> {
  const ids = new Map<number, string>()
  for (const [service, patterns] of Object.entries(DATA_EVENT_PATTERNS)) {
    for (const pattern of patterns) for (const id of catalog.expandIds(pattern)) ids.set(id, service)
  }
  for (const id of catalog.expandIds('s3:*')) {
    const info = catalog.action(at(catalog.names, id))
    if (info?.resourceTypes.some(rt => S3_OBJECT_RESOURCE_TYPES.has(rt.name))) ids.set(id, 's3')
  }
  return ids
}

const dataEventCache = new WeakMap<CatalogIndex, Map<number, string>>()

/**
 * The management events a trail can leave out: the KMS and RDS Data API event sources
 * (`ExcludeManagementEventSources`), and the read-only or the write half (`ReadWriteType`, a `readOnly` advanced
 * selector). Every other service's management events are logged whenever management events are.
 */
const READ_LEVELS = new Set<string>(['Read', 'List'])

/**
 * What the trail may not log. A known configuration (read from the trail, or stated as options) says which sources and
 * halves it leaves out. Otherwise the records decide: a source a trail can exclude of which no principal has an event,
 * and a half (read-only, write) of which no principal has a management event, are unknown whether logged.
 */
function unknownWhetherLogged(
  catalog: CatalogIndex,
  usage: RoleUsage,
  dataEvents: Map<number, string>
): Map<number, string> {
  const out = new Map<number, string>()
  // A last-access source (IAM access advisor) does not read the trail: what the trail logs does not limit it.
  if (usage.lastAccess) return out
  const known = usage.evidence.trailLogging
  // Only log records show which sources and halves some principal used; Access Analyzer has the configuration alone.
  if (!readsLogRecords(usage.source) && !known) return out
  const seenList = usage.evidence.managementEventsSeen
  if (!known && !seenList) return out
  const seen = new Set(seenList)
  const by = known ? trailLoggingOrigin(known) : ''
  for (const { source, service, name } of EXCLUDABLE_SOURCES) {
    const reason = known
      ? known.excludedSources.includes(source)
        ? `not logged: the trail excludes ${name} events from its management events (per ${by})`
        : undefined
      : seen.has(source)
        ? undefined
        : `unknown whether logged: the records hold no ${name} event from any principal, and a trail can exclude ${name} events from its management events`
    if (!reason) continue
    for (const id of catalog.expandIds(`${service}:*`)) if (!dataEvents.has(id)) out.set(id, reason)
  }
  const halves = [
    { readOnly: true, what: 'read-only', logged: known ? known.managementRead : seen.has('read') },
    { readOnly: false, what: 'write', logged: known ? known.managementWrite : seen.has('write') }
  ].filter(h => !h.logged)
  const readOnlyEvents = new Set(READ_ONLY_EVENT_ACTIONS.flatMap(p => catalog.expandIds(p)))
  for (const { readOnly, what } of halves) {
    const reason = known
      ? `not logged: the trail does not log ${what} management events (per ${by})`
      : `unknown whether logged: the records hold no ${what} management event from any principal, so the trail may not log ${what} events`
    for (let id = 0; id < catalog.size; id++) {
      const isRead = READ_LEVELS.has(at(ACCESS_LEVELS, at(catalog.levelRank, id))) || readOnlyEvents.has(id)
      if (isRead === readOnly && !dataEvents.has(id) && !out.has(id)) out.set(id, reason)
    }
  }
  return out
}

/** Tagging at creation and dependent actions: authorized inside the observed calls, never recorded on their own. */
function companionReasons(
  catalog: CatalogIndex,
  actions: readonly ObservedAction[],
  reasons: Map<number, string>
): void {
  for (const observed of actions) {
    const service = observed.action.split(':')[0]?.toLowerCase() ?? ''
    if (CREATES.test(observed.action)) {
      // Tags given at creation are authorized on what is created: a tagging action that accepts none of the
      // creating call's resource types (s3:PutBucketTagging after s3:PutObject) is not part of it.
      const created = new Set(catalog.action(observed.action)?.resourceTypes.map(rt => rt.name) ?? [])
      const onCreated = (types: readonly { name: string }[]) =>
        created.size === 0 || types.length === 0 || types.some(rt => created.has(rt.name))
      for (const id of catalog.expandIds(`${service}:*`)) {
        const info = catalog.action(at(catalog.names, id))
        if (
          !reasons.has(id) &&
          info?.accessLevels.includes('Tagging') &&
          ADDS_TAGS.test(info.name) &&
          onCreated(info.resourceTypes)
        ) {
          reasons.set(
            id,
            `tags given when creating a resource (as in ${observed.action}) are authorized as this action, which CloudTrail does not record on its own`
          )
        }
      }
    }
    for (const call of [observed.action, ...(observed.operations ?? [])]) {
      for (const pattern of dependentPatterns(call)) {
        for (const id of catalog.expandIds(pattern)) {
          if (!reasons.has(id)) {
            reasons.set(
              id,
              `may be authorized inside ${call} calls, which CloudTrail records under that name only`
            )
          }
        }
      }
    }
  }
}

/**
 * Merged sources: an action is unobservable only when every source is blind to it (a source whose evidence is
 * insufficient is blind to everything); the reason names each source's. Calls seen by any source may authorize
 * dependent actions that no source records on their own.
 */
function mergedUnobservable(
  catalog: CatalogIndex,
  usage: RoleUsage,
  parts: MergedSource[]
): Map<number, string> {
  const blind = parts.map(p => (p.insufficient ? undefined : unobservableActions(catalog, p.usage)))
  const serviceUses = parts.map(p =>
    p.insufficient ? new Map<string, number>() : servicesUsedInWindow(p.usage)
  )
  const reasons = new Map<number, string>()
  for (let id = 0; id < catalog.size; id++) {
    const why: string[] = []
    const judging: RoleUsage[] = []
    for (const [i, part] of parts.entries()) {
      const map = blind[i]
      const reason = map
        ? map.get(id)
        : `${part.usage.source}: ${part.insufficient ?? 'insufficient evidence'}`
      if (reason === undefined) {
        judging.push(part.usage)
        continue
      }
      why.push(
        map && !reason.startsWith(`${part.usage.source}: `) ? `${part.usage.source}: ${reason}` : reason
      )
    }
    if (judging.length === 0) {
      reasons.set(id, why.join('; '))
      continue
    }
    // A blind source that saw the action's service used (any of its actions may have been called) leaves the
    // others' "unused" unproven when none of their windows covers the time of that use.
    const service = catalog.serviceOf(id).toLowerCase()
    const uses = parts.flatMap((_, i) => {
      const when = blind[i]?.has(id) ? serviceUses[i]?.get(service) : undefined
      return when === undefined ? [] : [when]
    })
    const uncovered = uses.find(when => judging.every(u => !windowCovers(u.window, when)))
    if (uncovered !== undefined)
      reasons.set(
        id,
        [
          ...why,
          ...judging.map(
            u =>
              `${u.source}: its window (${u.window.start.slice(0, 10)} to ${u.window.end.slice(0, 10)}) does not cover that use (${new Date(uncovered).toISOString().slice(0, 10)})`
          )
        ].join('; ')
      )
  }
  companionReasons(catalog, usage.actions, reasons)
  return reasons
}

/** Service (lower case) -> time of its last use, for the services a last-access source saw used in its window. */
function servicesUsedInWindow(usage: RoleUsage): Map<string, number> {
  const start = Date.parse(usage.window.start)
  const used = new Map<string, number>()
  for (const entry of usage.lastAccess ?? []) {
    const when = entry.lastUsed === undefined ? NaN : Date.parse(entry.lastUsed)
    if (entry.level === 'service' && when >= start) used.set(entry.key.toLowerCase(), when)
  }
  return used
}

function windowCovers(window: RoleUsage['window'], when: number): boolean {
  return Date.parse(window.start) <= when && when <= Date.parse(window.end)
}

/** Catalog id -> reason, for every action the given usage cannot observe. */
export function unobservableActions(catalog: CatalogIndex, usage: RoleUsage): Map<number, string> {
  if (usage.merged) return mergedUnobservable(catalog, usage, usage.merged)
  const reasons = new Map<number, string>()
  for (const { patterns, reason } of NEVER_LOGGED) {
    for (const pattern of patterns) for (const id of catalog.expandIds(pattern)) reasons.set(id, reason)
  }
  if (usage.lastAccess)
    for (const [id, reason] of lastAccessUnobservable(catalog, usage))
      if (!reasons.has(id)) reasons.set(id, reason)
  let dataEvents = dataEventCache.get(catalog)
  if (!dataEvents) {
    dataEvents = dataEventIds(catalog)
    dataEventCache.set(catalog, dataEvents)
  }
  const seen = new Set((usage.evidence.dataEventsSeen ?? []).map(s => s.toLowerCase()))
  // A trail may log only write data events, or only reads: a class of data events counts as logged only when a
  // used action of that class (read and list, or the rest) was seen for the service.
  const isRead = (id: number) =>
    ['Read', 'List'].includes(catalog.action(at(catalog.names, id))?.accessLevel ?? '')
  const classes = new Set<string>()
  for (const observed of usage.actions) {
    const id = catalog.idOf(observed.action)
    const service = id === undefined ? undefined : dataEvents.get(id)
    if (id !== undefined && service) classes.add(`${service}:${isRead(id) ? 'read' : 'write'}`)
  }
  for (const [id, service] of dataEvents) {
    // A last-access source sees data events as use of their service: its own rule above decides.
    if (reasons.has(id) || usage.lastAccess) continue
    const kind = isRead(id) ? 'read' : 'write'
    if (usage.source === 'access-analyzer') {
      reasons.set(
        id,
        `data event: IAM Access Analyzer policy generation does not analyze ${service} data events`
      )
    } else if (!seen.has(service)) {
      reasons.set(id, `data event: no ${service} data events were found in the CloudTrail logs read`)
    } else if (!classes.has(`${service}:${kind}`)) {
      reasons.set(
        id,
        `data event: no ${kind} data events of ${service} were found, so the trail may not log them`
      )
    }
  }
  for (const [id, reason] of unknownWhetherLogged(catalog, usage, dataEvents)) {
    if (!reasons.has(id)) reasons.set(id, reason)
  }
  companionReasons(catalog, usage.actions, reasons)
  for (const { service, reason } of usage.unseenServices ?? []) {
    for (const id of catalog.expandIds(`${service}:*`)) if (!reasons.has(id)) reasons.set(id, reason)
  }
  for (const unmapped of usage.evidence.unmapped ?? []) {
    if (!unmapped.service) continue
    const reason = `${unmapped.count} ${unmapped.service} call(s) (${unmapped.eventName}) did not map to an action, so any ${unmapped.service} action may have been used`
    for (const id of catalog.expandIds(`${unmapped.service}:*`)) if (!reasons.has(id)) reasons.set(id, reason)
  }
  for (const service of usage.serviceLevelOnly) {
    const reason = `the usage source reports only service-level use of ${service}, not which actions`
    for (const id of catalog.expandIds(`${service}:*`)) if (!reasons.has(id)) reasons.set(id, reason)
  }
  return reasons
}

/** The reason an action (any case) cannot be observed with this usage, or undefined when it can. */
export function unobservableReason(action: string, usage: RoleUsage): string | undefined {
  const catalog = loadCatalogIndex()
  const id = catalog.idOf(action)
  return id === undefined ? undefined : unobservableActions(catalog, usage).get(id)
}
