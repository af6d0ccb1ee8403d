import { describe, expect, test } from '@jest/globals'
import { loadCatalog } from '../../src/policy/catalog.js'
import {
  DENIED_MESSAGE_PATTERN,
  RENAMED_EVENTS,
  actionsOfEvent,
  classifyEvent,
  isDeniedError,
  serviceOfEventSource
} from '../../src/usage/cloudtrail/map-event.js'
import { DATA, jsonFiles, recordsOf } from './trail-fixtures.js'

const catalog = loadCatalog()
const deniedMessage = new RegExp(DENIED_MESSAGE_PATTERN, 'i')

function classify(r: Record<string, unknown>) {
  const errorCode = typeof r.errorCode === 'string' ? r.errorCode : ''
  return classifyEvent(catalog, {
    eventSource: String(r.eventSource),
    eventName: String(r.eventName),
    eventType: typeof r.eventType === 'string' ? r.eventType : '',
    errorCode,
    deniedByMessage:
      errorCode !== '' && deniedMessage.test(typeof r.errorMessage === 'string' ? r.errorMessage : '')
  })
}

describe('every event of the real records', () => {
  const records = jsonFiles(DATA).flatMap(recordsOf)
  const tally: Record<string, number> = {}
  const unmapped: Record<string, number> = {}
  const deniedCodes: Record<string, number> = {}
  const notActions: Record<string, number> = {}
  for (const r of records) {
    const cls = classify(r)
    tally[cls.kind] = (tally[cls.kind] ?? 0) + 1
    const name = `${String(r.eventSource)} ${String(r.eventName)}`
    if (cls.kind === 'unmapped') unmapped[name] = (unmapped[name] ?? 0) + 1
    if (cls.kind === 'denied') deniedCodes[String(r.errorCode)] = (deniedCodes[String(r.errorCode)] ?? 0) + 1
    if (cls.kind === 'not-an-action')
      notActions[`${String(r.eventType)} ${name}`] = (notActions[`${String(r.eventType)} ${name}`] ?? 0) + 1
  }

  test('falls in exactly one class, with pinned counts', () => {
    // 90 files, 3210 events (counted from the data with jq-independent code in this test).
    expect(records).toHaveLength(3210)
    expect(tally).toEqual({ used: 3031, denied: 111, 'not-an-action': 46, permissionless: 18, unmapped: 4 })
  })

  test('the only unmapped event is an internal S3 console call with no IAM action', () => {
    expect(unmapped).toEqual({ 's3.amazonaws.com GetStorageLensDashboardDataInternal': 4 })
  })

  test('denied calls are the authorization errors present in the data', () => {
    expect(deniedCodes).toEqual({ AccessDenied: 21, 'Client.UnauthorizedOperation': 90 })
  })

  test('service events and console sign-ins are not IAM actions', () => {
    expect(notActions).toEqual({
      'AwsServiceEvent ec2.amazonaws.com SharedSnapshotVolumeCreated': 2,
      'AwsServiceEvent secretsmanager.amazonaws.com StartSecretVersionDelete': 20,
      'AwsServiceEvent secretsmanager.amazonaws.com EndSecretVersionDelete': 20,
      'AwsConsoleSignIn signin.amazonaws.com ConsoleLogin': 3,
      'AwsConsoleSignIn signin.amazonaws.com CheckMfa': 1
    })
  })

  test('errors that are not authorization errors still count as used', () => {
    const failedButUsed = records
      .filter(r => r.errorCode && classify(r).kind === 'used')
      .map(r => String(r.errorCode))
    expect(new Set(failedButUsed)).toEqual(
      new Set([
        'NoSuchPublicAccessBlockConfiguration',
        'NoSuchBucketPolicy',
        'ThrottlingException',
        'Client.InvalidParameterValue',
        'InvocationDoesNotExist',
        'NoSuchLifecycleConfiguration',
        'NoSuchTagSet',
        'TrailNotFoundException',
        'NoSuchCORSConfiguration',
        'ReplicationConfigurationNotFoundError',
        'ObjectLockConfigurationNotFoundError',
        'NoSuchWebsiteConfiguration',
        'InvalidInstanceId',
        'BucketNotEmpty',
        'Client.InvalidRouteTableID.NotFound',
        'Client.VcpuLimitExceeded',
        'Client.InvalidVolume.NotFound',
        'Client.InvalidAttachmentID.NotFound',
        'Client.VpcLimitExceeded',
        'InvalidAccessException',
        'Client.InvalidVpcID.NotFound',
        'Client.InvalidPermission.NotFound',
        'Client.InvalidInternetGatewayID.NotFound',
        'NoSuchEntityException',
        'Client.InvalidAllocationID.NotFound',
        'Client.InvalidGroup.NotFound',
        'InvalidDBInstanceStateFault',
        'ResourceNotFoundException',
        'InvalidParameterValueException',
        'Client.InvalidSubnetID.NotFound',
        'EntityTemporarilyUnmodifiableException'
      ])
    )
  })

  test('renamed and versioned event names in the data map to their IAM actions', () => {
    const used = (source: string, name: string) => {
      const r = records.find(x => x.eventSource === source && x.eventName === name)!
      const cls = classify(r)
      return cls.kind === 'used' ? cls.actions : cls.kind
    }
    expect(used('s3.amazonaws.com', 'ListBuckets')).toEqual(['s3:ListAllMyBuckets'])
    expect(used('s3.amazonaws.com', 'GetBucketCors')).toEqual(['s3:GetBucketCORS'])
    expect(used('s3.amazonaws.com', 'GetBucketLifecycle')).toEqual(['s3:GetLifecycleConfiguration'])
    expect(used('s3.amazonaws.com', 'GetBucketReplication')).toEqual(['s3:GetReplicationConfiguration'])
    expect(used('s3.amazonaws.com', 'DeleteBucketLifecycle')).toEqual(['s3:PutLifecycleConfiguration'])
    expect(used('lambda.amazonaws.com', 'GetFunction20150331v2')).toEqual(['lambda:GetFunction'])
    expect(used('lambda.amazonaws.com', 'CreateFunction20150331')).toEqual(['lambda:CreateFunction'])
    expect(used('monitoring.amazonaws.com', 'DescribeAlarms')).toEqual(['cloudwatch:DescribeAlarms'])
    expect(used('servicecatalog-appregistry.amazonaws.com', 'ListApplications')).toEqual([
      'servicecatalog:ListApplications'
    ])
    expect(used('sts.amazonaws.com', 'GetCallerIdentity')).toBe('permissionless')
  })
})

