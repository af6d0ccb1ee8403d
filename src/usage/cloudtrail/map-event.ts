import type { Catalog } from '../../policy/catalog.js'
import { ownValue } from '../../policy/own.js'
import { isPermissionless } from '../../policy/permissionless.js'

/** Event sources whose IAM service prefix is not their first label. */
const SERVICE_OF_EVENT_SOURCE: Readonly<Record<string, string>> = {
  monitoring: 'cloudwatch',
  appstream2: 'appstream',
  'models.lex': 'lex',
  'runtime.lex': 'lex',
  'streams.dynamodb': 'dynamodb',
  tagging: 'tag',
  'mturk-requester': 'mechanicalturk',
  cloudcontrolapi: 'cloudformation',
  rdsdata: 'rds-data',
  'runtime.sagemaker': 'sagemaker',
  'servicecatalog-appregistry': 'servicecatalog'
}

/**
 * Event names whose IAM action has another name, by service prefix. A list means the call needs every action in it.
 * S3 facts: AWS's "actions, resources and condition keys for Amazon S3" and each API's permission section.
 */
export const RENAMED_EVENTS: Readonly<Record<string, Readonly<Record<string, readonly string[]>>>> = {
  s3: {
    ListBuckets: ['ListAllMyBuckets'],
    HeadBucket: ['ListBucket'],
    ListObjects: ['ListBucket'],
    ListObjectsV2: ['ListBucket'],
    HeadObject: ['GetObject'],
    SelectObjectContent: ['GetObject'],
    ListObjectVersions: ['ListBucketVersions'],
    ListMultipartUploads: ['ListBucketMultipartUploads'],
    ListParts: ['ListMultipartUploadParts'],
    CreateMultipartUpload: ['PutObject'],
    UploadPart: ['PutObject'],
    CompleteMultipartUpload: ['PutObject'],
    // A copy writes the target and reads the source; CloudTrail logs one event for both.
    CopyObject: ['PutObject', 'GetObject'],
    UploadPartCopy: ['PutObject', 'GetObject'],
    DeleteObjects: ['DeleteObject'],
    GetObjectAttributes: ['GetObjectAttributes', 'GetObject'],
    GetBucketEncryption: ['GetEncryptionConfiguration'],
    PutBucketEncryption: ['PutEncryptionConfiguration'],
    DeleteBucketEncryption: ['PutEncryptionConfiguration'],
    GetBucketLifecycle: ['GetLifecycleConfiguration'],
    GetBucketLifecycleConfiguration: ['GetLifecycleConfiguration'],
    PutBucketLifecycle: ['PutLifecycleConfiguration'],
    PutBucketLifecycleConfiguration: ['PutLifecycleConfiguration'],
    DeleteBucketLifecycle: ['PutLifecycleConfiguration'],
    GetBucketNotificationConfiguration: ['GetBucketNotification'],
    PutBucketNotificationConfiguration: ['PutBucketNotification'],
    GetBucketReplication: ['GetReplicationConfiguration'],
    PutBucketReplication: ['PutReplicationConfiguration'],
    // The API reference for DeleteBucketReplication requires s3:PutReplicationConfiguration (no Delete action exists).
    DeleteBucketReplication: ['PutReplicationConfiguration'],
    DeleteBucketTagging: ['PutBucketTagging'],
    GetBucketAccelerateConfiguration: ['GetAccelerateConfiguration'],
    PutBucketAccelerateConfiguration: ['PutAccelerateConfiguration'],
    GetBucketAnalyticsConfiguration: ['GetAnalyticsConfiguration'],
    ListBucketAnalyticsConfigurations: ['GetAnalyticsConfiguration'],
    PutBucketAnalyticsConfiguration: ['PutAnalyticsConfiguration'],
    DeleteBucketAnalyticsConfiguration: ['PutAnalyticsConfiguration'],
    GetBucketInventoryConfiguration: ['GetInventoryConfiguration'],
    ListBucketInventoryConfigurations: ['GetInventoryConfiguration'],
    PutBucketInventoryConfiguration: ['PutInventoryConfiguration'],
    DeleteBucketInventoryConfiguration: ['PutInventoryConfiguration'],
    GetBucketMetricsConfiguration: ['GetMetricsConfiguration'],
    ListBucketMetricsConfigurations: ['GetMetricsConfiguration'],
    PutBucketMetricsConfiguration: ['PutMetricsConfiguration'],
    DeleteBucketMetricsConfiguration: ['PutMetricsConfiguration'],
    GetBucketIntelligentTieringConfiguration: ['GetIntelligentTieringConfiguration'],
    ListBucketIntelligentTieringConfigurations: ['GetIntelligentTieringConfiguration'],
    PutBucketIntelligentTieringConfiguration: ['PutIntelligentTieringConfiguration'],
    DeleteBucketIntelligentTieringConfiguration: ['PutIntelligentTieringConfiguration'],
    GetBucketCors: ['GetBucketCORS'],
    PutBucketCors: ['PutBucketCORS'],
    DeleteBucketCors: ['PutBucketCORS'],
    GetObjectLockConfiguration: ['GetBucketObjectLockConfiguration'],
    PutObjectLockConfiguration: ['PutBucketObjectLockConfiguration'],
    DeleteBucketOwnershipControls: ['PutBucketOwnershipControls'],
    DeletePublicAccessBlock: ['PutBucketPublicAccessBlock'],
    DeleteBucketPublicAccessBlock: ['PutBucketPublicAccessBlock'],
    GetPublicAccessBlock: ['GetBucketPublicAccessBlock'],
    PutPublicAccessBlock: ['PutBucketPublicAccessBlock'],
    DeleteAccountPublicAccessBlock: ['PutAccountPublicAccessBlock'],
    GetBucketMetadataConfiguration: ['GetBucketMetadataTableConfiguration'],
    DeleteBucketMetadataConfiguration: ['DeleteBucketMetadataTableConfiguration']
  },
  lambda: {
    Invoke: ['InvokeFunction'],
    InvokeWithResponseStream: ['InvokeFunction']
  },
  kms: {
    ReEncrypt: ['ReEncryptFrom', 'ReEncryptTo']
  },
  // Found by the mapping audit (scripts/audit-permission-names.ts): operations the catalog has no action for, whose
  // API reference names the permission they are authorized as.
  bedrock: {
    Converse: ['InvokeModel'],
    ConverseStream: ['InvokeModelWithResponseStream'],
    StartAsyncInvoke: ['InvokeModel'],
    RetrieveAndGenerateStream: ['RetrieveAndGenerate']
  },
  'access-analyzer': { GetFindingV2: ['GetFinding'], ListFindingsV2: ['ListFindings'] },
  dms: {
    DescribeDataProviders: ['ListDataProviders'],
    DescribeExtensionPackAssociations: ['ListExtensionPacks'],
    DescribeInstanceProfiles: ['ListInstanceProfiles'],
    DescribeMetadataModelAssessments: ['ListMetadataModelAssessments'],
    DescribeMetadataModelConversions: ['ListMetadataModelConversions'],
    DescribeMetadataModelExportsAsScript: ['ListMetadataModelExports'],
    DescribeMetadataModelExportsToTarget: ['ListMetadataModelExports'],
    DescribeMigrationProjects: ['ListMigrationProjects'],
    ModifyConversionConfiguration: ['UpdateConversionConfiguration'],
    ModifyDataProvider: ['UpdateDataProvider'],
    ModifyInstanceProfile: ['UpdateInstanceProfile'],
    ModifyMigrationProject: ['UpdateMigrationProject'],
    StartExtensionPackAssociation: ['AssociateExtensionPack'],
    StartMetadataModelExportAsScript: ['StartMetadataModelExportAsScripts']
  },
  securityhub: {
    BatchUpdateFindingsV2: ['BatchUpdateFindings'],
    GetFindingStatisticsV2: ['GetAdhocInsightResults'],
    GetFindingsV2: ['GetFindings']
  },
  verifiedpermissions: {
    BatchGetPolicy: ['GetPolicy'],
    BatchIsAuthorized: ['IsAuthorized'],
    BatchIsAuthorizedWithToken: ['IsAuthorizedWithToken']
  },
  'vpc-lattice': { BatchUpdateRule: ['UpdateRule'] },
  'neptune-graph': { GetQuery: ['GetQueryStatus'] },
  qapps: { CreatePresignedUrl: ['ImportDocument'] },
  // The Glue API reference names the table or partition permission as the one these operations require; the
  // catalog also lists the operation's own action, so both are kept.
  glue: {
    GetColumnStatisticsForTable: ['GetColumnStatisticsForTable', 'GetTable'],
    GetColumnStatisticsForPartition: ['GetColumnStatisticsForPartition', 'GetPartition'],
    UpdateColumnStatisticsForTable: ['UpdateColumnStatisticsForTable', 'UpdateTable'],
    UpdateColumnStatisticsForPartition: ['UpdateColumnStatisticsForPartition', 'UpdatePartition'],
    DeleteColumnStatisticsForTable: ['DeleteColumnStatisticsForTable', 'DeleteTable'],
    DeleteColumnStatisticsForPartition: ['DeleteColumnStatisticsForPartition', 'DeletePartition']
  },
  secretsmanager: {
    // Each secret a batch returns is authorized as GetSecretValue on that secret.
    BatchGetSecretValue: ['BatchGetSecretValue', 'GetSecretValue']
  }
}

