/**
 * Benchmark: policy generation for N roles under the one-job-per-account-and-Region quota, against the local
 * emulator with the real SDK client. Run: `npx tsx bench/access-analyzer-scheduler.ts`.
 *
 * Time is scaled: the emulator's clock runs `scale` times faster than the wall clock, and the scheduler sleeps
 * ms/scale of real time for every emulated ms, so both sides share one emulated clock. A job of G emulated seconds
 * takes G/scale real seconds. Everything is reported in emulated time. Each real HTTP round trip (~1 ms) also costs
 * `scale` ms of emulated time, so the measured ratio slightly overstates what real AWS would show.
 *
 * Lower bound = N x G (only one job may run at a time). Targets: total/lower bound <= 1.10, and at most one
 * GetGeneratedPolicy poll per 5 s of generation time on average.
 *
 * Then coverage across daily runs: R roles in one account, 50 generations a day, one run a day on a virtual clock
 * (nothing sleeps), ListPolicyGenerations listing the last 7 days, reanalyze-after-days 7: the runs it takes until
 * every role was judged once, against the lower bound ceil(R / 50), with what AWS lists only (summary and comment
 * modes, the CLI) and with the judged-roles state the pull-request mode keeps on the proposals branch.
 */
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { MemoryLogger } from '../src/logger.js'
import { runPolicyGenerations } from '../src/usage/generation-scheduler.js'
import type { GenerationRequest } from '../src/usage/generation-scheduler.js'
import { AwsEmulator } from '../__tests__/support/aws-emulator.js'

interface Scenario {
  roles: number
  generationSeconds: number
  scale: number
}

const SCENARIOS: Scenario[] = [
  { roles: 8, generationSeconds: 60, scale: 50 },
  { roles: 8, generationSeconds: 180, scale: 150 },
  { roles: 8, generationSeconds: 600, scale: 500 }
]

async function run({ roles, generationSeconds, scale }: Scenario): Promise<void> {
  const emulator = new AwsEmulator({ seed: false, timeScale: scale, durationMs: generationSeconds * 1000 })
  const { url } = await emulator.start()
  const client = new AccessAnalyzerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEMULATOREXAMPLE', secretAccessKey: 'bench' }
  })
  const requests: GenerationRequest[] = []
  const end = emulator.now()
  for (let i = 0; i < roles; i++) {
    const roleArn = emulator.addRole({
      name: `bench-role-${i}`,
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }] }
    })
    requests.push({
      roleArn,
      trailArn: `arn:aws:cloudtrail:us-east-1:${emulator.accountId}:trail/management`,
      regions: [],
      accessRoleArn: `arn:aws:iam::${emulator.accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
      window: { start: new Date(end - 30 * 86_400_000).toISOString(), end: new Date(end).toISOString() }
    })
  }
  const started = emulator.now()
  const wallStarted = Date.now()
  const outcomes = await runPolicyGenerations(requests, {
    client,
    log: new MemoryLogger(),
    deadline: new Date(started + roles * generationSeconds * 1000 * 3),
    now: () => new Date(emulator.now()),
    sleep: ms => new Promise(resolve => setTimeout(resolve, ms / scale))
  })
  const total = emulator.now() - started
  const wall = Date.now() - wallStarted
  client.destroy()
  await emulator.stop()

  const succeeded = outcomes.filter(o => o.status === 'succeeded').length
  const lowerBound = roles * generationSeconds * 1000
  const polls = emulator.count('GetGeneratedPolicy')
  const pollsPer5s = polls / (lowerBound / 5000)
  console.log(
    [
      `roles=${roles} generation=${generationSeconds}s scale=${scale}x`,
      `succeeded=${succeeded}/${roles}`,
      `total=${(total / 1000).toFixed(1)}s lower-bound=${lowerBound / 1000}s ratio=${(total / lowerBound).toFixed(3)}`,
      `api-calls/role=${(emulator.requests.length / roles).toFixed(1)}`,
      `polls/role=${(polls / roles).toFixed(1)} polls-per-5s=${pollsPer5s.toFixed(2)}`,
      `wall=${(wall / 1000).toFixed(1)}s`
    ].join('  ')
  )
}

const DAY = 86_400_000
const QUOTA = 50

async function coverage(roles: number, withState: boolean, maxRuns: number): Promise<void> {
  const start = Date.parse('2026-12-01T02:00:00Z')
  let clock = start
  const emulator = new AwsEmulator({ seed: false, now: () => clock, pollsInProgress: 1, dailyQuota: QUOTA })
  const { url } = await emulator.start()
  const client = new AccessAnalyzerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEMULATOREXAMPLE', secretAccessKey: 'bench' }
  })
  const arns: string[] = []
  for (let i = 0; i < roles; i++)
    arns.push(
      emulator.addRole({ name: `app-${i}`, generation: { actions: [{ action: 's3:ListAllMyBuckets' }] } })
    )
  const judged = new Map<string, string>()
  const covered = new Set<string>()
  const lastStart = new Map<string, number>()
  let early = 0
  let runs = 0
  const wallStarted = Date.now()
  while (covered.size < roles && runs < maxRuns) {
    clock = start + runs * DAY
    const window = { start: new Date(clock - 90 * DAY).toISOString(), end: new Date(clock).toISOString() }
    const outcomes = await runPolicyGenerations(
      arns.map(roleArn => ({
        roleArn,
        trailArn: `arn:aws:cloudtrail:us-east-1:${emulator.accountId}:trail/management`,
        regions: [],
        accessRoleArn: `arn:aws:iam::${emulator.accountId}:role/service-role/AccessAnalyzerMonitorServiceRole`,
        window
      })),
      {
        client,
        log: new MemoryLogger(),
        deadline: new Date(clock + 12 * 3600_000),
        reuseToleranceMs: 7 * DAY,
        pollMs: { initial: 60_000, max: 60_000 },
        now: () => new Date(clock),
        sleep: ms => {
          clock += ms
          return Promise.resolve()
        },
        ...(withState ? { judged } : {})
      }
    )
    for (const o of outcomes) {
      if (o.status !== 'succeeded' || !o.usage) continue
      covered.add(o.roleArn)
      judged.set(o.roleArn, o.usage.window.end)
      if (o.reused) continue
      const previous = lastStart.get(o.roleArn)
      if (previous !== undefined && runs - previous < 7) early++
      lastStart.set(o.roleArn, runs)
    }
    runs++
  }
  client.destroy()
  await emulator.stop()
  console.log(
    [
      `coverage roles=${roles} state=${withState ? 'proposals-branch' : 'aws-only'}`,
      covered.size === roles
        ? `every role judged after ${runs} runs (lower bound ${Math.ceil(roles / QUOTA)})`
        : `after ${runs} runs ${covered.size} of ${roles} judged`,
      `re-judged before 7 days=${early}`,
      `wall=${((Date.now() - wallStarted) / 1000).toFixed(1)}s`
    ].join('  ')
  )
}

for (const scenario of SCENARIOS) await run(scenario)
for (const withState of [false, true]) await coverage(500, withState, 20)
