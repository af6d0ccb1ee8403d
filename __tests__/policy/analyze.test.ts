import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { isPrivilegeEscalation } from '../../src/policy/escalation.js'
import { isPermissionless } from '../../src/policy/permissionless.js'
import { unobservableReason } from '../../src/policy/unobservable.js'
import { OPTIONS, allowing, doc, inline, managed, role, usageOf } from './builders.js'
import { ENUMERATE_SSM_CALLS, STEAL_CREDENTIALS_SSM_CALLS } from '../support/stratus-facts.js'

const catalog = loadCatalog()

// Calls of the real Stratus roles in the sample CloudTrail data (invictus-aws-dataset): authorized calls only.
const SSM_AGENT_STEAL = STEAL_CREDENTIALS_SSM_CALLS
const SSM_AGENT_ENUMERATE = ENUMERATE_SSM_CALLS
const SSM_CORE = catalog
  .expand('*')
  .filter(a => /^(ssm|ssmmessages|ec2messages):/.test(a))
  .filter(a =>
    [
      'ssm:DescribeAssociation',
      'ssm:GetDeployablePatchSnapshotForInstance',
      'ssm:GetDocument',
      'ssm:DescribeDocument',
      'ssm:GetManifest',
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ssm:ListAssociations',
      'ssm:ListInstanceAssociations',
      'ssm:PutInventory',
      'ssm:PutComplianceItems',
      'ssm:PutConfigurePackageResult',
      'ssm:UpdateAssociationStatus',
      'ssm:UpdateInstanceAssociationStatus',
      'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel',
      'ssmmessages:CreateDataChannel',
      'ssmmessages:OpenControlChannel',
      'ssmmessages:OpenDataChannel',
      'ec2messages:AcknowledgeMessage',
      'ec2messages:DeleteMessage',
      'ec2messages:FailMessage',
      'ec2messages:GetEndpoint',
      'ec2messages:GetMessages',
      'ec2messages:SendReply'
    ].includes(a)
  )
const DESCRIBE_STAR = { Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }

