/** What CloudTrail cannot show is never removed: never-logged authorizations, dependent actions, caller-named resources. */
import { readFileSync } from 'node:fs'
import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalogIndex } from '../../src/policy/catalog.js'
import { DEPENDENT_ACTIONS } from '../../src/policy/dependent-actions.js'
import { NEVER_LOGGED } from '../../src/policy/never-logged.js'
import { proposePolicies } from '../../src/policy/propose.js'
import type { RoleGrants, RoleUsage } from '../../src/model.js'
import { OPTIONS, allowing, managed, role, unobservableReason, usageOf } from './builders.js'

const catalog = loadCatalogIndex()
const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')

function classes(grants: RoleGrants, usage: RoleUsage) {
  const analysis = analyzeRole(grants, usage, OPTIONS)
  return {
    analysis,
    excess: analysis.excess.map(e => e.action),
    reason: (action: string) => unobservableReason(analysis, action)
  }
}

describe('authorizations CloudTrail never records', () => {
  test('database, API Gateway, OpenSearch, Neptune and CloudSearch data-plane grants are unobservable, not excess', () => {
    const grants = allowing([
      'rds-db:connect',
      'execute-api:Invoke',
      'execute-api:ManageConnections',
      'es:ESHttpGet',
      'es:ESHttpPost',
      'neptune-db:ReadDataViaQuery',
      'cloudsearch:search',
      'ec2:DescribeVpcs'
    ])
    const { excess, reason } = classes(grants, usageOf(['sts:GetCallerIdentity']))
    expect(excess).toEqual(['ec2:DescribeVpcs'])
    expect(reason('rds-db:connect')).toMatch(/IAM database authentication/)
    expect(reason('execute-api:Invoke')).toMatch(/API Gateway service API only/)
    expect(reason('execute-api:ManageConnections')).toMatch(/@connections/)
    expect(reason('es:ESHttpGet')).toMatch(/not captured by CloudTrail/)
    expect(reason('neptune-db:ReadDataViaQuery')).toMatch(/Neptune data access/)
    expect(reason('cloudsearch:search')).toMatch(/CloudSearch/)
  })

  test('cache IAM authentication and Kafka data calls are unobservable; the Kafka calls MSK records stay excess', () => {
    const grants = allowing([
      'elasticache:Connect',
      'memorydb:Connect',
      'kafka-cluster:Connect',
      'kafka-cluster:ReadData',
      'kafka-cluster:WriteData',
      'kafka-cluster:DescribeGroup',
      'kafka-cluster:DeleteTopic'
    ])
    const { excess, reason } = classes(grants, usageOf(['sts:GetCallerIdentity']))
    expect(excess).toEqual(['kafka-cluster:DeleteTopic'])
    expect(reason('elasticache:Connect')).toMatch(/signs its own token/)
    expect(reason('kafka-cluster:ReadData')).toMatch(/not connecting, producing, consuming/)
  })

  test('AWS IoT device-side calls and IoT reads are unobservable; IoT changes stay excess', () => {
    const grants = allowing([
      'iot:Connect',
      'iot:Publish',
      'iot:UpdateThingShadow',
      'iot:ListThings',
      'iot:CreateThing'
    ])
    const { excess, reason } = classes(grants, usageOf(['sts:GetCallerIdentity']))
    expect(excess).toEqual(['iot:CreateThing'])
    expect(reason('iot:Publish')).toMatch(/device-side data plane/)
    expect(reason('iot:UpdateThingShadow')).toMatch(/device-side data plane/)
    expect(reason('iot:ListThings')).toMatch(/reads such as ListThings/)
  })

  test('data events of AppSync, DSQL, Verified Permissions, Keyspaces, SageMaker and Bedrock are kept when none is logged', () => {
    const actions = [
      'appsync:GraphQL',
      'dsql:DbConnect',
      'verifiedpermissions:IsAuthorized',
      'cassandra:Select',
      'sagemaker:InvokeEndpoint',
      'bedrock:InvokeAgent',
      'bedrock:Retrieve'
    ]
    const grants = allowing([...actions, 'appsync:DeleteGraphqlApi'])
    const { excess, reason } = classes(grants, usageOf(['sts:GetCallerIdentity']))
    expect(excess).toEqual(['appsync:DeleteGraphqlApi'])
    for (const action of actions) {
      expect({ action, reason: reason(action) }).toEqual({
        action,
        reason: expect.stringMatching(/^data event: no \S+ data events were found/)
      })
    }
  })

  test('every table entry names catalog actions and an AWS page the README cites', () => {
    const covered = new Set<number>()
    for (const entry of NEVER_LOGGED) {
      expect(entry.source).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//)
      expect(readme).toContain(entry.source)
      for (const pattern of entry.patterns) {
        const ids = catalog.expandIds(pattern)
        expect({ pattern, matches: ids.length > 0 }).toEqual({ pattern, matches: true })
        ids.forEach(id => covered.add(id))
      }
    }
    expect(readme).toContain(`${covered.size} catalog actions`)
  })
})

