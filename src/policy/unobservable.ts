/**
 * Granted actions the usage source cannot see. They are never called excess: the proposal keeps them and the
 * report lists them with the reason, so a person decides.
 *
 * Sources: IAM user guide, "IAM Access Analyzer policy generation" (iam:PassRole is not tracked by CloudTrail;
 * data events are not analyzed at action level) and the CloudTrail user guide, "Logging data events" (which
 * operations are data events, logged only when a trail or event data store selects them).
 */
import type { RoleUsage } from '../model.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'

const PASS_ROLE_REASON =
  'iam:PassRole is never recorded in CloudTrail (it is checked when another call passes a role)'
const SESSION_PERMISSION_REASON =
  'checked as part of sts:AssumeRole and not recorded as a call of its own in CloudTrail'

/** Permission-only actions: checked inside another call, never logged as events of their own. */
const NEVER_LOGGED: Record<string, string> = {
  'iam:passrole': PASS_ROLE_REASON,
  'sts:tagsession': SESSION_PERMISSION_REASON,
  'sts:setsourceidentity': SESSION_PERMISSION_REASON
}

/**
 * Services whose calls never appear in CloudTrail: the SSM agent's message channels. The agent polls
 * ec2messages:GetMessages around the clock, yet the sample trails (an active agent, an hour of records) hold not one
 * such event; the Systems Manager user guide lists them apart as agent-only "special operations". Calling them
 * excess would break Run Command and Session Manager.
 */
const NEVER_LOGGED_SERVICES: Record<string, string> = {
  ec2messages: 'SSM agent message channel: ec2messages calls are not recorded in CloudTrail',
  ssmmessages: 'SSM agent and Session Manager channel: ssmmessages calls are not recorded in CloudTrail'
}

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
  'cloudtrail-data': ['cloudtrail-data:PutAuditEvents']
}

/** S3 resource types whose operations are object-level data events. */
const S3_OBJECT_RESOURCE_TYPES = new Set(['object', 'accesspointobject'])

function dataEventIds(catalog: CatalogIndex): Map<number, string> {
  const ids = new Map<number, string>()
  for (const [service, patterns] of Object.entries(DATA_EVENT_PATTERNS)) {
    for (const pattern of patterns) for (const id of catalog.expandIds(pattern)) ids.set(id, service)
  }
  for (const id of catalog.expandIds('s3:*')) {
    const info = catalog.action(catalog.names[id])
    if (info?.resourceTypes.some(rt => S3_OBJECT_RESOURCE_TYPES.has(rt.name))) ids.set(id, 's3')
  }
  return ids
}

const dataEventCache = new WeakMap<CatalogIndex, Map<number, string>>()

/** Catalog id -> reason, for every action the given usage cannot observe. */
export function unobservableActions(catalog: CatalogIndex, usage: RoleUsage): Map<number, string> {
  const reasons = new Map<number, string>()
  for (const [name, reason] of Object.entries(NEVER_LOGGED)) {
    const id = catalog.idOf(name)
    if (id !== undefined) reasons.set(id, reason)
  }
  for (const [service, reason] of Object.entries(NEVER_LOGGED_SERVICES)) {
    for (const id of catalog.expandIds(`${service}:*`)) reasons.set(id, reason)
  }
  let dataEvents = dataEventCache.get(catalog)
  if (!dataEvents) {
    dataEvents = dataEventIds(catalog)
    dataEventCache.set(catalog, dataEvents)
  }
  const seen = new Set((usage.evidence.dataEventsSeen ?? []).map(s => s.toLowerCase()))
  for (const [id, service] of dataEvents) {
    if (reasons.has(id)) continue
    if (usage.source === 'access-analyzer') {
      reasons.set(
        id,
        `data event: IAM Access Analyzer policy generation does not analyze ${service} data events`
      )
    } else if (!seen.has(service)) {
      reasons.set(id, `data event: no ${service} data events were found in the CloudTrail logs read`)
    }
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
