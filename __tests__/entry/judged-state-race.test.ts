/**
 * Two runs share the proposals branch: what one records while the other is still waiting on its policy generations
 * survives the other's proposal commit (which moves the branch by force), through the action's entry in process.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DAY, PROPOSALS_BRANCH, ScheduledRuns } from '../support/scheduled-runs.js'
import { JUDGED_STATE_PATH, parseJudgedState, serializeJudgedState } from '../../src/usage/judged-state.js'

const START = Date.parse('2026-12-01T02:00:00Z')

let world: ScheduledRuns

beforeAll(async () => {
  world = await ScheduledRuns.start(START)
  world.addListBucketsRole('app-a', ['s3:ListAllMyBuckets', 's3:DeleteBucket'])
  world.addListBucketsRole('app-b', ['s3:ListAllMyBuckets'])
}, 60_000)
afterAll(() => world.stop())

function dailyRun() {
  return world.run({ 'reanalyze-after-days': '1' })
}

describe('the judged-roles state while another run moves the proposals branch', () => {
  it('keeps the judgements another run recorded after this run read the state', async () => {
    expect((await dailyRun()).code).toBe(0)
    expect(world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH)).toBeDefined()

    // While the second run waits on its generations, another run (other roles, same branch) records its own.
    const other = `arn:aws:iam::${world.aws.accountId}:role/other-workflow-role`
    world.clock = START + 2 * DAY
    world.onSleep = () => {
      world.onSleep = undefined
      const now = new Date(world.clock)
      const onBranch = parseJudgedState(
        world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH) ?? '',
        now
      ).state
      onBranch.set(other, { usageEnd: new Date(world.clock - 1000).toISOString(), jobId: 'other-job' })
      world.github.pushFiles(
        PROPOSALS_BRANCH,
        { [JUDGED_STATE_PATH]: serializeJudgedState(onBranch).text },
        'Record judged roles'
      )
    }
    const second = await dailyRun()
    expect(world.onSleep).toBeUndefined()
    expect(second.code).toBe(0)

    const state = parseJudgedState(
      world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH) ?? '',
      new Date(world.clock)
    ).state
    expect(state.get(other)?.jobId).toBe('other-job')
    // This run's own judgements are recorded too (the window of its new generations).
    expect(state.get(`arn:aws:iam::${world.aws.accountId}:role/app-a`)?.usageEnd).toBe(
      new Date(START + 2 * DAY).toISOString()
    )
  }, 120_000)

  it('carries the state over unchanged when it cannot be read again before the proposal commit', async () => {
    const before = world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH)
    expect(before).toContain('other-workflow-role')
    // A new role with excess makes this run commit a new proposal; every read of the state file fails meanwhile.
    world.addListBucketsRole('app-c', ['s3:ListAllMyBuckets', 's3:DeleteBucket'])
    world.clock = START + 4 * DAY
    world.github.injectFault({ operationId: 'repos/get-content', status: 500, times: 1000 })
    const third = await dailyRun()
    world.github.clearFaults()
    expect(third.code).toBe(0)
    expect(third.stdout).toMatch(/could not read \.iam-least-privilege\/judged\.json on the branch .* again/)
    expect(
      world.github.readFile(PROPOSALS_BRANCH, `iam/least-privilege/${world.aws.accountId}/app-c.json`)
    ).toBeDefined()
    expect(world.github.readFile(PROPOSALS_BRANCH, JUDGED_STATE_PATH)).toBe(before)
  }, 120_000)
})
