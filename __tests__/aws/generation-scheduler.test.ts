import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { MemoryLogger } from '../../src/logger.js'
import { runPolicyGenerations } from '../../src/usage/generation-scheduler.js'
import type { GenerationRequest, SchedulerDeps } from '../../src/usage/generation-scheduler.js'
import { DENIED_CALLS_NOTE } from '../../src/usage/access-analyzer.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import type { AwsEmulatorOptions } from '../support/aws-emulator.js'
import { INSTANCE, STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { analyzerClient } from '../support/aws-test-clients.js'
import { STEAL_CREDENTIALS_USED } from '../support/stratus-facts.js'

const DAY = 24 * 3600 * 1000
const TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management'
const ACCESS_ROLE = 'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole'

/** One emulated clock shared by the emulator and the scheduler: sleeping advances it, nothing waits for real. */
let clock = 0
let emulator: AwsEmulator
let client: AccessAnalyzerClient
let log: MemoryLogger

async function boot(options: AwsEmulatorOptions = {}): Promise<void> {
  await emulator?.stop()
  emulator = new AwsEmulator({ now: () => clock, ...options })
  const { url } = await emulator.start()
  client?.destroy()
  client = analyzerClient(url)
}

/** Roles never judged are started in role ARN order: requests in that order start first to last. */
function inArnOrder(...roleNames: string[]): GenerationRequest[] {
  return roleNames.map(name => request(name)).sort((a, b) => (a.roleArn < b.roleArn ? -1 : 1))
}

function request(roleName: string, windowEnd = clock): GenerationRequest {
  return {
    roleArn: emulator.roleArn(
      roleName,
      roleName === STRATUS_ROLES.rdsServiceLinked ? '/aws-service-role/rds.amazonaws.com/' : '/'
    ),
    trailArn: TRAIL,
    regions: [],
    accessRoleArn: ACCESS_ROLE,
    window: { start: new Date(windowEnd - 30 * DAY).toISOString(), end: new Date(windowEnd).toISOString() }
  }
}

function deps(extra: Partial<SchedulerDeps> = {}): SchedulerDeps {
  return {
    client,
    log,
    deadline: new Date(clock + 3600_000),
    now: () => new Date(clock),
    sleep: ms => {
      clock += ms
      return Promise.resolve()
    },
    ...extra
  }
}

beforeAll(async () => {
  clock = Date.parse('2026-03-01T12:00:00Z')
  await boot()
})
beforeEach(() => {
  log = new MemoryLogger()
})
afterEach(() => {
  clock += 8 * DAY // earlier jobs fall out of ListPolicyGenerations' seven days
})
afterAll(async () => {
  client.destroy()
  await emulator.stop()
})

describe('runPolicyGenerations', () => {
  it('runs several roles one job at a time and parses what each role did', async () => {
    await boot()
    const roles = [
      STRATUS_ROLES.stealCredentials,
      STRATUS_ROLES.getPasswordData,
      STRATUS_ROLES.launchUnusualInstances
    ]
    const requests = roles.map(r => request(r))
    const outcomes = await runPolicyGenerations(requests, deps())

    expect(outcomes.map(o => o.status)).toEqual(['succeeded', 'succeeded', 'succeeded'])
    const starts = emulator.requests.filter(r => r.operation === 'StartPolicyGeneration')
    expect(starts.map(r => r.status)).toEqual([200, 200, 200])
    const steal = outcomes[0]?.usage
    expect(steal?.actions.map(a => a.action)).toEqual([...STEAL_CREDENTIALS_USED, 'sts:GetCallerIdentity'])
    expect(steal?.actions.find(a => a.action === 'ssm:PutInventory')?.resources).toEqual([INSTANCE])
    expect(steal?.complete).toBe(true)
    expect(steal?.window).toEqual(requests[0]?.window)
    expect(steal?.evidence.jobId).toBe(outcomes[0]?.jobId)
    // Every call of this role was denied, and Access Analyzer still lists it: the report must say so.
    expect(outcomes[1]?.usage?.actions.map(a => a.action)).toEqual(['ec2:GetPasswordData'])
    expect(outcomes[1]?.usage?.evidence.notes).toContain(DENIED_CALLS_NOTE)
    expect(outcomes[2]?.usage?.actions[0]?.resources).toHaveLength(6)
    expect(log.lines.some(l => /policy generation job \S+ IN_PROGRESS for \d+s/.test(l))).toBe(true)
  })

  it('waits for a foreign job (409 Conflict), starts after it ends, and never cancels it', async () => {
    await boot()
    const foreign = emulator.addForeignJob({
      principalArn: emulator.roleArn('someone-else'),
      durationMs: 10 * 60_000
    })
    const outcomes = await runPolicyGenerations([request(STRATUS_ROLES.enumerate)], deps())

    expect(outcomes[0]?.status).toBe('succeeded')
    const starts = emulator.requests.filter(r => r.operation === 'StartPolicyGeneration')
    expect(starts.some(r => r.status === 409)).toBe(true)
    expect(starts.at(-1)?.status).toBe(200)
    expect(emulator.cancelledJobs()).toEqual([])
    expect(emulator.jobStatus(foreign)).toBe('SUCCEEDED')
  })

  it('treats a 402 while a foreign job runs as busy, not as the daily quota', async () => {
    await boot({ concurrencyError: 'ServiceQuotaExceededException' })
    emulator.addForeignJob({ principalArn: emulator.roleArn('someone-else'), durationMs: 5 * 60_000 })
    const outcomes = await runPolicyGenerations(
      [request(STRATUS_ROLES.leaveOrg), request(STRATUS_ROLES.getUserData)],
      deps()
    )

    expect(outcomes.map(o => o.status)).toEqual(['succeeded', 'succeeded'])
    expect(emulator.requests.some(r => r.operation === 'StartPolicyGeneration' && r.status === 402)).toBe(
      true
    )
  })

  it('skips the remaining roles once a 402 names the daily quota, without retrying', async () => {
    await boot({ dailyQuota: 1 })
    const outcomes = await runPolicyGenerations(
      inArnOrder(STRATUS_ROLES.leaveOrg, STRATUS_ROLES.getUserData, STRATUS_ROLES.enumerate),
      deps()
    )
    expect(outcomes.map(o => o.status)).toEqual(['succeeded', 'skipped', 'skipped'])
    expect(outcomes[1]?.reason).toMatch(/daily Access Analyzer policy-generation quota/)
    expect(outcomes[2]?.reason).toBe(outcomes[1]?.reason)
    expect(emulator.count('StartPolicyGeneration')).toBe(2)
  })

  it('takes a second plain 402 with no job running as the daily quota', async () => {
    await boot({ dailyQuota: 1, dailyQuotaMessage: 'plain' })
    const outcomes = await runPolicyGenerations(
      inArnOrder(STRATUS_ROLES.leaveOrg, STRATUS_ROLES.getUserData, STRATUS_ROLES.enumerate),
      deps()
    )
    expect(outcomes.map(o => o.status)).toEqual(['succeeded', 'skipped', 'skipped'])
    // One success, then two refusals for the second role; the third role never tries.
    expect(emulator.count('StartPolicyGeneration')).toBe(3)
  })

  it('reuses the SUCCEEDED job of an earlier run for the same principal, trail and window (across pages)', async () => {
    await boot({ pageSize: 1 })
    const first = await runPolicyGenerations(
      [request(STRATUS_ROLES.getUserData), request(STRATUS_ROLES.leaveOrg)],
      deps()
    )
    clock += 3600_000
    // A job with another trail is never taken for ours.
    emulator.addForeignJob({
      principalArn: request(STRATUS_ROLES.leaveOrg).roleArn,
      status: 'SUCCEEDED',
      trailArn: `${TRAIL}-other`
    })
    const second = await runPolicyGenerations(
      [request(STRATUS_ROLES.getUserData), request(STRATUS_ROLES.leaveOrg)],
      deps()
    )

    expect(second.map(o => [o.status, o.reused])).toEqual([
      ['succeeded', true],
      ['succeeded', true]
    ])
    expect(second.map(o => o.jobId)).toEqual(first.map(o => o.jobId))
    expect(emulator.count('StartPolicyGeneration')).toBe(2)
    // The outcome reports the job's own window, not the slid one that was asked for.
    expect(second[0]?.usage?.window).toEqual(first[0]?.usage?.window)
  })

  it('starts a new job when the earlier one covers another window', async () => {
    await boot()
    const req = request(STRATUS_ROLES.getUserData)
    const old = emulator.addForeignJob({
      principalArn: req.roleArn,
      status: 'SUCCEEDED',
      trailArn: TRAIL,
      window: { start: new Date(clock - 60 * DAY).toISOString(), end: req.window.end }
    })
    const outcomes = await runPolicyGenerations([req], deps())
    expect(outcomes[0]).toMatchObject({ status: 'succeeded' })
    expect(outcomes[0]?.jobId).not.toBe(old)
    expect(outcomes[0]?.reused).toBeUndefined()
    expect(emulator.count('StartPolicyGeneration')).toBe(1)
  })

  it('reports a job cancelled by someone else as cancelled, without cancelling anything itself', async () => {
    await boot()
    const req = request(STRATUS_ROLES.enumerate)
    emulator.setGeneration(req.roleArn, { actions: [], stuck: true })
    let sleeps = 0
    const outcomes = await runPolicyGenerations(
      [req],
      deps({
        sleep: ms => {
          clock += ms
          if (++sleeps === 2) {
            const running = emulator.requests.find(
              r => r.operation === 'StartPolicyGeneration' && r.status === 200
            )
            emulator.finishJob(running?.jobId ?? '', 'CANCELED')
          }
          return Promise.resolve()
        }
      })
    )
    expect(outcomes[0]).toMatchObject({
      status: 'cancelled',
      reason: expect.stringMatching(/cancelled outside this run$/)
    })
    expect(emulator.count('CancelPolicyGeneration')).toBe(0)
  })

  it('adopts a still-running job of a cancelled run instead of starting a second one', async () => {
    await boot()
    const req = request(STRATUS_ROLES.stealCredentials)
    const running = emulator.addForeignJob({
      principalArn: req.roleArn,
      trailArn: TRAIL,
      window: req.window,
      durationMs: 120_000
    })
    emulator.setGeneration(req.roleArn, {
      ...emulator.generation(req.roleArn)!,
      actions: [{ action: 'ec2:DescribeInstances' }]
    })
    clock += 10_000
    const outcomes = await runPolicyGenerations([request(STRATUS_ROLES.stealCredentials)], deps())

    expect(outcomes[0]).toMatchObject({ status: 'succeeded', jobId: running, reused: true })
    expect(emulator.count('StartPolicyGeneration')).toBe(0)
  })

  it('on the deadline cancels only its own job and still reports every role', async () => {
    await boot()
    const stuck = request(STRATUS_ROLES.stealCredentials)
    emulator.setGeneration(stuck.roleArn, { actions: [], stuck: true })
    const outcomes = await runPolicyGenerations(
      [stuck, request(STRATUS_ROLES.leaveOrg)],
      deps({ deadline: new Date(clock + 15 * 60_000) })
    )

    expect(outcomes[0]?.status).toBe('cancelled')
    expect(outcomes[0]?.reason).toMatch(/deadline/)
    expect(outcomes[1]).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/not started: the deadline/)
    })
    expect(emulator.cancelledJobs()).toEqual([outcomes[0]?.jobId])
    expect(emulator.jobStatus(outcomes[0]?.jobId ?? '')).toBe('CANCELED')
  })

  it('never cancels a foreign job or an adopted job on the deadline', async () => {
    await boot()
    const foreign = emulator.addForeignJob({ principalArn: emulator.roleArn('someone-else') })
    const blocked = await runPolicyGenerations(
      [request(STRATUS_ROLES.leaveOrg)],
      deps({ deadline: new Date(clock + 10 * 60_000) })
    )
    expect(blocked[0]).toMatchObject({ status: 'skipped' })
    emulator.finishJob(foreign)

    const req = request(STRATUS_ROLES.enumerate)
    const adopted = emulator.addForeignJob({ principalArn: req.roleArn, trailArn: TRAIL, window: req.window })
    const outcomes = await runPolicyGenerations([req], deps({ deadline: new Date(clock + 10 * 60_000) }))
    expect(outcomes[0]).toMatchObject({ status: 'skipped', jobId: adopted, reused: true })
    expect(outcomes[0]?.reason).toMatch(/left running/)
    expect(emulator.count('CancelPolicyGeneration')).toBe(0)
    expect(emulator.jobStatus(adopted)).toBe('IN_PROGRESS')
    emulator.finishJob(adopted)
  })

  it('cancels its job when the workflow is cancelled (AbortSignal)', async () => {
    await boot()
    const stuck = request(STRATUS_ROLES.getPasswordData)
    emulator.setGeneration(stuck.roleArn, { actions: [], stuck: true })
    const controller = new AbortController()
    let sleeps = 0
    const outcomes = await runPolicyGenerations(
      [stuck, request(STRATUS_ROLES.leaveOrg)],
      deps({
        signal: controller.signal,
        // The signal fires during the third wait; the sleep itself never returns, as a real one would not before SIGTERM.
        sleep: ms => {
          clock += ms
          if (++sleeps === 3) {
            controller.abort()
            return new Promise(() => undefined)
          }
          return Promise.resolve()
        }
      })
    )
    expect(outcomes.map(o => o.status)).toEqual(['cancelled', 'skipped'])
    expect(outcomes[0]?.reason).toMatch(/workflow was cancelled/)
    expect(emulator.cancelledJobs()).toEqual([outcomes[0]?.jobId])
  })

  it('fails one role (FAILED job with jobError, AccessDenied) while the others complete', async () => {
    await boot()
    const failing = request(STRATUS_ROLES.getUserData)
    emulator.setGeneration(failing.roleArn, {
      actions: [],
      failWith: {
        code: 'SERVICE_QUOTA_EXCEEDED_ERROR',
        message:
          'CloudTrail log files processed per policy generation limit exceeded. Please fix before trying again.'
      }
    })
    const denied = request(STRATUS_ROLES.leaveOrg)
    emulator.fault({
      operation: 'StartPolicyGeneration',
      status: 403,
      code: 'AccessDeniedException',
      message: 'User is not authorized to perform: iam:PassRole',
      match: p => (p.policyGenerationDetails as { principalArn: string }).principalArn === denied.roleArn
    })
    const outcomes = await runPolicyGenerations([failing, denied, request(STRATUS_ROLES.enumerate)], deps())

    expect(outcomes.map(o => o.status)).toEqual(['failed', 'failed', 'succeeded'])
    expect(outcomes[0]?.reason).toMatch(/shorten lookback-days or limit trail-regions/)
    expect(outcomes[1]?.reason).toMatch(/^not allowed to start policy generation \(AccessDeniedException/)
  })

  it('rides out throttling (429 with Retry-After) and 500s', async () => {
    await boot()
    emulator.fault({
      operation: 'StartPolicyGeneration',
      status: 500,
      code: 'InternalServerException',
      message: 'internal'
    })
    emulator.fault({
      operation: 'GetGeneratedPolicy',
      status: 429,
      code: 'ThrottlingException',
      message: 'Rate exceeded',
      retryAfterSeconds: 2,
      times: 2
    })
    emulator.fault({
      operation: 'ListPolicyGenerations',
      status: 500,
      code: 'InternalServerException',
      message: 'internal'
    })
    const outcomes = await runPolicyGenerations([request(STRATUS_ROLES.leaveOrg)], deps())

    expect(outcomes[0]).toMatchObject({ status: 'succeeded' })
    expect(outcomes[0]?.usage?.actions.map(a => a.action)).toEqual(['organizations:LeaveOrganization'])
    expect(emulator.requests.filter(r => r.status === 429)).toHaveLength(2)
    // The retried start reused its idempotency token: one job only.
    expect(
      emulator.requests.filter(r => r.operation === 'StartPolicyGeneration' && r.status === 200)
    ).toHaveLength(1)
  })
})
