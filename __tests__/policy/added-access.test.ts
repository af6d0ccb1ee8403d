import { describe, expect, it } from '@jest/globals'
import { addedAccess } from '../../src/policy/added-access.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { restrictingCondition } from '../../src/policy/condition-effect.js'
import { doc, inline, OPTIONS, role, usageOf } from './builders.js'

const subject = { roleArn: 'arn:aws:iam::111122223333:role/app', accountId: '111122223333' }
const SECRET = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:db-AbCdEf'
const grants = (...statements: Record<string, unknown>[]) => role('app', [inline('app', doc(...statements))])
const allow = (Action: unknown, Resource: unknown = '*', extra: Record<string, unknown> = {}) => ({
  Effect: 'Allow',
  Action,
  Resource,
  ...extra
})

describe('restrictingCondition', () => {
  it('drops tests that hold for every request of the role', () => {
    for (const condition of [
      {},
      { StringEquals: {} },
      { StringLike: { 'aws:PrincipalArn': '*' } },
      { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::111122223333:role/*' } },
      { StringEquals: { 'aws:PrincipalAccount': '111122223333' } },
      { Bool: { 'aws:SecureTransport': 'true' } },
      { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
      { StringLike: { 's3:prefix': ['*'] }, Bool: { 'aws:SecureTransport': true } }
    ])
      expect(restrictingCondition(condition, subject)).toBeUndefined()
  })

  it('keeps the tests that narrow requests, and only those', () => {
    expect(
      restrictingCondition(
        {
          StringEquals: { 'aws:RequestedRegion': 'eu-west-1', 'aws:PrincipalAccount': '111122223333' },
          Bool: { 'aws:SecureTransport': 'true' }
        },
        subject
      )
    ).toEqual({ StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } })
    expect(restrictingCondition({ StringLike: { 'aws:PrincipalArn': '*-admin' } }, subject)).toBeDefined()
    expect(restrictingCondition({ Null: { 'aws:MultiFactorAuthAge': 'false' } }, subject)).toBeDefined()
  })

  it('a grant under a condition that restricts nothing is not conditional', () => {
    const analysis = analyzeRole(
      grants(allow('ec2:DescribeInstances', '*', { Condition: { StringLike: { 'aws:PrincipalArn': '*' } } })),
      usageOf([]),
      OPTIONS
    )
    expect(analysis.conditional).toEqual([])
    expect(analysis.excess.map(e => e.action)).toEqual(['ec2:DescribeInstances'])
  })
})

describe('addedAccess', () => {
  const reads = allow('s3:GetObject', 'arn:aws:s3:::data/*')

  it('nothing is added when the head grants what the base does, or less', () => {
    const base = grants(reads, allow('s3:PutObject', 'arn:aws:s3:::data/*'))
    expect(addedAccess(grants(reads), base, usageOf([]), []).added).toEqual([])
    expect(addedAccess(base, base, usageOf([]), []).added).toEqual([])
  })

  it('an unchanged NotResource grant, policy variable or Deny adds nothing; excluding less from NotResource adds', () => {
    const notResource = (...excluded: string[]) => ({
      Effect: 'Allow',
      Action: 's3:*',
      NotResource: excluded
    })
    const home = allow('s3:GetObject', 'arn:aws:s3:::home/${aws:username}/*')
    const denyOthers = { Effect: 'Deny', Action: 's3:*', Resource: 'arn:aws:s3:::home/${aws:userid}/*' }
    const base = grants(notResource('arn:aws:s3:::prod', 'arn:aws:s3:::prod/*'), home, denyOthers)
    expect(addedAccess(base, base, usageOf([]), []).added).toEqual([])
    const excludesMore = grants(notResource('arn:aws:s3:::prod*'), home, denyOthers)
    expect(addedAccess(excludesMore, base, usageOf([]), []).added).toEqual([])
    const excludesLess = grants(notResource('arn:aws:s3:::prod'), home, denyOthers)
    const { added } = addedAccess(excludesLess, base, usageOf([]), [])
    expect(added.find(a => a.action === 's3:DeleteObject')).toMatchObject({
      resources: ['NotResource: arn:aws:s3:::prod'],
      risk: 'unobservable-write'
    })
  })

  it('a resource widened to * is added, excess when the calls fell on what the base granted', () => {
    const base = grants(allow('secretsmanager:GetSecretValue', SECRET))
    const usage = usageOf([{ action: 'secretsmanager:GetSecretValue', resources: [SECRET] }])
    const { added } = addedAccess(grants(allow('secretsmanager:GetSecretValue')), base, usage, [])
    expect(added).toEqual([
      expect.objectContaining({
        action: 'secretsmanager:GetSecretValue',
        resources: ['*'],
        widened: true,
        judgement: 'excess',
        risk: 'secret-read-on-all-resources'
      })
    ])
    const other = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:other-XyZ'
    const usedElsewhere = usageOf([{ action: 'secretsmanager:GetSecretValue', resources: [other] }])
    expect(
      addedAccess(grants(allow('secretsmanager:GetSecretValue')), base, usedElsewhere, []).added[0]?.judgement
    ).toBe('used')
  })

  it('a Keep Sid, a condition that restricts nothing, or an empty condition does not hide added access', () => {
    const base = grants(reads)
    for (const statement of [
      { Sid: 'KeepAdmin', ...allow('iam:*') },
      allow('iam:*', '*', { Condition: { StringEquals: {} } }),
      allow('iam:*', '*', { Condition: { Bool: { 'aws:SecureTransport': 'true' } } })
    ]) {
      const { added } = addedAccess(grants(reads, statement), base, usageOf([]), [])
      const passRole = added.find(a => a.action === 'iam:PassRole')
      expect(passRole).toMatchObject({
        conditional: false,
        risk: 'privilege-escalation',
        judgement: 'unobservable'
      })
    }
  })

  it('a grant added under a restricting condition is added access, marked conditional', () => {
    const condition = { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
    const { added } = addedAccess(
      grants(reads, allow('s3:PutObject', '*', { Condition: condition })),
      grants(reads),
      usageOf([]),
      []
    )
    expect(added).toEqual([
      expect.objectContaining({ action: 's3:PutObject', conditional: true, risk: 'unobservable-write' })
    ])
    // The same statement at the base adds nothing.
    const same = grants(reads, allow('s3:PutObject', '*', { Condition: condition }))
    expect(addedAccess(same, same, usageOf([]), []).added).toEqual([])
  })

  it('removing a Deny or widening NotResource adds access', () => {
    const deny = { Effect: 'Deny', Action: 'iam:*', Resource: '*' }
    const { added } = addedAccess(grants(allow('*')), grants(allow('*'), deny), usageOf([]), [])
    expect(added.map(a => a.action)).toContain('iam:CreateRole')
    expect(added.every(a => a.action.startsWith('iam:'))).toBe(true)
    const narrow = grants({ Effect: 'Allow', Action: 's3:GetObject', NotResource: 'arn:aws:s3:::secret/*' })
    expect(addedAccess(grants(allow('s3:GetObject')), narrow, usageOf([]), []).added).toEqual([
      expect.objectContaining({ action: 's3:GetObject', resources: ['*'] })
    ])
  })

  it('dropping or weakening a Deny that is scoped to resources or conditional adds what it denied', () => {
    const secrets = { Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secrets/*' }
    const mfa = {
      Effect: 'Deny',
      Action: 'iam:*',
      Resource: '*',
      Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }
    }
    const base = grants(allow(['s3:GetObject', 'iam:*']), secrets, mfa)
    const { added } = addedAccess(grants(allow(['s3:GetObject', 'iam:*'])), base, usageOf([]), [])
    expect(added.find(a => a.action === 's3:GetObject')?.resources).toEqual([
      'arn:aws:s3:::secrets/* (no longer denied by app)'
    ])
    expect(added.find(a => a.action === 'iam:CreatePolicyVersion')).toMatchObject({
      risk: 'privilege-escalation',
      judgement: 'excess'
    })
    // A Deny that only applies over plain HTTP never applies: it does not stand in for the base's Deny.
    const httpOnly = { ...mfa, Condition: { Bool: { 'aws:SecureTransport': 'false' } } }
    expect(
      addedAccess(
        grants(allow(['s3:GetObject', 'iam:*']), secrets, httpOnly),
        base,
        usageOf([]),
        []
      ).added.map(a => a.action)
    ).toContain('iam:PassRole')
    // The same Denies, moved, reordered or widened, add nothing.
    const moved = grants(
      allow(['iam:*', 's3:GetObject']),
      { ...mfa, Sid: 'Mfa', Action: ['iam:*'] },
      { ...secrets, Resource: ['arn:aws:s3:::secrets*'] }
    )
    expect(addedAccess(moved, base, usageOf([]), []).added).toEqual([])
  })

  it('a secret read on a pattern naming every secret is as risky as one on *', () => {
    for (const resource of [
      'arn:*',
      'arn:aws:secretsmanager:*',
      'arn:aws:secretsmanager:*:*:secret:*',
      'arn:aws:secretsmanager:eu-west-1:111122223333:secret:*'
    ]) {
      const { added } = addedAccess(
        grants(allow('secretsmanager:GetSecretValue', resource)),
        grants(reads),
        usageOf([]),
        []
      )
      expect(added[0]).toMatchObject({ risk: 'secret-read-on-all-resources' })
    }
    const prefix = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:app/*'
    const one = addedAccess(
      grants(allow('secretsmanager:GetSecretValue', prefix)),
      grants(reads),
      usageOf([]),
      []
    )
    expect(one.added[0]?.risk).toBeUndefined()
    const parameters = addedAccess(
      grants(allow('ssm:GetParameters', 'arn:aws:ssm:*:*:parameter/*')),
      grants(reads),
      usageOf([]),
      []
    )
    expect(parameters.added[0]?.risk).toBe('secret-read-on-all-resources')
  })

  it('without usage (a new role) every addition is unverified; keep-actions from the workflow exempt', () => {
    const { added } = addedAccess(grants(allow(['s3:ListBucket', 'iam:PassRole'])), undefined, undefined, [
      's3:List*'
    ])
    expect(added).toEqual([
      expect.objectContaining({
        action: 'iam:PassRole',
        judgement: 'unverified',
        risk: 'privilege-escalation'
      })
    ])
  })

  it('a Keep statement is trusted only when it is unchanged at the base', () => {
    const keep = { Sid: 'KeepBreakGlass', ...allow('iam:PassRole') }
    const head = grants(reads, keep)
    const unchanged = new Set([JSON.stringify(keep)])
    const trusted = analyzeRole(head, usageOf([]), {
      ...OPTIONS,
      trustedKeep: s => unchanged.has(JSON.stringify(s.raw))
    })
    expect(trusted.kept).toEqual(['iam:PassRole'])
    const renamed = analyzeRole(grants(reads, { ...keep, Sid: 'KeepMore' }), usageOf([]), {
      ...OPTIONS,
      trustedKeep: s => unchanged.has(JSON.stringify(s.raw))
    })
    expect(renamed.kept).toEqual([])
    expect(analyzeRole(head, usageOf([]), { ...OPTIONS, keepSidPrefix: '' }).kept).toEqual([])
  })
})
