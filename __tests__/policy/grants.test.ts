import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalogIndex } from '../../src/policy/catalog.js'
import { GRANTED, GRANTED_CONDITIONALLY, NOT_GRANTED, buildGrantModel } from '../../src/policy/grants.js'
import { proposePolicies } from '../../src/policy/propose.js'
import { findResource } from '../../src/policy/resource-space.js'
import { OPTIONS, doc, inline, role, usageOf } from './builders.js'
import type { GrantedPolicy, RoleGrants } from '../../src/model.js'
import { at } from '../../src/policy/at.js'

const catalog = loadCatalogIndex()

function levelsOf(grants: RoleGrants, actions: string[]): Record<string, number> {
  const model = buildGrantModel(grants)
  return Object.fromEntries(actions.map(a => [a, at(model.granted, catalog.idOf(a) as number)]))
}

function boundary(document: unknown): GrantedPolicy {
  return { name: 'boundary', kind: 'boundary', awsManaged: false, document, origin: 'iam' }
}

describe('findResource', () => {
  test('finds a string in every must pattern and outside every mustNot pattern, or proves there is none', () => {
    expect(findResource(['arn:aws:s3:::b/*', 'arn:aws:s3:::*/k'], [])).toBe('arn:aws:s3:::b/k')
    expect(findResource(['arn:aws:s3:::a*'], ['arn:aws:s3:::a*'])).toBeUndefined()
    expect(findResource(['x?'], ['xa', 'x?'])).toBeUndefined()
    expect(findResource(['x?*'], ['x*a', 'x*b', 'xc'])).toBe('xx')
    expect(findResource(['arn:aws:s3:::*'], ['arn:aws:s3:::a*'])).toBe('arn:aws:s3:::')
    expect(findResource(['a?c'], ['abc'])).toMatch(/^a[^b]c$/)
  })
})

describe('resource types', () => {
  test('an action is granted only where a statement can name a resource of a type it accepts', () => {
    const grants = role('r', [
      inline(
        'p',
        doc({
          Effect: 'Allow',
          Action: ['ssm:GetParameter', 's3:GetObject', 's3:ListBucket', 's3:ListAllMyBuckets'],
          Resource: 'arn:aws:s3:::data/*'
        })
      )
    ])
    expect(
      levelsOf(grants, ['ssm:GetParameter', 's3:GetObject', 's3:ListBucket', 's3:ListAllMyBuckets'])
    ).toEqual({
      'ssm:GetParameter': NOT_GRANTED,
      's3:GetObject': GRANTED,
      // A bucket ARN has no `/`: an object pattern never names one.
      's3:ListBucket': NOT_GRANTED,
      // No resource type: authorized on "*" only.
      's3:ListAllMyBuckets': NOT_GRANTED
    })
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    expect(analysis.grantedCount).toBe(1)
  })
})