describe('dependent actions', () => {
  test('CloudWatch Logs delivery permissions are kept when a vended-log configuration call was used', () => {
    const grants = allowing([
      'ec2:ModifyVerifiedAccessInstanceLoggingConfiguration',
      'logs:CreateLogDelivery',
      'logs:DeleteLogDelivery',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries',
      'logs:UpdateLogDelivery',
      'logs:DeleteLogGroup'
    ])
    const used = classes(grants, usageOf(['ec2:ModifyVerifiedAccessInstanceLoggingConfiguration']))
    expect(used.excess).toEqual(['logs:DeleteLogGroup'])
    expect(used.reason('logs:CreateLogDelivery')).toMatch(
      /inside ec2:ModifyVerifiedAccessInstanceLoggingConfiguration calls/
    )
    // Without the configuration call the same permissions are excess: the table does not hide them all.
    const unused = classes(grants, usageOf(['ec2:DescribeVpcs']))
    expect(unused.excess).toContain('logs:CreateLogDelivery')
  })

  test('tags given at creation keep only the tagging actions on what the call creates', () => {
    const grants = allowing([
      's3:PutObject',
      's3:PutObjectTagging',
      's3:PutBucketTagging',
      'ec2:RunInstances',
      'ec2:CreateTags'
    ])
    const { excess, reason } = classes(
      grants,
      usageOf(['s3:PutObject', 'ec2:RunInstances'], { evidence: { notes: [], dataEventsSeen: ['s3'] } })
    )
    expect(excess).toEqual(['s3:PutBucketTagging'])
    expect(reason('ec2:CreateTags')).toMatch(/tags given when creating a resource/)
  })

  test('reading a logging configuration hides no delivery or resource-policy permission', () => {
    const writes = [
      's3:PutBucketPolicy',
      'logs:PutResourcePolicy',
      'logs:CreateLogDelivery',
      'iam:CreateServiceLinkedRole'
    ]
    const grants = allowing(writes)
    const reads = [
      'ec2:DescribeFlowLogs',
      's3:GetBucketLogging',
      'logs:GetLogDelivery',
      'logs:ListLogDeliveries'
    ]
    const { excess } = classes(grants, usageOf(reads))
    expect([...excess].sort()).toEqual([...writes].sort())
  })

  test('CopyObject keeps the tagging, annotation and ACL checks made on its source and destination', () => {
    const copyChecks = [
      's3:GetObjectTagging',
      's3:PutObjectTagging',
      's3:GetObjectAnnotation',
      's3:PutObjectAnnotation',
      's3:GetObjectAcl',
      's3:PutObjectAcl'
    ]
    const grants = allowing(['s3:GetObject', 's3:PutObject', ...copyChecks])
    const evidence = { notes: [], dataEventsSeen: ['s3'] }
    const copied = classes(
      grants,
      usageOf(
        [
          { action: 's3:GetObject', resources: ['*'], operations: ['s3:CopyObject'] },
          { action: 's3:PutObject', resources: ['*'], operations: ['s3:CopyObject'] }
        ],
        { evidence }
      )
    )
    expect(copied.excess).toEqual([])
    for (const action of copyChecks) expect(copied.reason(action)).toMatch(/inside s3:CopyObject calls/)
    // A plain download and upload do not read the source's tags or annotations.
    const plain = classes(grants, usageOf(['s3:GetObject', 's3:PutObject'], { evidence }))
    expect(plain.excess).toEqual(['s3:GetObjectAcl', 's3:GetObjectAnnotation', 's3:GetObjectTagging'])
  })

  test('every companion pattern names catalog actions', () => {
    for (const entry of DEPENDENT_ACTIONS) {
      for (const pattern of entry.companions) {
        expect({ pattern, matches: catalog.expandIds(pattern).length > 0 }).toEqual({
          pattern,
          matches: true
        })
      }
    }
  })
})

