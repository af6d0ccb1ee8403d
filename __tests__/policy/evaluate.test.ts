import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { normalizePolicy } from '../../src/policy/document.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { globCovers, globMatch } from '../../src/policy/glob.js'
import { resourcePatternMatch } from '../../src/policy/match.js'
import { OPTIONS, doc, inline, managedPolicyDocument, role, usageOf } from './builders.js'

const policy = (name: string, document: unknown) => normalizePolicy(name, document)

describe('evaluate', () => {
  test('AdministratorAccess allows everything, case-insensitively', () => {
    const admin = [policy('AdministratorAccess', managedPolicyDocument('AdministratorAccess'))]
    expect(evaluate(admin, 'S3:getobject', 'arn:aws:s3:::b/k')).toEqual({
      decision: 'allow',
      conditional: false,
      matchedBy: ['AdministratorAccess']
    })
  })

  test('PowerUserAccess: NotAction excludes iam:* except the listed actions', () => {
    const power = [policy('PowerUserAccess', managedPolicyDocument('PowerUserAccess'))]
    expect(evaluate(power, 'iam:CreateUser', '*').decision).toBe('implicit-deny')
    expect(evaluate(power, 'iam:ListRoles', '*').decision).toBe('allow')
    expect(evaluate(power, 'ec2:RunInstances', '*').decision).toBe('allow')
    // An action the catalog does not know yet is still covered by NotAction.
    expect(evaluate(power, 'ec2:SomeFutureAction', '*').decision).toBe('allow')
    expect(evaluate(power, 'iam:SomeFutureAction', '*').decision).toBe('implicit-deny')
  })

  test('explicit Deny wins; NotResource; conditions make decisions conditional', () => {
    const documents = [
      policy(
        'p',
        doc(
          { Sid: 'All', Effect: 'Allow', Action: 's3:*', Resource: '*' },
          { Sid: 'NoSecret', Effect: 'Deny', Action: 's3:GetObject', Resource: 'arn:aws:s3:::secret/*' },
          { Sid: 'OnlyLogs', Effect: 'Deny', Action: 's3:PutObject', NotResource: 'arn:aws:s3:::logs/*' },
          {
            Sid: 'Tls',
            Effect: 'Deny',
            Action: 's3:DeleteObject',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } }
          }
        )
      )
    ]
    expect(evaluate(documents, 's3:GetObject', 'arn:aws:s3:::secret/a').decision).toBe('deny')
    expect(evaluate(documents, 's3:GetObject', 'arn:aws:s3:::public/a').decision).toBe('allow')
    expect(evaluate(documents, 's3:PutObject', 'arn:aws:s3:::logs/x')).toMatchObject({ decision: 'allow' })
    expect(evaluate(documents, 's3:PutObject', 'arn:aws:s3:::data/x')).toMatchObject({
      decision: 'deny',
      matchedBy: ['p#All', 'p#OnlyLogs']
    })
    expect(evaluate(documents, 's3:DeleteObject', 'arn:aws:s3:::data/x')).toEqual({
      decision: 'allow',
      conditional: true,
      matchedBy: ['p#All', 'p#Tls']
    })
    expect(evaluate(documents, 'ec2:RunInstances', '*').decision).toBe('implicit-deny')
  })

  test('a conditional Allow is a conditional allow', () => {
    const documents = [
      policy(
        'p',
        doc({
          Effect: 'Allow',
          Action: 'ec2:*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
        })
      )
    ]
    expect(evaluate(documents, 'ec2:RunInstances', '*')).toMatchObject({
      decision: 'allow',
      conditional: true
    })
  })

  test('policy variables match only "maybe": a variable Deny never denies for certain', () => {
    const documents = [
      policy(
        'p',
        doc(
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' },
          { Effect: 'Allow', Action: 's3:PutObject', Resource: '*' },
          { Effect: 'Deny', Action: 's3:PutObject', Resource: 'arn:aws:s3:::home/${aws:username}/*' }
        )
      )
    ]
    expect(evaluate(documents, 's3:GetObject', 'arn:aws:s3:::home/alice/x')).toMatchObject({
      decision: 'allow',
      conditional: true
    })
    expect(evaluate(documents, 's3:GetObject', 'arn:aws:s3:::other/x').decision).toBe('implicit-deny')
    expect(evaluate(documents, 's3:PutObject', 'arn:aws:s3:::home/alice/x')).toMatchObject({
      decision: 'allow',
      conditional: true
    })
    expect(resourcePatternMatch('arn:aws:s3:::a${*}b', 'arn:aws:s3:::a*b')).toBe('maybe')
  })
})

