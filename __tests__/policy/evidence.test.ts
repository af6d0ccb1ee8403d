import { describe, expect, test } from '@jest/globals'
import { judgeEvidence } from '../../src/policy/evidence.js'
import type { RoleUsage } from '../../src/model.js'
import { usageOf } from './builders.js'

const THIRTY_DAYS = { start: '2026-10-01T00:00:00Z', end: '2026-10-31T00:00:00Z' }
const active = (extra: Partial<RoleUsage> = {}, source: RoleUsage['source'] = 'cloudtrail') =>
  usageOf(
    ['ec2:DescribeInstances'],
    { window: THIRTY_DAYS, evidence: { notes: [], eventsMatched: 12 }, ...extra },
    source
  )
const options = { minObservationDays: 30, allowIncomplete: false }

describe('judgeEvidence: never propose on weak evidence', () => {
  test('a full window with activity is enough', () => {
    expect(judgeEvidence(active(), options)).toEqual({ sufficient: true, observedDays: 30 })
  })

  test('a window shorter than min-observation-days is not', () => {
    const verdict = judgeEvidence(active(), { ...options, minObservationDays: 31 })
    expect(verdict.sufficient).toBe(false)
    expect(verdict.reason).toBe('observed for 30 days, less than min-observation-days (31)')
  })

  test('a role younger than the window was observed only since it exists', () => {
    const verdict = judgeEvidence(active(), { ...options, roleCreatedAt: '2026-10-21T00:00:00Z' })
    expect(verdict.sufficient).toBe(false)
    expect(verdict.reason).toMatch(/observed for 10 days \(the role is younger than the window\)/)
  })

  test('an incomplete generated policy needs the opt-in', () => {
    const usage = active({ complete: false }, 'access-analyzer')
    expect(judgeEvidence(usage, options).reason).toMatch(/isComplete: false/)
    expect(judgeEvidence(usage, { ...options, allowIncomplete: true }).sufficient).toBe(true)
  })

  test('no events at all is no evidence (CloudTrail), and no actions at all is none either (Access Analyzer)', () => {
    const silent = usageOf([], { window: THIRTY_DAYS, evidence: { notes: [], eventsMatched: 0 } })
    expect(judgeEvidence(silent, options).reason).toMatch(/no activity of this role was observed/)
    const empty = usageOf([], { window: THIRTY_DAYS }, 'access-analyzer')
    expect(judgeEvidence(empty, options).sufficient).toBe(false)
    // Calls that were all denied are activity: the role ran and used nothing it is granted.
    const denied = usageOf([], {
      window: THIRTY_DAYS,
      evidence: { notes: [], eventsMatched: 29, deniedCalls: 29 }
    })
    expect(judgeEvidence(denied, options).sufficient).toBe(true)
  })

  test('log files that could not be read make the evidence incomplete', () => {
    const usage = active({
      evidence: {
        notes: [],
        eventsMatched: 12,
        filesRead: 1,
        filesSkipped: [{ file: 'a.json.gz', reason: 'corrupt gzip' }]
      }
    })
    expect(judgeEvidence(usage, options).reason).toMatch(/^1 log file\(s\) were skipped/)
    expect(judgeEvidence(usage, { ...options, allowIncomplete: true }).sufficient).toBe(true)
  })
})

describe('judgeEvidence wording', () => {
  test('incomplete CloudTrail usage says why in its own terms', () => {
    const usage = active({ complete: false })
    expect(judgeEvidence(usage, options).reason).toMatch(
      /^the CloudTrail records hold calls that match no IAM service/
    )
  })

  test('lines of JSON-lines files that were skipped are named as the reason', () => {
    const usage = active({ complete: false, evidence: { notes: [], eventsMatched: 12, linesSkipped: 3 } })
    expect(judgeEvidence(usage, options).reason).toMatch(
      /^3 line\(s\) of JSON-lines log files were skipped \(too long, or not JSON\).*allow-incomplete: true/
    )
    expect(judgeEvidence(usage, { ...options, allowIncomplete: true }).sufficient).toBe(true)
  })
})
