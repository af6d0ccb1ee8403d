/**
 * The merge rule over every combination of per-source outcomes for one, two and three sources: an action is used
 * when any source saw it; excess only when some source with sufficient evidence could observe it and none saw it;
 * otherwise unobservable with every source's reason.
 */
import { describe, expect, it } from '@jest/globals'
import type { MergedSource, RoleUsage, UsageSource } from '../../src/model.js'
import { sourceEvidence, excessEvidence, usedEvidence } from '../../src/policy/action-evidence.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalogIndex } from '../../src/policy/catalog.js'
import { judgeEvidence } from '../../src/policy/evidence.js'
import { mergeUsages } from '../../src/policy/merge-usage.js'
import { OPTIONS, doc, inline, role } from './builders.js'

const OUTCOMES = ['seen', 'not seen', 'not observable', 'incomplete'] as const
type Outcome = (typeof OUTCOMES)[number]
const ACTION = 'ec2:RunInstances'
const OTHER = 'ec2:DescribeInstances'
const WINDOW = { start: '2026-09-01T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' }
const OLD_WINDOW = { start: '2025-10-26T00:00:00.000Z', end: '2026-11-30T00:00:00.000Z' }
const EVIDENCE_OPTIONS = { minObservationDays: 30, allowIncomplete: false }
const SOURCES: UsageSource[] = ['cloudtrail', 'access-analyzer', 'access-advisor']
const grants = role('app', [inline('app', doc({ Effect: 'Allow', Action: [ACTION, OTHER], Resource: '*' }))])

/** One source's usage for an outcome, as that kind of source reports it. */
function part(source: UsageSource, outcome: Outcome, index: number): MergedSource {
  const seen = outcome === 'seen'
  const base: RoleUsage = {
    roleArn: grants.arn,
    source,
    window: source === 'access-advisor' ? OLD_WINDOW : WINDOW,
    complete: outcome !== 'incomplete',
    actions: [
      { action: OTHER, resources: ['*'], count: 2, lastSeen: '2026-11-01T00:00:00.000Z' },
      ...(seen
        ? [
            {
              action: ACTION,
              resources: ['*'],
              count: 3,
              firstSeen: '2026-10-01T00:00:00.000Z',
              lastSeen: '2026-11-02T00:00:00.000Z'
            }
          ]
        : [])
    ],
    serviceLevelOnly: [],
    evidence: { eventsMatched: 5, notes: [] }
  }
  const blind = `reason-${index}`
  const usage: RoleUsage =
    source === 'access-advisor'
      ? {
          ...base,
          lastAccess: [
            { key: 'ec2', level: 'service', lastUsed: '2026-11-01T00:00:00.000Z' },
            { key: OTHER, level: 'action', lastUsed: '2026-11-01T00:00:00.000Z' },
            ...(outcome === 'not observable'
              ? []
              : [
                  {
                    key: ACTION,
                    level: 'action' as const,
                    ...(seen ? { lastUsed: '2026-11-02T00:00:00.000Z' } : {})
                  }
                ])
          ]
        }
      : source === 'access-analyzer'
        ? { ...base, ...(outcome === 'not observable' ? { serviceLevelOnly: ['ec2'], actions: [] } : {}) }
        : {
            ...base,
            ...(outcome === 'not observable' ? { unseenServices: [{ service: 'ec2', reason: blind }] } : {})
          }
  return outcome === 'incomplete' ? { usage, insufficient: `incomplete-${index}` } : { usage }
}

function combinations(n: number): Outcome[][] {
  if (n === 0) return [[]]
  return combinations(n - 1).flatMap(rest => OUTCOMES.map(o => [...rest, o]))
}

const cases = [1, 2, 3].flatMap(n => combinations(n).map(outcomes => ({ n, outcomes })))

describe('merge rule', () => {
  it('covers 4 + 16 + 64 combinations', () => expect(cases.length).toBe(84))

  it.each(cases.map(c => [c.outcomes.join(' / '), c.outcomes] as const))('%s', (_, outcomes) => {
    const parts = outcomes.map((o, i) => part(SOURCES[i] ?? 'cloudtrail', o, i))
    const usage = mergeUsages(parts)
    const analysis = analyzeRole(grants, usage, OPTIONS)
    const verdict = judgeEvidence(usage, EVIDENCE_OPTIONS)
    const anySeen = outcomes.includes('seen')
    const observedUnseen = outcomes.includes('not seen')
    const judging = outcomes.some(o => o !== 'incomplete')

    expect(verdict.sufficient).toBe(judging)
    if (anySeen) {
      expect(analysis.used).toContain(ACTION)
      expect(analysis.excess.map(e => e.action)).not.toContain(ACTION)
    } else if (observedUnseen) {
      expect(analysis.excess.map(e => e.action)).toContain(ACTION)
      // Evidence names every source that observed it unused.
      const sources = sourceEvidence(loadCatalogIndex(), usage, verdict.sufficient, [ACTION])
      const line = excessEvidence(ACTION, sources).evidence
      outcomes.forEach((o, i) => {
        const name = SOURCES[i] ?? ''
        if (o === 'not seen') expect(line).toContain(`(${name})`)
        else expect(line).not.toContain(`(${name})`)
      })
    } else {
      const entry = analysis.unobservable.find(u => u.action === ACTION)
      expect(entry).toBeDefined()
      expect(analysis.excess.map(e => e.action)).not.toContain(ACTION)
      // The reason of every source is given.
      outcomes.forEach((o, i) => {
        if (parts.length === 1 && o === 'not observable') return
        expect(entry?.reason).toContain(`${SOURCES[i] ?? ''}:`)
        if (o === 'incomplete') expect(entry?.reason).toContain(`incomplete-${i}`)
      })
    }
  })

  it('adds the counts and keeps the earliest first and latest last seen of every source', () => {
    const a = part('cloudtrail', 'seen', 0)
    const b = part('access-analyzer', 'seen', 1)
    const later = {
      ...b.usage,
      actions: b.usage.actions.map(x => ({ ...x, lastSeen: '2026-11-20T00:00:00.000Z' }))
    }
    const usage = mergeUsages([a, { usage: later }])
    const [evidence] = usedEvidence(loadCatalogIndex(), usage, [ACTION])
    expect(evidence).toEqual({
      action: ACTION,
      count: 6,
      firstSeen: '2026-10-01T00:00:00.000Z',
      lastSeen: '2026-11-20T00:00:00.000Z',
      sources: ['cloudtrail', 'access-analyzer']
    })
  })

  it('names each source and why it could not judge when none can', () => {
    const usage = mergeUsages([part('cloudtrail', 'incomplete', 0), part('access-advisor', 'incomplete', 1)])
    expect(judgeEvidence(usage, EVIDENCE_OPTIONS).reason).toBe(
      'cloudtrail: incomplete-0; access-advisor: incomplete-1'
    )
  })
})