/** API version suffixes some services append to event names: Lambda `20150331`, `20150331v2`; CloudFront `2020_05_31`. */
const VERSION_SUFFIX = /(?:\d{8}(?:v\d+)?|\d{4}_\d{2}_\d{2})$/

/** Event types that record something other than an API call authorized by IAM. */
const NOT_API_CALL_TYPES = new Set([
  'AwsServiceEvent',
  'AwsConsoleSignIn',
  'AwsConsoleAction',
  'AwsCloudTrailInsight',
  'AwsVpceEvent'
])

/**
 * Error codes that mean the call was refused by authorization (or never authenticated), matched case-insensitively
 * with and without EC2's `Client.` prefix. Only these exclude a call from usage: every other error (throttling,
 * validation, not found, `Client.VcpuLimitExceeded`) is raised after IAM authorized the call, so it still proves
 * the role was allowed the action.
 */
const DENIED_ERROR_CODES = new Set(
  [
    'AccessDenied',
    'AccessDeniedException',
    'UnauthorizedOperation',
    'UnauthorizedAccess',
    'UnauthorizedAccessException',
    'AuthorizationError',
    'AuthorizationErrorException',
    'AuthFailure',
    'InvalidClientTokenId',
    'UnrecognizedClientException',
    'SignatureDoesNotMatch',
    'IncompleteSignature',
    'MissingAuthenticationToken',
    'ExpiredToken',
    'ExpiredTokenException'
  ].map(c => c.toLowerCase())
)