describe('analyzeRole on the real Stratus roles', () => {
  test('ec2-steal-credentials: inline ec2:Describe* + AmazonSSMManagedInstanceCore', () => {
    const grants = role('stratus-red-team-ec2-steal-credentials-role', [
      inline('ec2-describe', doc(DESCRIBE_STAR)),
      managed('AmazonSSMManagedInstanceCore')
    ])
    const usage = usageOf(['ec2:DescribeInstances', ...SSM_AGENT_STEAL, 'sts:GetCallerIdentity'])
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(analysis.used).toEqual(['ec2:DescribeInstances', ...SSM_AGENT_STEAL].sort())
    expect(analysis.usedNotGranted).toEqual([])
    const describe = catalog.expand('ec2:Describe*')
    expect(analysis.grantedCount).toBe(describe.length + SSM_CORE.length)
    const excess = analysis.excess.map(e => e.action)
    // The agent's message channels never reach CloudTrail: unobservable, kept, never excess.
    const channels = SSM_CORE.filter(a => /^(ec2messages|ssmmessages):/.test(a))
    expect(channels).toHaveLength(10)
    expect(excess).toHaveLength(
      describe.length - 1 + SSM_CORE.length - SSM_AGENT_STEAL.length - channels.length
    )
    expect(excess).not.toContain('ec2:DescribeInstances')
    expect(excess).not.toContain('ec2messages:GetMessages')
    expect(excess).toEqual(expect.arrayContaining(['ec2:DescribeVpcs', 'ssm:GetParameter']))
    expect(analysis.excess.find(e => e.action === 'ssm:GetParameter')).toEqual({
      action: 'ssm:GetParameter',
      accessLevel: 'Read',
      grantedBy: ['AmazonSSMManagedInstanceCore']
    })
    expect(analysis.excess.find(e => e.action === 'ec2:DescribeVpcs')?.grantedBy).toEqual(['ec2-describe'])
    expect(analysis.unobservable.map(u => u.action).sort()).toEqual([...channels].sort())
    expect(analysis.unobservable[0]?.reason).toMatch(/not recorded in CloudTrail/)
    expect(analysis.conditional).toEqual([])
  })

  test('excess is ranked by access level, then name', () => {
    const grants = role('r', [managed('AmazonSSMManagedInstanceCore')])
    const analysis = analyzeRole(grants, usageOf(SSM_AGENT_ENUMERATE), OPTIONS)
    const ranks = ['Permissions management', 'Write', 'Tagging', 'Read', 'List']
    const keys = analysis.excess.map(e => [ranks.indexOf(e.accessLevel), e.action.toLowerCase()] as const)
    const sorted = [...keys].sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1))
    expect(keys).toEqual(sorted)
    expect(analysis.excess.map(e => e.action).sort()).toEqual(
      SSM_CORE.filter(a => !SSM_AGENT_ENUMERATE.includes(a) && !/^(ec2messages|ssmmessages):/.test(a)).sort()
    )
  })

  test('get-password-data: every call denied, so nothing is used and all of ec2:Describe* is excess', () => {
    const grants = role('stratus-red-team-ec2-get-password-data-role', [inline('p', doc(DESCRIBE_STAR))])
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    expect(analysis.used).toEqual([])
    expect(analysis.excess).toHaveLength(catalog.expand('ec2:Describe*').length)
  })

  test('Access Analyzer counts denied calls: reported as used but not granted', () => {
    const grants = role('stratus-red-team-leave-org-role', [inline('p', doc(DESCRIBE_STAR))])
    const analysis = analyzeRole(
      grants,
      usageOf(['organizations:LeaveOrganization'], {}, 'access-analyzer'),
      OPTIONS
    )
    expect(analysis.used).toEqual(['organizations:LeaveOrganization'])
    expect(analysis.usedNotGranted).toEqual(['organizations:LeaveOrganization'])
  })

  test('ec2lui: a non-authorization error (VcpuLimitExceeded) still proves the call was allowed', () => {
    const grants = role('stratus-red-team-ec2lui-role-x', [
      inline('p', doc({ Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }))
    ])
    const analysis = analyzeRole(grants, usageOf(['ec2:RunInstances']), OPTIONS)
    expect(analysis.usedNotGranted).toEqual(['ec2:RunInstances'])
    expect(analysis.excess.map(e => e.action)).toEqual(['ec2:DescribeInstances'])
  })

  test('sts:GetCallerIdentity needs no permission and is not usage', () => {
    expect(isPermissionless('STS:GetCallerIdentity')).toBe(true)
    expect(isPermissionless('sts:AssumeRole')).toBe(false)
    const grants = allowing('sts:*')
    const analysis = analyzeRole(grants, usageOf(['sts:GetCallerIdentity']), OPTIONS)
    expect(analysis.used).toEqual([])
    expect(analysis.excess.map(e => e.action)).toContain('sts:GetCallerIdentity')
  })
})

