/**
 * Two runs share the proposals branch: what one records while the other is still waiting on its policy generations
 * survives the other's proposal commit (which moves the branch by force), through the action's entry in process.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { AwsEmulator } from '../support/aws-emulator.js'
import { GitHubEmulator } from '../support/github-emulator.js'
import { runActionInProcess } from '../support/action-in-process.js'
import { JUDGED_STATE_PATH, parseJudgedState, serializeJudgedState } from '../../src/usage/judged-state.js'

const DAY = 24 * 3600 * 1000
const BRANCH = 'iam-least-privilege/proposals'
const START = Date.parse('2026-12-01T02:00:00Z')

let clock = START
let onSleep: (() => void) | undefined
let aws: AwsEmulator
let github: GitHubEmulator

beforeAll(async () => {
  aws = new AwsEmulator({ seed: false, now: () => clock, pollsInProgress: 1 })
  await aws.start()
  github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
  for (const [name, actions] of [
    ['app-a', ['s3:ListAllMyBuckets', 's3:DeleteBucket']],
    ['app-b', ['s3:ListAllMyBuckets']]
  ] as const)
    aws.addRole({
      name,
      inline: {
        app: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }
      },
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }], isComplete: true }
    })
}, 60_000)
afterAll(async () => {
  await aws.stop()
  await github.close()
})

function dailyRun() {
  const { AWS_REGION: _region, ...awsEnv } = aws.env()
  return runActionInProcess({
    inputs: {
      roles: 'app-*',
      'aws-region': 'us-east-1',
      'trail-arn': `arn:aws:cloudtrail:us-east-1:${aws.accountId}:trail/management`,
      'access-role-arn': `arn:aws:iam::${aws.accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
      'github-token': 'ghs_emulated_token',
      mode: 'pull-request',
      'reanalyze-after-days': '1'
    },
    env: { ...awsEnv, GITHUB_API_URL: github.url },
    clock: {
      now: () => new Date(clock),
      sleep: ms => {
        clock += ms
        onSleep?.()
        return Promise.resolve()
      }
    }
  })
}

describe('the judged-roles state while another run moves the proposals branch', () => {
  it('keeps the judgements another run recorded after this run read the state', async () => {
    expect((await dailyRun()).code).toBe(0)
    expect(github.readFile(BRANCH, JUDGED_STATE_PATH)).toBeDefined()

    // While the second run waits on its generations, another run (other roles, same branch) records its own.
    const other = `arn:aws:iam::${aws.accountId}:role/other-workflow-role`
    clock = START + 2 * DAY
    onSleep = () => {
      onSleep = undefined
      const now = new Date(clock)
      const onBranch = parseJudgedState(github.readFile(BRANCH, JUDGED_STATE_PATH) ?? '', now).state
      onBranch.set(other, { usageEnd: new Date(clock - 1000).toISOString(), jobId: 'other-job' })
      github.pushFiles(
        BRANCH,
        { [JUDGED_STATE_PATH]: serializeJudgedState(onBranch).text },
        'Record judged roles'
      )
    }
    const second = await dailyRun()
    expect(onSleep).toBeUndefined()
    expect(second.code).toBe(0)

    const state = parseJudgedState(github.readFile(BRANCH, JUDGED_STATE_PATH) ?? '', new Date(clock)).state
    expect(state.get(other)?.jobId).toBe('other-job')
    // This run's own judgements are recorded too (the window of its new generations).
    expect(state.get(`arn:aws:iam::${aws.accountId}:role/app-a`)?.usageEnd).toBe(
      new Date(START + 2 * DAY).toISOString()
    )
  }, 120_000)

  it('carries the state over unchanged when it cannot be read again before the proposal commit', async () => {
    const before = github.readFile(BRANCH, JUDGED_STATE_PATH)
    expect(before).toContain('other-workflow-role')
    // A new role with excess makes this run commit a new proposal; every read of the state file fails meanwhile.
    aws.addRole({
      name: 'app-c',
      inline: {
        app: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['s3:ListAllMyBuckets', 's3:DeleteBucket'], Resource: '*' }]
        }
      },
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }], isComplete: true }
    })
    clock = START + 4 * DAY
    github.injectFault({ operationId: 'repos/get-content', status: 500, times: 1000 })
    const third = await dailyRun()
    github.clearFaults()
    expect(third.code).toBe(0)
    expect(third.stdout).toMatch(/could not read \.iam-least-privilege\/judged\.json on the branch .* again/)
    expect(github.readFile(BRANCH, `iam/least-privilege/${aws.accountId}/app-c.json`)).toBeDefined()
    expect(github.readFile(BRANCH, JUDGED_STATE_PATH)).toBe(before)
  }, 120_000)
})