/** Error messages AWS writes when IAM refused a call, whatever the service calls the error code. */
export const DENIED_MESSAGE_PATTERN =
  'is not authorized to perform|not authorized to perform this operation|with an explicit deny|no identity-based policy allows'

export function isDeniedError(errorCode: string, deniedByMessage: boolean): boolean {
  if (!errorCode) return false
  if (deniedByMessage) return true
  const code = errorCode.toLowerCase().replace(/^client\./, '')
  return DENIED_ERROR_CODES.has(code) || code.includes('unauthorizedaccess')
}

/** The IAM service prefix of an event source, or undefined when the catalog knows none. */
export function serviceOfEventSource(catalog: Catalog, eventSource: string): string | undefined {
  const host = eventSource.toLowerCase().replace(/\.amazonaws\.com(\.cn)?$/, '')
  const known = ownValue(SERVICE_OF_EVENT_SOURCE, host)
  if (known) return known
  if (catalog.hasService(host)) return host
  const first = host.split('.')[0] ?? host
  return catalog.hasService(first) ? first : undefined
}

/** The catalog actions an event name stands for (catalog spelling), or undefined when it maps to none. */
export function actionsOfEvent(catalog: Catalog, service: string, eventName: string): string[] | undefined {
  const name = eventName.replace(VERSION_SUFFIX, '')
  const renamed = ownValue(RENAMED_EVENTS, service)
  const candidates = (renamed && ownValue(renamed, name)) ?? [name]
  const actions: string[] = []
  for (const candidate of candidates) {
    const info = catalog.action(`${service}:${candidate}`)
    if (!info) return undefined
    actions.push(info.name)
  }
  return actions.length > 0 ? actions : undefined
}

interface EventKey {
  eventSource: string
  eventName: string
  eventType: string
  errorCode: string
  deniedByMessage: boolean
}

type EventClass =
  | { kind: 'not-an-action' }
  | { kind: 'denied' }
  | { kind: 'permissionless'; action: string }
  | { kind: 'used'; service: string; actions: string[]; operation: string }
  | { kind: 'unmapped' }

/**
 * What an event proves. Console sign-ins and service events are not IAM actions; denied calls are not usage;
 * calls that need no permission are not usage; everything else maps to catalog actions or is reported unmapped.
 */
export function classifyEvent(catalog: Catalog, event: EventKey): EventClass {
  if (NOT_API_CALL_TYPES.has(event.eventType) || event.eventSource === 'signin.amazonaws.com')
    return { kind: 'not-an-action' }
  if (isDeniedError(event.errorCode, event.deniedByMessage)) return { kind: 'denied' }
  const service = serviceOfEventSource(catalog, event.eventSource)
  const actions = service ? actionsOfEvent(catalog, service, event.eventName) : undefined
  if (!service || !actions) return { kind: 'unmapped' }
  const [only, ...others] = actions
  if (only !== undefined && others.length === 0 && isPermissionless(only))
    return { kind: 'permissionless', action: only }
  return {
    kind: 'used',
    service,
    actions,
    operation: `${service}:${event.eventName.replace(VERSION_SUFFIX, '')}`
  }
}