describe('analyzeRole on wide AWS managed policies', () => {
  test('AdministratorAccess: every catalog action granted; escalation flagged; PassRole unobservable', () => {
    const analysis = analyzeRole(
      role('admin', [managed('AdministratorAccess')]),
      usageOf(['s3:ListAllMyBuckets']),
      OPTIONS
    )
    expect(analysis.grantedCount).toBe(catalog.expand('*').length)
    expect(analysis.excess.length + analysis.unobservable.length + 1).toBe(analysis.grantedCount)
    expect(analysis.excess[0]?.accessLevel).toBe('Permissions management')
    expect(analysis.excess.find(e => e.action === 'iam:CreatePolicyVersion')?.risk).toBe(
      'privilege-escalation'
    )
    expect(analysis.excess.find(e => e.action === 's3:ListBucket')).toBeUndefined()
    expect(analysis.unobservable.find(u => u.action === 'iam:PassRole')?.reason).toMatch(
      /never recorded in CloudTrail/
    )
    expect(analysis.unobservable.find(u => u.action === 's3:GetObject')?.reason).toMatch(/no s3 data events/)
  })

  test('PowerUserAccess: NotAction leaves iam:* out except the listed actions', () => {
    const analysis = analyzeRole(role('power', [managed('PowerUserAccess')]), usageOf([]), OPTIONS)
    const granted = new Set([
      ...analysis.excess.map(e => e.action),
      ...analysis.unobservable.map(u => u.action)
    ])
    expect(granted.has('iam:CreateUser')).toBe(false)
    expect(granted.has('iam:PassRole')).toBe(false)
    expect(granted.has('iam:ListRoles')).toBe(true)
    expect(granted.has('organizations:DescribeOrganization')).toBe(true)
    expect(granted.has('organizations:LeaveOrganization')).toBe(false)
    expect(granted.has('ec2:RunInstances')).toBe(true)
    const outside =
      catalog.expand('iam:*').length +
      catalog.expand('organizations:*').length +
      catalog.expand('account:*').length
    expect(analysis.grantedCount).toBe(catalog.expand('*').length - outside + 9)
  })

  test('ReadOnlyAccess: hundreds of wildcards; actions the catalog does not know are reported', () => {
    const analysis = analyzeRole(
      role('ro', [managed('ReadOnlyAccess')]),
      usageOf(['ec2:DescribeInstances']),
      OPTIONS
    )
    expect(analysis.grantedCount).toBeGreaterThan(5000)
    expect(
      analysis.excess.every(e => e.grantedBy[0]?.startsWith('ReadOnlyAccess#ReadOnlyActionsGroup'))
    ).toBe(true)
    expect(analysis.unknownActions).toEqual(expect.arrayContaining(['deepcomposer:GetComposition']))
    expect(analysis.unknownActions.every(a => catalog.expand(a).length === 0)).toBe(true)
  })
})