describe('resources named by the caller are never narrowed', () => {
  const account = '111122223333'
  const queue = (name: string) => `arn:aws:sqs:us-east-1:${account}:${name}`
  const parameter = (name: string) => `arn:aws:ssm:us-east-1:${account}:parameter/${name}`
  const builds = ['ci-build-1', 'ci-build-2', 'ci-build-3']

  test('create, put and delete calls and calls on resources created in the window keep the statement resource', () => {
    const grants = allowing([
      's3:CreateBucket',
      'sqs:CreateQueue',
      'sqs:DeleteQueue',
      'sqs:SendMessage',
      'ssm:PutParameter',
      'ssm:GetParameter'
    ])
    const usage = usageOf(
      [
        { action: 's3:CreateBucket', resources: builds.map(b => `arn:aws:s3:::${b}`) },
        { action: 'sqs:CreateQueue', resources: builds.map(queue) },
        { action: 'sqs:DeleteQueue', resources: builds.map(queue) },
        // Sent to the queues the window created, and to one that existed before it.
        { action: 'sqs:SendMessage', resources: [...builds.map(queue)] },
        { action: 'ssm:PutParameter', resources: builds.map(parameter) },
        { action: 'ssm:GetParameter', resources: [parameter('app/db-host')] }
      ],
      { evidence: { notes: [], dataEventsSeen: ['sqs'] } }
    )
    const analysis = analyzeRole(grants, usage, OPTIONS)
    const proposal = proposePolicies(grants, usage, analysis, OPTIONS)
    expect(proposal.outcome).toBe('proposed')
    const statements = proposal.policies.flatMap(p => p.document.Statement)
    const resourceOf = (action: string) =>
      statements.find(s => ([] as string[]).concat(s.Action as string | string[]).includes(action))?.Resource
    for (const action of [
      's3:CreateBucket',
      'sqs:CreateQueue',
      'sqs:DeleteQueue',
      'sqs:SendMessage',
      'ssm:PutParameter'
    ]) {
      expect({ action, resource: resourceOf(action) }).toEqual({ action, resource: '*' })
    }
    // A parameter that existed before the window and was only read is still narrowed.
    expect(resourceOf('ssm:GetParameter')).toEqual([parameter('app/db-host')])
  })

  test('calls on resources the role created without the records naming them keep the statement resource', () => {
    // A CreateQueue or PutParameter management event names its queue or parameter only in its request, so it
    // carries no resource; the queues it created are then used by name in data events.
    const grants = allowing([
      'sqs:CreateQueue',
      'sqs:SendMessage',
      'kms:Decrypt',
      'ecr:BatchImportUpstreamImage'
    ])
    const key = `arn:aws:kms:us-east-1:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`
    const usage = usageOf(
      [
        { action: 'sqs:CreateQueue', resources: ['*'] },
        { action: 'sqs:SendMessage', resources: builds.map(queue) },
        { action: 'kms:Decrypt', resources: [key] },
        // A pull-through cache imports into repositories named by the image pulled, created on first pull.
        {
          action: 'ecr:BatchImportUpstreamImage',
          resources: [`arn:aws:ecr:us-east-1:${account}:repository/ecr-public/library/nginx`]
        }
      ],
      { evidence: { notes: [], dataEventsSeen: ['sqs'] } }
    )
    const analysis = analyzeRole(grants, usage, OPTIONS)
    const statements = proposePolicies(grants, usage, analysis, OPTIONS).policies.flatMap(
      p => p.document.Statement
    )
    const resourceOf = (action: string) =>
      statements.find(s => ([] as string[]).concat(s.Action as string | string[]).includes(action))?.Resource
    expect(resourceOf('sqs:SendMessage')).toBe('*')
    expect(resourceOf('ecr:BatchImportUpstreamImage')).toBe('*')
    // Another service's resources that existed before the window are still narrowed.
    expect(resourceOf('kms:Decrypt')).toEqual([key])
  })
})

