import { describe, expect, test } from '@jest/globals'
import fc from 'fast-check'
import type { GrantedPolicy, ObservedAction, RoleUsage } from '../../src/model.js'
import { ACCESS_LEVELS } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { normalizePolicy } from '../../src/policy/document.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { proposePolicies } from '../../src/policy/propose.js'
import { inline, role, usageOf } from './builders.js'

const catalog = loadCatalog()
const SERVICES = ['s3', 'ec2', 'ssm', 'iam', 'sts', 'lambda', 'dynamodb', 'kms', 'sqs', 'organizations']
const ACTIONS = SERVICES.flatMap(s => [...catalog.actionsOf(s)])
const VERBS = [
  ...new Set(ACTIONS.map(a => `${a.split(':')[0]}:${/^[A-Z][a-z]+/.exec(a.split(':')[1] ?? '')?.[0] ?? ''}*`))
]
const RESOURCES = [
  '*',
  'arn:aws:s3:::b1/*',
  'arn:aws:s3:::b1',
  'arn:aws:s3:::b2/*',
  'arn:aws:s3:::b*',
  'arn:aws:sqs:*:*:q1'
]
const CONCRETE = [
  'arn:aws:s3:::b1/k1',
  'arn:aws:s3:::b1/dir/k2',
  'arn:aws:s3:::b1',
  'arn:aws:s3:::b2/k',
  'arn:aws:sqs:eu-west-1:1:q1'
]
const CONDITIONS = [
  { Bool: { 'aws:SecureTransport': 'true' } },
  { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
]

const actionPattern = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...ACTIONS) },
  { weight: 3, arbitrary: fc.constantFrom(...VERBS) },
  { weight: 2, arbitrary: fc.constantFrom(...SERVICES.map(s => `${s}:*`)) },
  { weight: 1, arbitrary: fc.constant('*') }
)

const statement = fc
  .record({
    deny: fc.integer({ min: 0, max: 3 }).map(n => n === 0),
    notAction: fc.integer({ min: 0, max: 9 }).map(n => n === 0),
    actions: fc.array(actionPattern, { minLength: 1, maxLength: 6 }),
    resources: fc.subarray(RESOURCES, { minLength: 1 }),
    notResource: fc.integer({ min: 0, max: 9 }).map(n => n === 0),
    condition: fc.option(fc.constantFrom(...CONDITIONS), { freq: 4 }),
    sid: fc.option(fc.constantFrom('A', 'B', 'KeepMe'), { freq: 2 })
  })
  .map(s => {
    const out: Record<string, unknown> = {}
    if (s.sid) out.Sid = s.sid
    out.Effect = s.deny ? 'Deny' : 'Allow'
    out[s.notAction ? 'NotAction' : 'Action'] = s.actions
    out[s.notResource ? 'NotResource' : 'Resource'] = s.resources
    if (s.condition) out.Condition = s.condition
    return out
  })

const uniqueSids = (statements: Record<string, unknown>[]) => {
  const seen = new Set<unknown>()
  return statements.filter(s => s.Sid === undefined || (!seen.has(s.Sid) && seen.add(s.Sid)))
}

const policies = fc
  .array(fc.array(statement, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 })
  .map(list =>
    list
      .map(uniqueSids)
      .map((statements, i): GrantedPolicy =>
        inline(`p${i}`, { Version: '2012-10-17', Statement: statements })
      )
  )

/** A permissions boundary in one case out of four. */
const boundary = fc.option(
  fc
    .array(statement, { minLength: 1, maxLength: 3 })
    .map(statements => inline('boundary', { Version: '2012-10-17', Statement: uniqueSids(statements) })),
  { freq: 3, nil: undefined }
)

const observed = fc.record({
  action: fc.constantFrom(...ACTIONS, 'sts:GetCallerIdentity'),
  resources: fc.oneof(fc.constant(['*']), fc.subarray(CONCRETE, { minLength: 1 }))
}) as fc.Arbitrary<ObservedAction>