describe('glob inclusion', () => {
  test('covers', () => {
    expect(globCovers('*', 'arn:aws:s3:::b/*')).toBe(true)
    expect(globCovers('arn:aws:s3:::b/*', 'arn:aws:s3:::b/k/*')).toBe(true)
    expect(globCovers('arn:aws:s3:::b/*', 'arn:aws:s3:::b*')).toBe(false)
    expect(globCovers('s3:get*', 's3:get?bject*')).toBe(true)
    expect(globCovers('a?c', 'a*c')).toBe(false)
    expect(globCovers('a?c', 'a?c')).toBe(true)
    expect(globCovers('abc', 'abc')).toBe(true)
    expect(globCovers('abc', 'ab')).toBe(false)
  })

  test('a literal or `prefix*` outer covers exactly what matching every string says', () => {
    const words = (alphabet: string, max: number): string[] => {
      const out = ['']
      // Shortest first: the first word of `max` characters ends the growth.
      for (const word of out) {
        if (word.length === max) break
        for (const c of alphabet) out.push(word + c)
      }
      return out
    }
    // A string one longer than inner, over a letter outer never names, refutes a wrong cover.
    const texts = words('abc', 4)
    const patterns = words('ab*?', 3)
    const outers = patterns.filter(p => !p.includes('?') && !p.slice(0, -1).includes('*'))
    const wrong: string[] = []
    for (const outer of outers)
      for (const inner of patterns) {
        const truth = texts.every(t => !globMatch(inner, t) || globMatch(outer, t))
        if (globCovers(outer, inner) !== truth) wrong.push(`${outer} ⊇ ${inner}: ${String(!truth)}`)
      }
    expect(outers.length).toBeGreaterThan(10)
    expect(wrong).toEqual([])
  })

  test('stars on both sides, and inner `?` or `*` against an outer literal', () => {
    expect(globCovers('a*b*c', 'a*x*b?c')).toBe(true)
    expect(globCovers('a*b*c', 'a*c')).toBe(false)
    expect(globCovers('*?', '')).toBe(false)
    expect(globCovers('*?', '*?')).toBe(true)
    expect(globCovers('*?', '*')).toBe(false)
    expect(globCovers('a', '?')).toBe(false)
    expect(globCovers('**', '')).toBe(true)
    expect(globCovers('', '')).toBe(true)
  })

  test('a short policy whose Deny pattern is full of stars is analyzed at once, not once per catalog action', () => {
    // 357 bytes: comparing the Deny with the Allow again for each of the catalog's actions took about a minute.
    const hostile = doc(
      { Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'a'.repeat(160)}` },
      { Effect: 'Deny', Action: '*', Resource: `arn:aws:s3:::${'*a'.repeat(20)}*b` }
    )
    const analysis = analyzeRole(role('starry', [inline('p', hostile)]), usageOf(['s3:GetObject']), OPTIONS)
    // The Allow names one bucket: the actions on buckets are granted, and the Deny cannot match a name ending in `a`.
    expect(analysis.excess.length).toBeGreaterThan(50)
    expect(analysis.excess.map(e => e.action)).toContain('s3:DeleteBucket')
    const denied = doc(
      { Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'a'.repeat(160)}` },
      { Effect: 'Deny', Action: '*', Resource: `arn:aws:s3:::${'*a'.repeat(20)}*` }
    )
    expect(analyzeRole(role('denied', [inline('p', denied)]), usageOf([]), OPTIONS).excess).toEqual([])
  })
})