describe('analyzeRole semantics', () => {
  test('an unconditional Deny removes actions; a conditional Allow is reported apart', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Sid: 'S3', Effect: 'Allow', Action: 's3:*', Resource: '*' },
          { Effect: 'Deny', Action: 's3:Delete*', Resource: '*' },
          { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::one/*' },
          {
            Sid: 'Ec2',
            Effect: 'Allow',
            Action: 'ec2:StartInstances',
            Resource: '*',
            Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }
          }
        )
      )
    ])
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    const listed = [...analysis.excess.map(e => e.action), ...analysis.unobservable.map(u => u.action)]
    expect(listed).not.toContain('s3:DeleteBucket')
    expect(listed).not.toContain('s3:DeleteObject')
    // Denied on one bucket only: still granted elsewhere.
    expect(listed).toContain('s3:PutObject')
    expect(analysis.conditional).toEqual([{ action: 'ec2:StartInstances', grantedBy: ['p#Ec2'] }])
  })

  test('a Deny that covers every resource of the Allow removes the action; a narrower one does not', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          {
            Effect: 'Allow',
            Action: ['s3:GetBucketPolicy', 's3:GetBucketTagging'],
            Resource: 'arn:aws:s3:::logs-a'
          },
          { Effect: 'Deny', Action: 's3:GetBucketPolicy', Resource: 'arn:aws:s3:::logs-*' },
          { Effect: 'Deny', Action: 's3:GetBucketTagging', Resource: 'arn:aws:s3:::logs-b' }
        )
      )
    ])
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    expect(analysis.excess.map(e => e.action)).toEqual(['s3:GetBucketTagging'])
  })

  test('permissions boundary intersects', () => {
    const grants = role('r', [managed('AdministratorAccess')], {
      boundary: inline(
        'boundary',
        doc({ Effect: 'Allow', Action: ['s3:Get*', 'ec2:DescribeInstances'], Resource: '*' })
      )
    })
    const analysis = analyzeRole(grants, usageOf(['ec2:RunInstances']), OPTIONS)
    expect(analysis.grantedCount).toBe(catalog.expand('s3:Get*').length + 1)
    expect(analysis.usedNotGranted).toEqual(['ec2:RunInstances'])
  })

  test('keep-actions and keep-Sid statements are kept, never excess', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          {
            Effect: 'Allow',
            Action: ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:PutParameter'],
            Resource: '*'
          },
          { Sid: 'KeepBreakGlass', Effect: 'Allow', Action: 'iam:CreateUser', Resource: '*' }
        )
      )
    ])
    const analysis = analyzeRole(grants, usageOf([]), {
      keepActions: ['ssm:GetParameter?'],
      keepSidPrefix: 'Keep'
    })
    expect(analysis.kept).toEqual(['iam:CreateUser', 'ssm:GetParameters'])
    expect(analysis.excess.map(e => e.action)).toEqual(['ssm:PutParameter', 'ssm:GetParameter'])
  })

  test('data events: unobservable for Access Analyzer, observable for CloudTrail once seen; service-level only', () => {
    const grants = allowing(['s3:GetObject', 'lambda:InvokeFunction', 'kms:Decrypt'])
    const aa = analyzeRole(grants, usageOf([], {}, 'access-analyzer'), OPTIONS)
    expect(aa.unobservable.map(u => u.action)).toEqual(['lambda:InvokeFunction', 's3:GetObject'])
    // S3 read data events seen (a ListBucket call): the trail logs them, so an unused GetObject is excess.
    const ct = analyzeRole(
      grants,
      usageOf(['s3:ListBucket'], { evidence: { notes: [], dataEventsSeen: ['s3'] } }),
      OPTIONS
    )
    expect(ct.excess.map(e => e.action)).toEqual(['kms:Decrypt', 's3:GetObject'])
    expect(ct.unobservable.map(u => u.action)).toEqual(['lambda:InvokeFunction'])
    // Only write data events seen: the trail may log writes only, so reads cannot be judged.
    const writesOnly = analyzeRole(
      grants,
      usageOf(['s3:PutObject'], { evidence: { notes: [], dataEventsSeen: ['s3'] } }),
      OPTIONS
    )
    expect(writesOnly.unobservable.find(u => u.action === 's3:GetObject')?.reason).toMatch(
      /no read data events of s3/
    )
    const serviceLevel = analyzeRole(
      grants,
      usageOf([], { serviceLevelOnly: ['kms'] }, 'access-analyzer'),
      OPTIONS
    )
    expect(serviceLevel.excess).toEqual([])
    expect(serviceLevel.unobservable.find(u => u.action === 'kms:Decrypt')?.reason).toMatch(/service-level/)
  })
})

describe('rule lookups', () => {
  test('unobservableReason and isPrivilegeEscalation', () => {
    const cloudtrail = usageOf(['dynamodb:Query'], { evidence: { notes: [], dataEventsSeen: ['dynamodb'] } })
    expect(unobservableReason('IAM:passrole', cloudtrail)).toMatch(/never recorded/)
    expect(unobservableReason('dynamodb:GetItem', cloudtrail)).toBeUndefined()
    expect(unobservableReason('dynamodb:GetItem', usageOf([], {}, 'access-analyzer'))).toMatch(
      /Access Analyzer/
    )
    expect(unobservableReason('s3:PutObject', cloudtrail)).toMatch(/no s3 data events/)
    expect(unobservableReason('s3:CreateBucket', cloudtrail)).toBeUndefined()
    expect(isPrivilegeEscalation('iam:createpolicyversion')).toBe(true)
    expect(isPrivilegeEscalation('iam:ListRoles')).toBe(false)
  })
})
