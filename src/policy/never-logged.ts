/**
 * Authorizations CloudTrail never records, whatever the trail logs: data-plane calls that services authorize without
 * a CloudTrail event, and permissions checked inside another call. Each entry names the AWS documentation that says
 * so; the README lists the same table. Patterns are IAM action globs over the catalog.
 */
interface NeverLoggedEntry {
  /** IAM action globs (`service:*` for a whole service). */
  patterns: readonly string[]
  reason: string
  source: string
}

export const NEVER_LOGGED: readonly NeverLoggedEntry[] = [
  {
    patterns: ['iam:PassRole'],
    reason: 'iam:PassRole is never recorded in CloudTrail (it is checked when another call passes a role)',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-policy-generation.html'
  },
  {
    patterns: ['sts:TagSession', 'sts:SetSourceIdentity', 'sts:SetContext'],
    reason: 'checked as part of sts:AssumeRole and not recorded as a call of its own in CloudTrail',
    source: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_session-tags.html'
  },
  {
    patterns: ['rds-db:connect'],
    reason:
      'IAM database authentication: the client signs its own token and the database checks rds-db:connect when it connects, with no AWS API call for CloudTrail to record',
    source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.html'
  },
  {
    patterns: ['execute-api:*'],
    reason:
      'calls to your own API Gateway APIs (Invoke, @connections, cache invalidation) are not CloudTrail events; CloudTrail records calls to the API Gateway service API only (use access logging for invocations)',
    source: 'https://docs.aws.amazon.com/apigateway/latest/developerguide/cloudtrail.html'
  },
  {
    patterns: ['es:ESHttp*'],
    reason:
      'OpenSearch HTTP calls (_search, _bulk, ...) are not captured by CloudTrail, only the configuration API (use audit logs)',
    source:
      'https://docs.aws.amazon.com/opensearch-service/latest/developerguide/managedomains-cloudtrailauditing.html'
  },
  {
    patterns: ['cloudsearch:document', 'cloudsearch:search', 'cloudsearch:suggest'],
    reason:
      'CloudSearch document, search and suggest calls are not captured by CloudTrail, only the configuration API',
    source: 'https://docs.aws.amazon.com/cloudsearch/latest/developerguide/logging-config-api-calls.html'
  },
  {
    patterns: ['neptune-db:*'],
    reason:
      'Neptune data access (queries, loader, ML, streams) is not captured by CloudTrail, only the management API (use audit logs)',
    source: 'https://docs.aws.amazon.com/neptune/latest/userguide/cloudtrail.html'
  },
  {
    patterns: ['elasticache:Connect', 'memorydb:Connect'],
    reason:
      'IAM authentication to a Valkey or Redis OSS cache: the client signs its own token and the cache checks the permission on AUTH, with no AWS API call for CloudTrail to record',
    source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html'
  },
  {
    // MSK records only the topic and dynamic-configuration actions of kafka-cluster; these are never in CloudTrail.
    patterns: [
      'kafka-cluster:Connect',
      'kafka-cluster:ReadData',
      'kafka-cluster:WriteData',
      'kafka-cluster:WriteDataIdempotently',
      'kafka-cluster:DescribeTopic',
      'kafka-cluster:DescribeCluster',
      'kafka-cluster:AlterCluster',
      'kafka-cluster:DescribeGroup',
      'kafka-cluster:AlterGroup',
      'kafka-cluster:DeleteGroup',
      'kafka-cluster:DescribeTransactionalId',
      'kafka-cluster:AlterTransactionalId'
    ],
    reason:
      'Apache Kafka calls to an MSK cluster with IAM access control: CloudTrail records only the topic and dynamic-configuration actions, not connecting, producing, consuming or groups',
    source: 'https://docs.aws.amazon.com/msk/latest/developerguide/logging-API-using-cloudtrail.html'
  },
  {
    patterns: [
      'iot:Connect',
      'iot:Publish',
      'iot:Subscribe',
      'iot:Receive',
      'iot:RetainPublish',
      'iot:*ThingShadow',
      'iot:ListNamedShadowsForThing',
      'iot:GetRetainedMessage',
      'iot:ListRetainedMessages',
      'iot:GetConnection',
      'iot:DeleteConnection',
      'iot:ListSubscriptions'
    ],
    reason:
      'AWS IoT device-side data plane (MQTT connect, publish, subscribe, shadows, retained messages) is not logged in CloudTrail (use AWS IoT logs in CloudWatch)',
    source: 'https://docs.aws.amazon.com/iot/latest/developerguide/iot-using-cloudtrail.html'
  },
  {
    patterns: [
      'iot:List*',
      'iot:Describe*',
      'iot:Get*',
      'iot:SearchIndex',
      'iot:TestAuthorization',
      'iot:TestInvokeAuthorizer',
      'iot:ValidateSecurityProfileBehaviors'
    ],
    reason:
      'AWS IoT records the control-plane calls that make changes; reads such as ListThings and ListTopicRules leave no CloudTrail entry',
    source: 'https://docs.aws.amazon.com/iot/latest/developerguide/iot-using-cloudtrail.html'
  },
  {
    patterns: ['ec2messages:*'],
    reason: 'SSM agent message channel: ec2messages calls are not recorded in CloudTrail',
    source:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-setting-up-messageAPIs.html'
  },
  {
    patterns: ['ssmmessages:*'],
    reason: 'SSM agent and Session Manager channel: ssmmessages calls are not recorded in CloudTrail',
    source:
      'https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-setting-up-messageAPIs.html'
  }
]