describe('Deny applied per resource', () => {
  test('a Deny with NotResource denies every action outside its resources', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Deny', Action: '*', NotResource: 'arn:aws:s3:::data/*' }
        )
      )
    ])
    expect(levelsOf(grants, ['s3:GetObject', 's3:ListBucket', 'ssm:GetParameter', 'iam:ListRoles'])).toEqual({
      's3:GetObject': GRANTED,
      's3:ListBucket': NOT_GRANTED,
      'ssm:GetParameter': NOT_GRANTED,
      'iam:ListRoles': NOT_GRANTED
    })
    const analysis = analyzeRole(grants, usageOf(['s3:GetObject']), OPTIONS)
    expect(analysis.excess.map(e => e.action)).not.toContain('ssm:GetParameter')
  })

  test('a Deny whose resource holds a policy variable next to `*` leaves only a conditional grant where it may apply', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:DescribeParameters'], Resource: '*' },
          { Effect: 'Deny', Action: 'ssm:*', Resource: 'arn:aws:ssm:*:*:parameter/*${aws:username}*' }
        )
      )
    ])
    expect(levelsOf(grants, ['ssm:GetParameter', 'ssm:DescribeParameters'])).toEqual({
      'ssm:GetParameter': GRANTED_CONDITIONALLY,
      'ssm:DescribeParameters': GRANTED
    })
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    expect(analysis.conditional.map(c => c.action)).toEqual(['ssm:GetParameter'])
  })

  test('an unconditional Deny covering every resource of the action removes it from every class', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          {
            Effect: 'Allow',
            Action: 's3:*',
            Resource: '*',
            Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }
          },
          {
            Effect: 'Deny',
            Action: 's3:GetObject',
            Resource: ['arn:aws:s3:::*/*', 'arn:aws:s3:*:*:accesspoint/*']
          }
        )
      )
    ])
    const analysis = analyzeRole(grants, usageOf([]), OPTIONS)
    expect(analysis.conditional.map(c => c.action)).not.toContain('s3:GetObject')
    expect(analysis.conditional.map(c => c.action)).toContain('s3:PutObject')
  })
})

describe('permissions boundary', () => {
  test('intersects per resource: identity and boundary allowing disjoint resources grant nothing', () => {
    const grants = role(
      'r',
      [inline('p', doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::a/*' }))],
      {
        boundary: boundary(doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::b/*' }))
      }
    )
    expect(levelsOf(grants, ['s3:GetObject', 's3:PutObject'])).toEqual({
      's3:GetObject': NOT_GRANTED,
      's3:PutObject': NOT_GRANTED
    })
    expect(analyzeRole(grants, usageOf([]), OPTIONS).grantedCount).toBe(0)
  })

  test('a boundary that allows only under a condition makes the grant conditional', () => {
    const grants = role(
      'r',
      [inline('p', doc({ Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' }))],
      {
        boundary: boundary(
          doc({
            Effect: 'Allow',
            Action: 'sqs:*',
            Resource: '*',
            Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
          })
        )
      }
    )
    expect(levelsOf(grants, ['sqs:SendMessage'])).toEqual({ 'sqs:SendMessage': GRANTED_CONDITIONALLY })
  })
})

describe('conditions', () => {
  const mfa = { Bool: { 'aws:MultiFactorAuthPresent': 'true' } }
  test('a used action granted only under a condition is used, and not also conditional', () => {
    const grants = role('r', [
      inline(
        'p',
        doc({ Effect: 'Allow', Action: ['iam:ListRoles', 'iam:ListUsers'], Resource: '*', Condition: mfa })
      )
    ])
    const analysis = analyzeRole(grants, usageOf(['iam:ListRoles']), OPTIONS)
    expect(analysis.used).toEqual(['iam:ListRoles'])
    expect(analysis.conditional.map(c => c.action)).toEqual(['iam:ListUsers'])
  })

  test('a grant under a condition is never dropped, even when the action is excess elsewhere', () => {
    const conditional = {
      Sid: 'WithMfa',
      Effect: 'Allow',
      Action: ['iam:DeleteRole'],
      Resource: 'arn:aws:iam::*:role/app-*',
      Condition: mfa
    }
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Sid: 'Plain', Effect: 'Allow', Action: ['iam:DeleteRole', 'iam:ListRoles'], Resource: '*' },
          conditional
        )
      )
    ])
    const usage = usageOf(['iam:ListRoles'])
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(analysis.excess.map(e => e.action)).toEqual(['iam:DeleteRole'])
    const proposal = proposePolicies(grants, usage, analysis, OPTIONS)
    expect(proposal.outcome).toBe('proposed')
    expect(proposal.policies[0]?.document.Statement).toEqual([
      { Sid: 'Plain', Effect: 'Allow', Action: ['iam:ListRoles'], Resource: '*' },
      conditional
    ])
  })
})

describe('used actions the resource types say are not granted', () => {
  test('stay in the proposal with their statement, since the source saw them', () => {
    const grants = role('r', [
      inline(
        'p',
        doc({ Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: 'arn:aws:s3:::data/*' })
      )
    ])
    const usage = usageOf(['s3:ListBucket', 's3:GetObject'], {
      evidence: { notes: [], dataEventsSeen: ['s3'] }
    })
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(analysis.usedNotGranted).toEqual(['s3:ListBucket'])
    const proposal = proposePolicies(grants, usage, analysis, OPTIONS)
    expect(proposal.outcome).toBe('proposed')
    expect(proposal.policies[0]?.document.Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:ListBucket', 's3:GetObject'], Resource: 'arn:aws:s3:::data/*' }
    ])
    expect(proposal.notes.join(' ')).toMatch(/Kept used action\(s\) that the catalog's resource types say/)
  })
})

describe('conditions judged for every request of the role', () => {
  test('a Deny unless over TLS denies nothing the role does: its grants keep their classes', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:DeleteQueue'], Resource: '*' },
          {
            Effect: 'Deny',
            Action: '*',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } }
          }
        )
      )
    ])
    expect(levelsOf(grants, ['sqs:SendMessage', 'sqs:DeleteQueue'])).toEqual({
      'sqs:SendMessage': GRANTED,
      'sqs:DeleteQueue': GRANTED
    })
    const analysis = analyzeRole(grants, usageOf(['sqs:SendMessage']), OPTIONS)
    expect(analysis.usedNotGranted).toEqual([])
    expect(analysis.excess.map(e => e.action)).toEqual(['sqs:DeleteQueue'])
  })

  test('a test on a key the request may lack, or on a set it may leave, restricts: conditional, not excess', () => {
    for (const condition of [
      { StringLike: { 'aws:ResourceTag/team': '*' } },
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } },
      { 'ForAnyValue:StringLike': { 'aws:TagKeys': '*' } },
      { Bool: { 'aws:SecureTransport': 'false' } }
    ]) {
      const grants = role('r', [
        inline(
          'p',
          doc({
            Effect: 'Allow',
            Action: ['ec2:CreateTags', 'ec2:DeleteTags'],
            Resource: '*',
            Condition: condition
          })
        )
      ])
      const analysis = analyzeRole(grants, usageOf(['ec2:DeleteTags']), OPTIONS)
      expect([analysis.excess.map(e => e.action), analysis.conditional.map(c => c.action)]).toEqual([
        [],
        ['ec2:CreateTags']
      ])
    }
  })

  test('a Deny under a condition some requests meet leaves the action conditional, in one class', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: ['ec2:CreateTags', 'ec2:DeleteTags'], Resource: '*' },
          {
            Effect: 'Deny',
            Action: 'ec2:CreateTags',
            Resource: '*',
            Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['env'] } }
          }
        )
      )
    ])
    const analysis = analyzeRole(grants, usageOf(['ec2:DeleteTags']), OPTIONS)
    expect(analysis.conditional.map(c => c.action)).toEqual(['ec2:CreateTags'])
    expect(analysis.grantedCount).toBe(2)
  })
})

describe('qualified resource forms', () => {
  test('an action on a Lambda function applies to its alias: a grant on the alias alone is kept, never dropped', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          {
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: 'arn:aws:lambda:us-east-1:111122223333:function:app:live'
          },
          { Effect: 'Allow', Action: ['s3:ListBucket', 's3:DeleteBucket'], Resource: 'arn:aws:s3:::data' }
        )
      )
    ])
    expect(levelsOf(grants, ['lambda:InvokeFunction'])).toEqual({ 'lambda:InvokeFunction': GRANTED })
    const usage = usageOf(['s3:ListBucket'])
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(analysis.excess.map(e => e.action)).toEqual(['s3:DeleteBucket'])
    const proposal = proposePolicies(grants, usage, analysis, OPTIONS)
    expect(JSON.stringify(proposal.policies)).toContain('function:app:live')
  })

  test('a Batch job definition revision and a state machine alias are forms of their resources', () => {
    const grants = role('r', [
      inline(
        'p',
        doc({
          Effect: 'Allow',
          Action: ['batch:SubmitJob', 'states:StartExecution'],
          Resource: [
            'arn:aws:batch:us-east-1:111122223333:job-definition/etl:*',
            'arn:aws:states:us-east-1:111122223333:stateMachine:flow:prod'
          ]
        })
      )
    ])
    expect(levelsOf(grants, ['states:StartExecution'])).toEqual({ 'states:StartExecution': GRANTED })
    expect(buildGrantModel(grants).granted[catalog.idOf('batch:SubmitJob') as number]).toBe(GRANTED)
  })
  test('a CloudWatch Logs log group is also named `log-group:NAME:*`, as the Logs guide tells policies to write it', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          {
            Effect: 'Allow',
            Action: ['logs:DescribeLogStreams', 'logs:PutRetentionPolicy'],
            Resource: 'arn:aws:logs:us-east-1:111122223333:log-group:app:*'
          },
          {
            Effect: 'Allow',
            Action: 'logs:DeleteLogGroup',
            Resource: 'arn:aws:logs:us-east-1:111122223333:log-group:app:log-stream:s'
          }
        )
      )
    ])
    expect(
      levelsOf(grants, ['logs:DescribeLogStreams', 'logs:PutRetentionPolicy', 'logs:DeleteLogGroup'])
    ).toEqual({
      'logs:DescribeLogStreams': GRANTED,
      'logs:PutRetentionPolicy': GRANTED,
      'logs:DeleteLogGroup': NOT_GRANTED
    })
  })
})

describe('grant levels shared by roles of the same policies', () => {
  test('a Condition on the role itself keeps each role its own levels', () => {
    const onlyA = doc({
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: '*',
      Condition: { ArnEquals: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/a' } }
    })
    const levels = (name: string) => levelsOf(role(name, [inline('p', onlyA)]), ['s3:GetObject'])
    expect(levels('a')).toEqual({ 's3:GetObject': GRANTED })
    expect(levels('b')).toEqual({ 's3:GetObject': GRANTED_CONDITIONALLY })
    expect(levels('a')).toEqual({ 's3:GetObject': GRANTED })
  })

  test('roles of equal documents get equal levels, and another document its own', () => {
    const reads = doc({ Effect: 'Allow', Action: 's3:Get*', Resource: '*' })
    const first = buildGrantModel(role('one', [inline('p', reads)])).granted
    const again = buildGrantModel(role('two', [inline('q', structuredClone(reads))])).granted
    expect(again).toEqual(first)
    const writes = buildGrantModel(
      role('three', [inline('p', doc({ Effect: 'Allow', Action: 's3:Put*', Resource: '*' }))])
    )
    expect(levelsOf(role('four', [inline('p', reads)]), ['s3:GetObject', 's3:PutObject'])).toEqual({
      's3:GetObject': GRANTED,
      's3:PutObject': NOT_GRANTED
    })
    expect(at(writes.granted, catalog.idOf('s3:PutObject') as number)).toBe(GRANTED)
    expect(at(writes.granted, catalog.idOf('s3:GetObject') as number)).toBe(NOT_GRANTED)
  })
})
