/**
 * Coverage across scheduled runs past ListPolicyGenerations' seven days, through the action's entry in process:
 * 50 roles in one account, 5 policy generations a day (the real quota is 50: the same ratio of roles to quota as
 * 500 roles, ten times cheaper to run; the bench measures 500 roles at the real quota), one pull-request-mode run a
 * day on an emulated clock
 * shared by the run and the AWS emulator (nothing sleeps for real). When each role was last judged is kept in the
 * state file on the proposals branch of the GitHub emulator; AWS lists only the last seven days of generations.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DAY, PROPOSALS_BRANCH, ScheduledRuns } from '../support/scheduled-runs.js'
import { at } from '../../src/policy/at.js'
import { JUDGED_STATE_PATH } from '../../src/usage/judged-state.js'

const ROLES = 50
const QUOTA = 5
const REANALYZE_AFTER_DAYS = 7
const START = Date.parse('2026-12-01T02:00:00Z')

let world: ScheduledRuns

beforeAll(async () => {
  world = await ScheduledRuns.start(START, QUOTA)
  for (let i = 0; i < ROLES; i++)
    // One role in ten is granted more than it uses, so the runs also publish proposals.
    world.addListBucketsRole(
      `app-${String(i).padStart(3, '0')}`,
      i % 10 === 0 ? ['s3:ListAllMyBuckets', 's3:DeleteBucket'] : ['s3:ListAllMyBuckets']
    )
}, 60_000)
afterAll(() => world.stop())

function dailyRun() {
  return world.run({ 'reanalyze-after-days': String(REANALYZE_AFTER_DAYS), 'timeout-minutes': '360' })
}

/** Role ARN -> the days (run numbers) its generations were started on. */
const startDays = new Map<string, number[]>()
let logged = 0

function recordStarts(day: number): void {
  for (const request of world.aws.requests.slice(logged)) {
    if (request.operation !== 'StartPolicyGeneration' || request.status !== 200) continue
    const details = request.params.policyGenerationDetails as { principalArn?: string } | undefined
    if (details?.principalArn)
      startDays.set(details.principalArn, [...(startDays.get(details.principalArn) ?? []), day])
  }
  logged = world.aws.requests.length
}

describe('coverage of 50 roles at 5 generations a day across daily runs, beyond the seven days AWS lists', () => {
  it('judges every role within ceil(50 / 5) = 10 runs and re-judges none before reanalyze-after-days', async () => {
    const runs = Math.ceil(ROLES / QUOTA)
    for (let day = 0; day < runs + 2; day++) {
      world.clock = START + day * DAY
      const run = await dailyRun()
      recordStarts(day)
      expect(run.code).toBe(0)
      expect(run.stdout).not.toMatch(/^::(error|warning)::.*(judged\.json|could not record)/m)
      if (day === runs - 1) expect(startDays.size).toBe(ROLES)
    }
    expect(startDays.size).toBe(ROLES)
    for (const days of startDays.values())
      for (let i = 1; i < days.length; i++)
        expect(at(days, i) - at(days, i - 1)).toBeGreaterThanOrEqual(REANALYZE_AFTER_DAYS)
    // After the tenth run the quota goes to the oldest judgements that AWS no longer lists: the first days' roles.
    const twice = [...startDays].filter(([, days]) => days.length > 1).map(([, days]) => days)
    expect(twice).toHaveLength(2 * QUOTA)
    expect(twice.every(days => days[0] === 0 || days[0] === 1)).toBe(true)
    // The state names every role with the window its latest judgement ended on, one role a line.
    const state = JSON.parse(world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH) ?? '{}') as {
      version: number
      roles: Record<string, { usageEnd: string; jobId: string }>
    }
    expect(state.version).toBe(1)
    expect(Object.keys(state.roles)).toHaveLength(ROLES)
    // Proposals were published on the same branch the state is kept on.
    expect(world.github.pullRequests().filter(pr => pr.state === 'open')).toHaveLength(1)
  }, 300_000)
})