describe('what a trail may leave out is unknown, not excess', () => {
  const admin = () => role('admin', [managed('AdministratorAccess')])
  const seen = (...list: string[]) =>
    usageOf(['sts:GetCallerIdentity', 'ec2:DescribeInstances', 'ec2:RunInstances'], {
      evidence: { notes: [], managementEventsSeen: list }
    })

  test('KMS and RDS Data API permissions are unknown when no principal has such an event; the rest stays excess', () => {
    const { excess, reason } = classes(admin(), seen('read', 'write'))
    expect(reason('kms:Decrypt')).toMatch(
      /unknown whether logged: the records hold no KMS event from any principal/
    )
    expect(reason('rds-data:ExecuteStatement')).toMatch(/no RDS Data API event/)
    // AdministratorAccess keeps its excess: every other service's management events are logged.
    expect(excess).toEqual(
      expect.arrayContaining(['ec2:TerminateInstances', 'iam:CreateUser', 's3:DeleteBucket'])
    )
    expect(excess.length).toBeGreaterThan(10000)
    expect(excess).not.toContain('kms:Decrypt')
  })

  test('once a KMS event from any principal is in the records, unused KMS permissions are excess', () => {
    const { excess } = classes(admin(), seen('read', 'write', 'kms.amazonaws.com', 'rdsdata.amazonaws.com'))
    expect(excess).toEqual(expect.arrayContaining(['kms:Decrypt', 'rds-data:ExecuteStatement']))
  })

  test('records without a read-only management event leave the read half unknown', () => {
    const { excess, reason } = classes(admin(), seen('write', 'kms.amazonaws.com', 'rdsdata.amazonaws.com'))
    expect(reason('ec2:DescribeVpcs')).toMatch(/no read-only management event from any principal/)
    expect(excess).toContain('ec2:TerminateInstances')
    expect(excess).not.toContain('ec2:DescribeVpcs')
  })

  test('Access Analyzer reads the same trail: what its configuration leaves out is unobservable there too', () => {
    const analyzer = (trailLogging?: RoleUsage['evidence']['trailLogging']) =>
      usageOf(['ec2:RunInstances'], {
        source: 'access-analyzer',
        evidence: { notes: [], ...(trailLogging ? { trailLogging } : {}) }
      })
    const excluded = classes(
      admin(),
      analyzer({
        origin: 'trail',
        managementRead: true,
        managementWrite: true,
        excludedSources: ['kms.amazonaws.com']
      })
    )
    expect(excluded.reason('kms:ScheduleKeyDeletion')).toMatch(/not logged: the trail excludes/)
    expect(excluded.excess).toContain('ec2:TerminateInstances')
    // Without the configuration there are no records to judge from: nothing becomes unknown.
    const unknown = classes(admin(), analyzer())
    expect(unknown.excess).toEqual(
      expect.arrayContaining(['kms:ScheduleKeyDeletion', 'ec2:TerminateInstances'])
    )
  })

  test('a trail without the read half never records KMS cryptography or AssumeRole, which IAM files under Write', () => {
    const writeOnly = usageOf(['ec2:RunInstances'], {
      evidence: {
        notes: [],
        trailLogging: { origin: 'options', managementRead: false, managementWrite: true, excludedSources: [] }
      }
    })
    const stated = classes(admin(), writeOnly)
    const unseen = classes(admin(), seen('write', 'kms.amazonaws.com', 'rdsdata.amazonaws.com'))
    for (const action of ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:Encrypt', 'sts:AssumeRole']) {
      expect({ action, reason: stated.reason(action) }).toEqual({
        action,
        reason: expect.stringMatching(/not logged: the trail does not log read-only management events/)
      })
      expect({ action, reason: unseen.reason(action) }).toEqual({
        action,
        reason: expect.stringMatching(/no read-only management event from any principal/)
      })
    }
    expect(stated.excess).toEqual(
      expect.arrayContaining(['ec2:TerminateInstances', 'kms:ScheduleKeyDeletion'])
    )
  })
})