describe('mapping tables', () => {
  test('every rename target is a catalog action', () => {
    const missing: string[] = []
    for (const [service, renames] of Object.entries(RENAMED_EVENTS)) {
      for (const targets of Object.values(renames)) {
        for (const t of targets) if (!catalog.action(`${service}:${t}`)) missing.push(`${service}:${t}`)
      }
    }
    expect(missing).toEqual([])
  })

  test('event sources whose prefix differs', () => {
    const cases: [string, string][] = [
      ['monitoring.amazonaws.com', 'cloudwatch'],
      ['appstream2.amazonaws.com', 'appstream'],
      ['models.lex.amazonaws.com', 'lex'],
      ['runtime.lex.amazonaws.com', 'lex'],
      ['streams.dynamodb.amazonaws.com', 'dynamodb'],
      ['tagging.amazonaws.com', 'tag'],
      ['mturk-requester.amazonaws.com', 'mechanicalturk'],
      ['cloudcontrolapi.amazonaws.com', 'cloudformation'],
      ['rdsdata.amazonaws.com', 'rds-data'],
      ['s3.amazonaws.com', 's3'],
      ['resource-explorer-2.amazonaws.com', 'resource-explorer-2']
    ]
    for (const [source, prefix] of cases)
      expect([source, serviceOfEventSource(catalog, source)]).toEqual([source, prefix])
    expect(serviceOfEventSource(catalog, 'no-such-service.amazonaws.com')).toBeUndefined()
  })

  test('renames that need two actions, and names that map to nothing', () => {
    expect(actionsOfEvent(catalog, 'kms', 'ReEncrypt')).toEqual(['kms:ReEncryptFrom', 'kms:ReEncryptTo'])
    expect(actionsOfEvent(catalog, 's3', 'CopyObject')).toEqual(['s3:PutObject', 's3:GetObject'])
    expect(actionsOfEvent(catalog, 'lambda', 'Invoke')).toEqual(['lambda:InvokeFunction'])
    expect(actionsOfEvent(catalog, 's3', 'headobject')).toBeUndefined()
    expect(actionsOfEvent(catalog, 'cloudfront', 'CreateDistribution2020_05_31')).toEqual([
      'cloudfront:CreateDistribution'
    ])
    expect(actionsOfEvent(catalog, 'ec2', 'NoSuchCall')).toBeUndefined()
    expect(actionsOfEvent(catalog, 'ec2', 'describeinstances')).toEqual(['ec2:DescribeInstances'])
  })

  test('authorization errors are denied, other errors are not', () => {
    for (const code of [
      'AccessDenied',
      'AccessDeniedException',
      'Client.UnauthorizedOperation',
      'UnauthorizedOperation',
      'SomeUnauthorizedAccessError',
      'AuthorizationError'
    ]) {
      expect([code, isDeniedError(code, false)]).toEqual([code, true])
    }
    for (const code of [
      '',
      'ThrottlingException',
      'Client.VcpuLimitExceeded',
      'ValidationException',
      'NotAuthorizedException',
      'InvalidAccessException'
    ]) {
      expect([code, isDeniedError(code, false)]).toEqual([code, false])
    }
    expect(isDeniedError('AuthorizationErrorException', false)).toBe(true)
    expect(isDeniedError('SomeServiceSpecificError', true)).toBe(true)
  })
})
