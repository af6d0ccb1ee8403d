/**
 * Coverage across scheduled runs past ListPolicyGenerations' seven days, through the action's entry in process:
 * 50 roles in one account, 5 policy generations a day (the real quota is 50: the same ratio of roles to quota as
 * 500 roles, ten times cheaper to run; the bench measures 500 roles at the real quota), one pull-request-mode run a
 * day on an emulated clock
 * shared by the run and the AWS emulator (nothing sleeps for real). When each role was last judged is kept in the
 * state file on the proposals branch of the GitHub emulator; AWS lists only the last seven days of generations.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { AwsEmulator } from '../support/aws-emulator.js'
import { GitHubEmulator } from '../support/github-emulator.js'
import { runActionInProcess } from '../support/action-in-process.js'
import type { InProcessRunOptions } from '../support/action-in-process.js'
import { at } from '../../src/policy/at.js'
import { JUDGED_STATE_PATH } from '../../src/usage/judged-state.js'

const DAY = 24 * 3600 * 1000
const ROLES = 50
const QUOTA = 5
const REANALYZE_AFTER_DAYS = 7
const BRANCH = 'iam-least-privilege/proposals'
const START = Date.parse('2026-12-01T02:00:00Z')

let clock = START
let aws: AwsEmulator
let github: GitHubEmulator

beforeAll(async () => {
  // Each job is IN_PROGRESS for one poll; the quota is the real one.
  aws = new AwsEmulator({ seed: false, now: () => clock, pollsInProgress: 1, dailyQuota: QUOTA })
  await aws.start()
  github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
  for (let i = 0; i < ROLES; i++) {
    // One role in ten is granted more than it uses, so the runs also publish proposals.
    const actions = i % 10 === 0 ? ['s3:ListAllMyBuckets', 's3:DeleteBucket'] : ['s3:ListAllMyBuckets']
    aws.addRole({
      name: `app-${String(i).padStart(3, '0')}`,
      inline: {
        app: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }] }
      },
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }], isComplete: true }
    })
  }
}, 60_000)
afterAll(async () => {
  await aws.stop()
  await github.close()
})

function dailyRun(inputs: Record<string, string> = {}) {
  const { AWS_REGION: _region, ...awsEnv } = aws.env()
  const options: InProcessRunOptions = {
    inputs: {
      roles: 'app-*',
      'aws-region': 'us-east-1',
      'trail-arn': `arn:aws:cloudtrail:us-east-1:${aws.accountId}:trail/management`,
      'access-role-arn': `arn:aws:iam::${aws.accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
      'github-token': 'ghs_emulated_token',
      mode: 'pull-request',
      'reanalyze-after-days': String(REANALYZE_AFTER_DAYS),
      'timeout-minutes': '360',
      ...inputs
    },
    env: { ...awsEnv, GITHUB_API_URL: github.url },
    clock: {
      now: () => new Date(clock),
      sleep: ms => {
        clock += ms
        return Promise.resolve()
      }
    }
  }
  return runActionInProcess(options)
}

/** Role ARN -> the days (run numbers) its generations were started on. */
const startDays = new Map<string, number[]>()
let logged = 0

function recordStarts(day: number): void {
  for (const request of aws.requests.slice(logged)) {
    if (request.operation !== 'StartPolicyGeneration' || request.status !== 200) continue
    const details = request.params.policyGenerationDetails as { principalArn?: string } | undefined
    if (details?.principalArn)
      startDays.set(details.principalArn, [...(startDays.get(details.principalArn) ?? []), day])
  }
  logged = aws.requests.length
}

describe('coverage of 50 roles at 5 generations a day across daily runs, beyond the seven days AWS lists', () => {
  it('judges every role within ceil(50 / 5) = 10 runs and re-judges none before reanalyze-after-days', async () => {
    const runs = Math.ceil(ROLES / QUOTA)
    for (let day = 0; day < runs + 2; day++) {
      clock = START + day * DAY
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
    const state = JSON.parse(github.readFile(BRANCH, JUDGED_STATE_PATH) ?? '{}') as {
      version: number
      roles: Record<string, { usageEnd: string; jobId: string }>
    }
    expect(state.version).toBe(1)
    expect(Object.keys(state.roles)).toHaveLength(ROLES)
    // Proposals were published on the same branch the state is kept on.
    expect(github.pullRequests().filter(pr => pr.state === 'open')).toHaveLength(1)
  }, 300_000)
})
