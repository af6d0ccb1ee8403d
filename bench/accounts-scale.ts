/**
 * Benchmark: an organization's roles under Access Analyzer's quotas, one scheduled run a day. Run:
 * `npx tsx bench/accounts-scale.ts` (ACCOUNTS, ROLES, CONCURRENCY, DAYS override 20, 200, 10, 5).
 *
 * Each account is its own emulated Access Analyzer (a local HTTP server, the real SDK client): one job at a time,
 * 50 starts a day, jobs of 2 to 4 emulated minutes. Every account's scheduler and every emulator share one virtual
 * clock that only moves when every running scheduler sleeps (a discrete-event simulation: nothing sleeps for real).
 * Accounts run account-concurrency at a time, as the action runs them.
 *
 * Per daily run: its emulated duration against the lower bound the quotas allow (each account's new jobs one after
 * another; the accounts CONCURRENCY at a time), and the roles judged so far; then the days until every role was judged.
 */
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { MemoryLogger } from '../src/logger.js'
import { mapConcurrent } from '../src/pipeline/accounts.js'
import { runPolicyGenerations } from '../src/usage/generation-scheduler.js'
import type { GenerationRequest } from '../src/usage/generation-scheduler.js'
import { AwsEmulator } from '../__tests__/support/aws-emulator.js'

const ACCOUNTS = Number(process.env.ACCOUNTS ?? 20)
const ROLES = Number(process.env.ROLES ?? 200)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 10)
const DAYS = Number(process.env.DAYS ?? 5)
const DAY = 24 * 3600_000
const RUN_BUDGET = 6 * 3600_000 // timeout-minutes 360: a GitHub-hosted job's limit

/** Time that moves only when every running scheduler waits: then to the earliest wake-up. */
class VirtualClock {
  now = Date.parse('2026-03-02T03:00:00Z')
  running = 0
  private readonly timers: { at: number; wake: () => void }[] = []

  sleep = (ms: number): Promise<void> =>
    new Promise(wake => {
      this.timers.push({ at: this.now + ms, wake })
      this.advance()
    })

  advance(): void {
    if (this.running === 0 || this.timers.length < this.running) return
    this.timers.sort((a, b) => a.at - b.at)
    const next = this.timers.shift()
    if (!next) return
    this.now = Math.max(this.now, next.at)
    next.wake()
  }
}

/** A fixed sequence in [0, 1): the same job durations on every run of the bench. */
function seeded(seed: number): () => number {
  let state = seed
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return state / 2 ** 31
  }
}

interface Account {
  id: string
  emulator: AwsEmulator
  client: AccessAnalyzerClient
  roles: { arn: string; durationMs: number }[]
}

const clock = new VirtualClock()
const random = seeded(42)
const accounts: Account[] = []
for (let a = 0; a < ACCOUNTS; a++) {
  const id = String(100000000000 + a)
  const emulator = new AwsEmulator({ seed: false, accountId: id, now: () => clock.now, dailyQuota: 50 })
  const { url } = await emulator.start()
  const roles = Array.from({ length: ROLES }, (_, r) => {
    const durationMs = Math.round((2 + 2 * random()) * 60_000)
    const arn = emulator.addRole({
      name: `app-${r}`,
      generation: { actions: [{ action: 's3:ListAllMyBuckets' }], durationMs }
    })
    return { arn, durationMs }
  })
  const client = new AccessAnalyzerClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIAEMULATOREXAMPLE', secretAccessKey: 'bench' },
    maxAttempts: 1
  })
  accounts.push({ id, emulator, client, roles })
}

const judged = new Set<string>()
let coveredOnDay: number | undefined
const wallStarted = Date.now()
for (let day = 1; day <= DAYS; day++) {
  const runStart = clock.now
  const work = new Map<string, number>()
  const requestsBefore = accounts.reduce((n, a) => n + a.emulator.requests.length, 0)
  const outcomes = await mapConcurrent(accounts, CONCURRENCY, async account => {
    const window = {
      start: new Date(clock.now - 90 * DAY).toISOString(),
      end: new Date(clock.now).toISOString()
    }
    const requests: GenerationRequest[] = account.roles.map(r => ({
      roleArn: r.arn,
      trailArn: `arn:aws:cloudtrail:us-east-1:${account.id}:trail/organization`,
      regions: [],
      accessRoleArn: `arn:aws:iam::${account.id}:role/service-role/AccessAnalyzerMonitorServiceRole`,
      window
    }))
    clock.running++
    try {
      return await runPolicyGenerations(requests, {
        client: account.client,
        log: new MemoryLogger(),
        deadline: new Date(runStart + RUN_BUDGET),
        reuseToleranceMs: 7 * DAY,
        now: () => new Date(clock.now),
        sleep: clock.sleep
      })
    } finally {
      clock.running--
      clock.advance()
    }
  })
  outcomes.forEach((list, i) => {
    const account = accounts[i]
    if (!account) return
    let ms = 0
    for (const o of list) {
      if (o.status === 'succeeded') judged.add(o.roleArn)
      if (o.status === 'succeeded' && !o.reused)
        ms += account.roles.find(r => r.arn === o.roleArn)?.durationMs ?? 0
    }
    work.set(account.id, ms)
  })
  const all = outcomes.flat()
  const works = [...work.values()]
  const lowerBound = Math.max(Math.max(...works), works.reduce((a, b) => a + b, 0) / CONCURRENCY)
  const took = clock.now - runStart
  const requests = accounts.reduce((n, a) => n + a.emulator.requests.length, 0) - requestsBefore
  if (coveredOnDay === undefined && judged.size === ACCOUNTS * ROLES) coveredOnDay = day
  console.log(
    [
      `day ${day}`,
      `generated=${all.filter(o => o.status === 'succeeded' && !o.reused).length}`,
      `reused=${all.filter(o => o.reused).length}`,
      `waiting=${all.filter(o => o.waiting).length}`,
      `other=${all.filter(o => o.status !== 'succeeded' && !o.waiting).length}`,
      `run=${(took / 60_000).toFixed(0)}min lower-bound=${(lowerBound / 60_000).toFixed(0)}min ratio=${lowerBound > 0 ? (took / lowerBound).toFixed(3) : '-'}`,
      `judged-so-far=${judged.size}/${ACCOUNTS * ROLES}`,
      `api-calls=${requests}`
    ].join('  ')
  )
  clock.now = runStart + DAY
}
console.log(
  `accounts=${ACCOUNTS} roles/account=${ROLES} concurrency=${CONCURRENCY}: every role judged after ${coveredOnDay ?? `more than ${DAYS}`} daily run(s) (target ${Math.ceil(ROLES / 50)}); bench wall ${((Date.now() - wallStarted) / 1000).toFixed(0)}s`
)
for (const account of accounts) {
  account.client.destroy()
  await account.emulator.stop()
}
