/**
 * Coverage across scheduled runs: 200 roles in one account, 50 policy generations a day, one run a day on an
 * emulated clock (the emulator and the scheduler share it; nothing sleeps for real).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { MemoryLogger } from '../../src/logger.js'
import { runPolicyGenerations } from '../../src/usage/generation-scheduler.js'
import type { GenerationRequest } from '../../src/usage/generation-scheduler.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { analyzerClient } from '../support/aws-test-clients.js'

const DAY = 24 * 3600 * 1000
const ROLES = 200
const QUOTA = 50
const TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management'
const ACCESS_ROLE = 'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole'

let clock = Date.parse('2026-03-01T02:00:00Z')
let emulator: AwsEmulator
let client: AccessAnalyzerClient
const arns: string[] = []

beforeAll(async () => {
  // Jobs take three emulated minutes; the quota is the real one.
  emulator = new AwsEmulator({ seed: false, now: () => clock, durationMs: 3 * 60_000, dailyQuota: QUOTA })
  const { url } = await emulator.start()
  client = analyzerClient(url)
  for (let i = 0; i < ROLES; i++)
    arns.push(
      emulator.addRole({ name: `app-${i}`, generation: { actions: [{ action: 's3:ListAllMyBuckets' }] } })
    )
})
afterAll(async () => {
  client.destroy()
  await emulator.stop()
})

/** One scheduled run at the emulated time `clock`: every role asked for, over the last 90 days. */
async function dailyRun(reanalyzeAfterDays: number) {
  const window = { start: new Date(clock - 90 * DAY).toISOString(), end: new Date(clock).toISOString() }
  const requests: GenerationRequest[] = arns.map(roleArn => ({
    roleArn,
    trailArn: TRAIL,
    regions: [],
    accessRoleArn: ACCESS_ROLE,
    window
  }))
  const starts = () =>
    emulator.requests.filter(r => r.operation === 'StartPolicyGeneration' && r.status === 200)
  const startsBefore = starts().length
  const outcomes = await runPolicyGenerations(requests, {
    client,
    log: new MemoryLogger(),
    deadline: new Date(clock + 12 * 3600_000),
    reuseToleranceMs: reanalyzeAfterDays * DAY,
    pollMs: { initial: 60_000, max: 60_000 },
    now: () => new Date(clock),
    sleep: ms => {
      clock += ms
      return Promise.resolve()
    }
  })
  return { outcomes, started: starts().length - startsBefore }
}

describe('coverage across daily runs under the daily quota', () => {
  it('judges every role within ceil(200 / 50) = 4 runs, the never-judged first, and re-judges only stale roles', async () => {
    const judged = new Set<string>()
    const runs: { succeeded: number; waiting: number; reused: number }[] = []
    for (let day = 0; day < 5; day++) {
      const { outcomes } = await dailyRun(7)
      for (const o of outcomes) if (o.status === 'succeeded') judged.add(o.roleArn)
      runs.push({
        succeeded: outcomes.filter(o => o.status === 'succeeded').length,
        waiting: outcomes.filter(o => o.waiting).length,
        reused: outcomes.filter(o => o.reused).length
      })
      // Nothing but the quota holds a role back, and a waiting role is never a failure.
      expect(outcomes.filter(o => o.status === 'failed' || o.status === 'cancelled')).toEqual([])
      expect(outcomes.every(o => o.status === 'succeeded' || o.waiting)).toBe(true)
      if (day === Math.ceil(ROLES / QUOTA) - 1) expect(judged.size).toBe(ROLES)
      clock = Date.parse('2026-03-01T02:00:00Z') + (day + 1) * DAY
    }
    // Run k judges the 50 roles never judged and reuses the generations of the earlier runs.
    expect(runs.slice(0, 4)).toEqual([
      { succeeded: 50, waiting: 150, reused: 0 },
      { succeeded: 100, waiting: 100, reused: 50 },
      { succeeded: 150, waiting: 50, reused: 100 },
      { succeeded: 200, waiting: 0, reused: 150 }
    ])
    // Then, until the first generations are a week old, every role is judged on a reused one: no quota spent.
    expect(runs[4]).toEqual({ succeeded: 200, waiting: 0, reused: 200 })
  }, 180_000)

  it('tells when a waiting role was last judged, and starts the oldest first', async () => {
    clock += 8 * DAY // every earlier generation is out of ListPolicyGenerations' seven days
    await dailyRun(1) // 50 roles judged
    clock += DAY + 3600_000
    const { outcomes, started } = await dailyRun(1)
    expect(started).toBe(QUOTA)
    const waiting = outcomes.filter(o => o.waiting)
    expect(waiting).toHaveLength(ROLES - QUOTA)
    // With a one-day age the roles judged yesterday are stale, but the never-judged go first: they wait.
    const judgedYesterday = waiting.filter(o => o.lastJudged !== undefined)
    expect(judgedYesterday).toHaveLength(QUOTA)
    for (const o of judgedYesterday)
      expect(o.reason).toMatch(/^waits for a later run \(last judged on usage up to \d{4}-\d{2}-\d{2}\)/)
    for (const o of waiting.filter(o => o.lastJudged === undefined))
      expect(o.reason).toMatch(
        /^waits for a later run \(never judged\): not started: the daily Access Analyzer/
      )
  }, 60_000)
})
