/**
 * Sources with different windows: a last-access source that saw a service used (at service level, so possibly any
 * of its actions) at a time another source's window does not cover leaves that source's "unused" unproven there.
 */
import { describe, expect, it } from '@jest/globals'
import type { LastAccess, MergedSource, RoleUsage, TimeWindow, UsageSource } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { mergeUsages } from '../../src/policy/merge-usage.js'
import { OPTIONS, doc, inline, role } from './builders.js'

const ACTION = 'sqs:DeleteQueue'
const grants = role('app', [inline('app', doc({ Effect: 'Allow', Action: ACTION, Resource: '*' }))])

function part(source: UsageSource, window: TimeWindow, lastAccess?: LastAccess[]): MergedSource {
  const usage: RoleUsage = {
    roleArn: grants.arn,
    source,
    window,
    complete: true,
    // Some activity, so that each source's evidence is sufficient.
    actions: lastAccess ? [] : [{ action: 'sts:GetCallerIdentity', resources: ['*'], count: 1 }],
    serviceLevelOnly: [],
    ...(lastAccess ? { lastAccess } : {}),
    evidence: { eventsMatched: 5, notes: [] }
  }
  return { usage }
}

const ADVISOR_WINDOW = { start: '2025-10-26T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' }
const advisorSawSqs = (lastUsed: string) =>
  part('access-advisor', ADVISOR_WINDOW, [{ key: 'sqs', level: 'service', lastUsed }])

function verdictOf(parts: MergedSource[]) {
  const analysis = analyzeRole(grants, mergeUsages(parts), OPTIONS)
  return {
    excess: analysis.excess.some(e => e.action === ACTION),
    reason: analysis.unobservable.find(u => u.action === ACTION)?.reason
  }
}

describe('merged sources with different windows', () => {
  it('keeps an action unobservable when its service was used after the unused-access window ended', () => {
    const unused = part(
      'unused-access',
      { start: '2026-08-01T00:00:00.000Z', end: '2026-10-30T00:00:00.000Z' },
      [{ key: 'sqs', level: 'service', lastUsed: '2026-05-01T00:00:00.000Z' }]
    )
    const v = verdictOf([advisorSawSqs('2026-11-20T10:00:00.000Z'), unused])
    expect(v.excess).toBe(false)
    expect(v.reason).toContain('access-advisor: sqs was used (last 2026-11-20)')
    expect(v.reason).toContain('unused-access')
  })

  it('keeps an action unobservable when its service was used before a 90-day source window began', () => {
    const trail = part('cloudtrail', { start: '2026-09-01T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' })
    const v = verdictOf([trail, advisorSawSqs('2026-03-01T00:00:00.000Z')])
    expect(v.excess).toBe(false)
    expect(v.reason).toContain('cloudtrail')
  })

  it('still judges an action excess when the service use falls inside the window of a source that saw nothing', () => {
    const trail = part('cloudtrail', { start: '2026-09-01T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' })
    const v = verdictOf([trail, advisorSawSqs('2026-11-01T00:00:00.000Z')])
    expect(v.reason).toBeUndefined()
    expect(v.excess).toBe(true)
  })
})