const usage = fc
  .record({
    actions: fc.array(observed, { maxLength: 12 }),
    source: fc.constantFrom('cloudtrail' as const, 'access-analyzer' as const),
    dataEventsSeen: fc.subarray(['s3', 'lambda', 'dynamodb', 'sqs']),
    serviceLevelOnly: fc.subarray(['kms', 'organizations'], { maxLength: 1 })
  })
  .map((u): RoleUsage =>
    usageOf(
      u.actions,
      { serviceLevelOnly: u.serviceLevelOnly, evidence: { notes: [], dataEventsSeen: u.dataEventsSeen } },
      u.source
    )
  )

const options = { keepActions: ['sqs:Send*'], keepSidPrefix: 'Keep' }
const RUNS = { numRuns: 60, seed: 20260927 }

describe('properties of analysis and proposal on random policies over the real catalog', () => {
  test('classification partitions the granted actions; excess is ranked and never used', () => {
    fc.assert(
      fc.property(policies, boundary, usage, (granted, limit, used) => {
        const analysis = analyzeRole(role('r', granted, limit ? { boundary: limit } : {}), used, options)
        const usedSet = new Set(analysis.used)
        const excess = analysis.excess.map(e => e.action)
        expect(excess.some(a => usedSet.has(a))).toBe(false)
        const ranks = analysis.excess.map(e => ACCESS_LEVELS.indexOf(e.accessLevel))
        expect(ranks).toEqual([...ranks].sort((a, b) => a - b))
        const classified = new Set([
          ...excess,
          ...analysis.unobservable.map(u => u.action),
          ...analysis.conditional.map(c => c.action),
          ...analysis.kept,
          ...analysis.used.filter(a => !analysis.usedNotGranted.includes(a))
        ])
        expect(classified.size).toBe(analysis.grantedCount)
      }),
      RUNS
    )
  })

  test('the proposal is proven, keeps used access and grants nothing new (checked again with evaluate)', () => {
    fc.assert(
      fc.property(policies, boundary, usage, (granted, limit, used) => {
        const grants = role('r', granted, limit ? { boundary: limit } : {})
        const analysis = analyzeRole(grants, used, options)
        const proposal = proposePolicies(grants, used, analysis, options)
        expect(proposal.verification.problems).toEqual([])
        expect(proposal.verification.usedCovered && proposal.verification.noNewAccess).toBe(true)
        if (proposal.policies.length === 0) {
          // No document: either nothing is kept or the limits cannot be met; the notes must say which.
          expect(proposal.notes.join(' ')).toMatch(/every granted action is excess|No proposal/)
          return
        }
        const current = granted.map(p => normalizePolicy(p.name, p.document))
        const limits = limit ? [normalizePolicy(limit.name, limit.document)] : []
        const certainlyAllowed = (documents: typeof current, action: string, resource: string) => {
          const decision = evaluate(documents, action, resource)
          return decision.decision === 'allow' && !decision.conditional
        }
        const proposed = proposal.policies.map(p => normalizePolicy(p.name, p.document))
        for (const o of used.actions) {
          for (const resource of o.resources) {
            const before =
              certainlyAllowed(current, o.action, resource) &&
              (!limit || certainlyAllowed(limits, o.action, resource))
            if (before) {
              expect([o.action, resource, evaluate(proposed, o.action, resource).decision]).toEqual([
                o.action,
                resource,
                'allow'
              ])
            }
          }
        }
        for (const action of ACTIONS.filter((_, i) => i % 7 === 0)) {
          for (const resource of [...RESOURCES, ...CONCRETE]) {
            const after = evaluate(proposed, action, resource)
            if (after.decision === 'allow')
              expect([action, resource, evaluate(current, action, resource).decision]).toEqual([
                action,
                resource,
                'allow'
              ])
          }
        }
      }),
      RUNS
    )
  })

  test('idempotence: analyzing the proposal against the same usage finds zero excess', () => {
    fc.assert(
      fc.property(policies, boundary, usage, (granted, limit, used) => {
        const grants = role('r', granted, limit ? { boundary: limit } : {})
        const analysis = analyzeRole(grants, used, options)
        const proposal = proposePolicies(grants, used, analysis, options)
        if (proposal.policies.length === 0) return
        const proposed = proposal.policies.map(p => inline(p.name, p.document))
        const again = analyzeRole(role('r', proposed, limit ? { boundary: limit } : {}), used, options)
        expect(again.excess).toEqual([])
        expect(again.usedNotGranted).toEqual(analysis.usedNotGranted)
      }),
      RUNS
    )
  })
})
