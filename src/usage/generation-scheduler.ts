/**
 * Runs Access Analyzer policy generations for many roles under the service's quotas: one generation at a time per
 * account and Region (one client = one account+Region, so one queue), 50 (or 5) starts per day with cancelled jobs
 * counted, and a deadline. Jobs are reused across reruns, and only jobs this run started are ever cancelled.
 *
 * Decisions (see the report notes):
 * - Busy: 409 ConflictException means another generation runs; wait and retry until the deadline. A 402 whose
 *   message or resource names the daily quota means the daily quota is spent. Any other 402 is ambiguous (AWS does
 *   not document which error a second concurrent job gets): we list the account's generations; if one is
 *   IN_PROGRESS (it cannot be ours: our queue is idle when we start) we wait for it, otherwise a second such 402
 *   in a row is taken as the daily quota. Once the daily quota is spent no start is attempted again in this run.
 * - Reuse: before starting, ListPolicyGenerations (last 7 days) for the principal; each IN_PROGRESS or SUCCEEDED
 *   candidate, newest first, is read with GetGeneratedPolicy and reused when its trail ARN and Regions equal the
 *   request's and its start and end times are each within `reuseToleranceMs` (default 24 h) of the requested window.
 *   A rerun computes a window that has slid by minutes or hours; over a lookback of weeks that is immaterial, and the
 *   outcome reports the job's own window, so the report stays exact.
 * - A reused job was not started by this run (it may be a colleague's console job), so it is never cancelled: on the
 *   deadline it is left running for a later rerun to reuse.
 */
import { errorMessage } from '../error-message.js'
import { randomUUID } from 'node:crypto'
import type { AccessAnalyzerClient, GetGeneratedPolicyCommandOutput } from '@aws-sdk/client-accessanalyzer'
import {
  cancelPolicyGeneration,
  classifyStartError,
  getGeneratedPolicy,
  listPolicyGenerations,
  startPolicyGeneration
} from '../aws/access-analyzer.js'
import type { GenerationRequest } from '../aws/access-analyzer.js'
import { awsErrorName, backoffDelay, describeAwsError, isTransientAwsError, realSleep } from '../aws/retry.js'
import type { Sleep } from '../aws/retry.js'
import type { Logger } from '../logger.js'
import type { RoleUsage } from '../model.js'
import { describeJobError, parseGeneratedPolicy } from './access-analyzer.js'

export type { GenerationRequest } from '../aws/access-analyzer.js'

interface GenerationOutcome {
  roleArn: string
  status: 'succeeded' | 'failed' | 'skipped' | 'cancelled'
  usage?: RoleUsage
  reason?: string
  jobId?: string
  /** True when the job was found (started earlier) rather than started by this run. */
  reused?: boolean
  /** Not started because the daily quota is spent: the role waits for a later run (not a failure). */
  waiting?: true
  /** When the role's latest finished generation for this trail ended (ISO 8601), when one is known. */
  lastJudged?: string
}

/** A role that needs a new generation, with when its latest judgement ended (undefined: never). */
interface Fresh {
  index: number
  request: GenerationRequest
  lastJudged?: string
}

/**
 * Never judged first, then the oldest judgement; ties in role ARN order, never in request order: the roles left
 * waiting by one run are the first of the next, so successive runs under the daily quota cover every role in turn.
 */
function oldestFirst(a: Fresh, b: Fresh): number {
  const byArn = a.request.roleArn < b.request.roleArn ? -1 : a.request.roleArn > b.request.roleArn ? 1 : 0
  if (a.lastJudged === b.lastJudged) return byArn
  if (a.lastJudged === undefined) return -1
  if (b.lastJudged === undefined) return 1
  return Date.parse(a.lastJudged) - Date.parse(b.lastJudged) || byArn
}

/** The later of two ISO 8601 instants, either possibly unknown. */
function later(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined || b === undefined) return a ?? b
  return Date.parse(b) > Date.parse(a) ? b : a
}

export interface SchedulerDeps {
  client: AccessAnalyzerClient
  log: Logger
  deadline: Date
  signal?: AbortSignal
  sleep?: Sleep
  now?: () => Date
  /** Poll interval: `initial` at first, then 10% of the job's age, capped at `max` (plus up to 20% jitter). */
  pollMs?: { initial: number; max: number }
  /** Wait between start attempts while another generation runs. */
  busyWaitMs?: { initial: number; max: number }
  reuseToleranceMs?: number
  /** The longest wait for a start of the last 24 hours to age out of the daily quota; default 10 minutes. */
  quotaWaitMs?: number
  random?: () => number
  /**
   * When each role was last judged as recorded outside AWS (the state file on the proposals branch): role ARN ->
   * end of the usage window. It only orders the roles that need a new generation; the newer of it and what
   * ListPolicyGenerations lists (the last 7 days) counts.
   */
  judged?: ReadonlyMap<string, string>
}

const DEFAULT_POLL = { initial: 5_000, max: 30_000 }
const DEFAULT_BUSY_WAIT = { initial: 15_000, max: 60_000 }
const DEFAULT_REUSE_TOLERANCE_MS = 24 * 3600 * 1000
const DEFAULT_QUOTA_WAIT_MS = 10 * 60_000
const DAY_MS = 24 * 3600 * 1000
const MAX_REUSE_CANDIDATES = 5
const MAX_TRANSIENT_FAILURES = 5

type StopReason = 'deadline' | 'aborted'

class Stopped extends Error {
  constructor(readonly why: StopReason) {
    super(why)
  }
}

function formatDuration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  const m = Math.floor(s / 60)
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`
}

function stopReason(why: StopReason): string {
  return why === 'deadline' ? 'the deadline (timeout-minutes) was reached' : 'the workflow was cancelled'
}

function withinTolerance(a: Date | undefined, b: string, tolerance: number): boolean {
  return a !== undefined && Math.abs(new Date(a).getTime() - new Date(b).getTime()) <= tolerance
}

function sameTrail(output: GetGeneratedPolicyCommandOutput, request: GenerationRequest): boolean {
  const trails = output.generatedPolicyResult?.properties?.cloudTrailProperties?.trailProperties ?? []
  const [trail] = trails
  if (trails.length !== 1 || trail?.cloudTrailArn !== request.trailArn) return false
  const allRegions = trail.allRegions === true
  if (request.regions.length === 0) return allRegions
  const regions = [...(trail.regions ?? [])].sort()
  const wanted = [...request.regions].sort()
  return !allRegions && regions.length === wanted.length && regions.every((r, i) => r === wanted[i])
}

class Scheduler {
  private readonly now: () => Date
  private readonly sleep: Sleep
  private readonly random: () => number
  private readonly poll: { initial: number; max: number }
  private readonly busyWait: { initial: number; max: number }
  private readonly aborted: Promise<void>
  private dailyQuotaReason: string | undefined
  /** The last start was refused for the daily quota after a wait for a slot to free. */
  private quotaWaited = false

  constructor(private readonly deps: SchedulerDeps) {
    this.now = deps.now ?? (() => new Date())
    this.sleep = deps.sleep ?? realSleep
    this.random = deps.random ?? Math.random
    this.poll = deps.pollMs ?? DEFAULT_POLL
    this.busyWait = deps.busyWaitMs ?? DEFAULT_BUSY_WAIT
    const signal = deps.signal
    this.aborted = new Promise(resolve => {
      if (signal?.aborted) resolve()
      else signal?.addEventListener('abort', () => resolve(), { once: true })
    })
  }

  private stopped: StopReason | undefined

  /**
   * First every role whose earlier generation can be reused (no quota spent), then new generations for the others,
   * never analyzed first and then oldest first. Outcomes are in the order of the requests.
   */
  async run(requests: GenerationRequest[]): Promise<GenerationOutcome[]> {
    const outcomes: (GenerationOutcome | undefined)[] = requests.map(() => undefined)
    const fresh: Fresh[] = []
    await this.each(
      requests.map((request, index) => ({ index, request })),
      outcomes,
      async ({ index, request }) => {
        const found = await this.findReusableJob(request)
        if (found.reusable) return this.follow(request, found.reusable.jobId, false, found.reusable.output)
        const lastJudged = later(found.lastJudged, this.deps.judged?.get(request.roleArn))
        fresh.push({ index, request, ...(lastJudged ? { lastJudged } : {}) })
        return undefined
      }
    )
    await this.each(fresh.sort(oldestFirst), outcomes, item => this.generate(item))
    return requests.map(
      (request, i) =>
        outcomes[i] ?? { roleArn: request.roleArn, status: 'failed', reason: 'internal: no outcome' }
    )
  }

  /** Runs `step` for each item in turn; once the run is stopped the rest are reported as not started. */
  private async each<T extends { index: number; request: GenerationRequest }>(
    items: readonly T[],
    outcomes: (GenerationOutcome | undefined)[],
    step: (item: T) => Promise<GenerationOutcome | undefined>
  ): Promise<void> {
    for (const item of items) {
      const { roleArn } = item.request
      if (this.stopped === undefined) this.stopped = this.stopState()
      if (this.stopped !== undefined) {
        outcomes[item.index] = {
          roleArn,
          status: 'skipped',
          reason: `not started: ${stopReason(this.stopped)}`
        }
        continue
      }
      try {
        const outcome = await step(item)
        if (outcome) outcomes[item.index] = outcome
      } catch (error) {
        if (error instanceof Stopped) {
          this.stopped = error.why
          outcomes[item.index] = {
            roleArn,
            status: 'skipped',
            reason: `not started: ${stopReason(error.why)}`
          }
        } else {
          outcomes[item.index] = { roleArn, status: 'failed', reason: startFailureReason(error) }
        }
      }
    }
  }

  private stopState(): StopReason | undefined {
    if (this.deps.signal?.aborted) return 'aborted'
    if (this.now().getTime() >= this.deps.deadline.getTime()) return 'deadline'
    return undefined
  }

  private checkpoint(): void {
    const why = this.stopState()
    if (why) throw new Stopped(why)
  }

  /** Sleeps at most until the deadline; wakes early when the signal aborts. */
  private async wait(ms: number): Promise<void> {
    this.checkpoint()
    const remaining = this.deps.deadline.getTime() - this.now().getTime()
    await Promise.race([this.sleep(Math.max(0, Math.min(ms, remaining)), this.deps.signal), this.aborted])
    this.checkpoint()
    // A timer may fire a hair early: a sleep cut short by the deadline ends the wait for good.
    if (remaining <= ms) throw new Stopped('deadline')
  }

  private async generate({ request, lastJudged }: Fresh): Promise<GenerationOutcome> {
    const waiting = (reason: string): GenerationOutcome => ({
      roleArn: request.roleArn,
      status: 'skipped',
      waiting: true,
      reason: `waits for a later run (${lastJudged ? `last judged on usage up to ${lastJudged.slice(0, 10)}` : 'never judged'}): ${reason}`,
      ...(lastJudged ? { lastJudged } : {})
    })
    if (this.dailyQuotaReason) return waiting(this.dailyQuotaReason)
    const started = await this.startWhenFree(request)
    if ('skipped' in started) return waiting(started.skipped)
    const outcome = await this.follow(request, started.jobId, true)
    return outcome.status === 'succeeded' || !lastJudged ? outcome : { ...outcome, lastJudged }
  }

  /**
   * An earlier job of the principal to reuse: same trail and Regions, window within the tolerance. Otherwise, when
   * the newest finished job for the same trail ended (how long the role has waited to be judged again).
   */
  private async findReusableJob(request: GenerationRequest): Promise<{
    reusable?: { jobId: string; output: GetGeneratedPolicyCommandOutput }
    lastJudged?: string
  }> {
    const { client, log } = this.deps
    const tolerance = this.deps.reuseToleranceMs ?? DEFAULT_REUSE_TOLERANCE_MS
    this.checkpoint()
    let candidates
    try {
      candidates = (await listPolicyGenerations(client, request.roleArn))
        .filter(
          g => g.principalArn === request.roleArn && (g.status === 'IN_PROGRESS' || g.status === 'SUCCEEDED')
        )
        .sort((a, b) => new Date(b.startedOn ?? 0).getTime() - new Date(a.startedOn ?? 0).getTime())
        .slice(0, MAX_REUSE_CANDIDATES)
    } catch (error) {
      log.warning(
        `role ${request.roleArn}: could not list earlier policy generations (${describeAwsError(error)}); starting a new one`
      )
      return {}
    }
    let lastJudged: string | undefined
    for (const candidate of candidates) {
      if (!candidate.jobId) continue
      this.checkpoint()
      let output: GetGeneratedPolicyCommandOutput
      try {
        output = await getGeneratedPolicy(client, candidate.jobId)
      } catch (error) {
        log.debug(
          `role ${request.roleArn}: could not read job ${candidate.jobId} (${describeAwsError(error)})`
        )
        continue
      }
      const props = output.generatedPolicyResult?.properties?.cloudTrailProperties
      if (!sameTrail(output, request)) continue
      if (
        withinTolerance(props?.startTime, request.window.start, tolerance) &&
        withinTolerance(props?.endTime, request.window.end, tolerance)
      ) {
        log.info(
          `role ${request.roleArn}: reusing policy generation job ${candidate.jobId} (${candidate.status}, same principal, trail and window)`
        )
        return { reusable: { jobId: candidate.jobId, output } }
      }
      if (candidate.status === 'SUCCEEDED' && props?.endTime && !lastJudged)
        lastJudged = new Date(props.endTime).toISOString()
    }
    return lastJudged ? { lastJudged } : {}
  }

  private async startWhenFree(request: GenerationRequest): Promise<{ jobId: string } | { skipped: string }> {
    const { client, log } = this.deps
    const clientToken = randomUUID()
    let busyWaits = 0
    let quotaStrikes = 0
    let transientFailures = 0
    for (;;) {
      this.checkpoint()
      try {
        const jobId = await startPolicyGeneration(client, request, clientToken)
        this.quotaWaited = false
        log.info(
          `role ${request.roleArn}: started policy generation job ${jobId} (${request.window.start} to ${request.window.end})`
        )
        return { jobId }
      } catch (error) {
        const refusal = classifyStartError(error)
        if (refusal === 'daily') {
          // A wait that freed no slot (the quota is not a rolling 24 hours, or is lower) is not repeated.
          const freeAt = this.quotaWaited ? undefined : await this.nextQuotaSlot()
          this.quotaWaited = true
          if (freeAt === undefined) return { skipped: this.spendDailyQuota(describeAwsError(error)) }
          log.info(
            `role ${request.roleArn}: the daily policy-generation quota is spent until a start of the last 24 hours ages out; retrying in ${formatDuration(freeAt - this.now().getTime())}`
          )
          await this.wait(freeAt - this.now().getTime())
          continue
        }
        if (refusal === 'quota') {
          const running = await this.foreignJobRunning()
          if (!running) {
            quotaStrikes++
            if (quotaStrikes >= 2) return { skipped: this.spendDailyQuota(describeAwsError(error)) }
          } else {
            quotaStrikes = 0
          }
        }
        if (refusal === 'busy' || refusal === 'quota') {
          const delay =
            Math.min(this.busyWait.max, this.busyWait.initial * 2 ** busyWaits) * (1 + 0.2 * this.random())
          busyWaits++
          log.info(
            `role ${request.roleArn}: another policy generation is running in this account and Region (${awsErrorName(error)}); retrying in ${formatDuration(delay)}`
          )
          await this.wait(delay)
          continue
        }
        if (isTransientAwsError(error) && ++transientFailures < MAX_TRANSIENT_FAILURES) {
          const delay = backoffDelay(transientFailures, 1000, 30_000, this.random)
          log.info(
            `role ${request.roleArn}: StartPolicyGeneration failed (${describeAwsError(error)}); retrying in ${formatDuration(delay)}`
          )
          await this.wait(delay)
          continue
        }
        throw error
      }
    }
  }

  private async foreignJobRunning(): Promise<boolean> {
    try {
      return (await listPolicyGenerations(this.deps.client)).some(g => g.status === 'IN_PROGRESS')
    } catch (error) {
      this.deps.log.debug(`could not list the account's policy generations (${describeAwsError(error)})`)
      return false
    }
  }

  /**
   * When the daily quota counts the last 24 hours, a start frees a slot 24 hours after it was made: a run scheduled
   * at the same time every day can follow yesterday's starts as they age out. The time the oldest start of the last
   * 24 hours (cancelled jobs count) ages out, when that is soon enough to wait for; undefined otherwise.
   */
  private async nextQuotaSlot(): Promise<number | undefined> {
    const now = this.now().getTime()
    let starts: number[]
    try {
      starts = (await listPolicyGenerations(this.deps.client))
        .map(g => new Date(g.startedOn ?? 0).getTime())
        .filter(t => t > now - DAY_MS)
    } catch {
      return undefined
    }
    const freeAt = Math.min(...starts) + DAY_MS + 1000
    const limit = Math.min(
      this.deps.deadline.getTime(),
      now + (this.deps.quotaWaitMs ?? DEFAULT_QUOTA_WAIT_MS)
    )
    return starts.length > 0 && freeAt <= limit ? freeAt : undefined
  }

  private spendDailyQuota(cause: string): string {
    this.dailyQuotaReason = `not started: the daily Access Analyzer policy-generation quota is spent (${cause}); rerun after it resets (50 per day in most Regions, cancelled jobs count)`
    this.deps.log.warning(this.dailyQuotaReason)
    return this.dailyQuotaReason
  }

  private async follow(
    request: GenerationRequest,
    jobId: string,
    ours: boolean,
    first?: GetGeneratedPolicyCommandOutput
  ): Promise<GenerationOutcome> {
    const { client, log } = this.deps
    const base = { roleArn: request.roleArn, jobId, ...(ours ? {} : { reused: true }) }
    let output = first
    let transientFailures = 0
    try {
      // A job just started never finishes within seconds (jobs take minutes): the first poll waits.
      if (ours) await this.wait(this.poll.initial * (1 + 0.2 * this.random()))
      for (;;) {
        if (!output) {
          this.checkpoint()
          try {
            output = await getGeneratedPolicy(client, jobId)
            transientFailures = 0
          } catch (error) {
            if (isTransientAwsError(error) && ++transientFailures < MAX_TRANSIENT_FAILURES) {
              await this.wait(backoffDelay(transientFailures, this.poll.initial, this.poll.max, this.random))
              continue
            }
            if (ours) await this.cancel(jobId, request.roleArn)
            return {
              ...base,
              status: 'failed',
              reason: `could not read policy generation job ${jobId}: ${describeAwsError(error)}`
            }
          }
        }
        const details = output.jobDetails
        switch (details?.status) {
          case 'SUCCEEDED':
            try {
              return {
                ...base,
                status: 'succeeded',
                usage: parseGeneratedPolicy(output, request.roleArn, request.window)
              }
            } catch (error) {
              return { ...base, status: 'failed', reason: errorMessage(error) }
            }
          case 'FAILED':
            return { ...base, status: 'failed', reason: describeJobError(details.jobError) }
          case 'CANCELED':
            return {
              ...base,
              status: 'cancelled',
              reason: `policy generation job ${jobId} was cancelled outside this run`
            }
          case 'IN_PROGRESS': {
            const age = this.now().getTime() - new Date(details.startedOn ?? this.now()).getTime()
            log.info(
              `role ${request.roleArn}: policy generation job ${jobId} IN_PROGRESS for ${formatDuration(age)}`
            )
            const interval = Math.min(this.poll.max, Math.max(this.poll.initial, age * 0.1))
            await this.wait(interval * (1 + 0.2 * this.random()))
            output = undefined
            break
          }
          default:
            return {
              ...base,
              status: 'failed',
              reason: `policy generation job ${jobId} has an unknown status ${String(details?.status)}`
            }
        }
      }
    } catch (error) {
      if (!(error instanceof Stopped)) throw error
      if (!ours) {
        return {
          ...base,
          status: 'skipped',
          reason: `${stopReason(error.why)} while job ${jobId} (started earlier, not by this run) was IN_PROGRESS; it was left running so a rerun can reuse it`
        }
      }
      await this.cancel(jobId, request.roleArn)
      return {
        ...base,
        status: 'cancelled',
        reason: `${stopReason(error.why)}; cancelled this run's policy generation job ${jobId}`
      }
    }
  }

  private async cancel(jobId: string, roleArn: string): Promise<void> {
    try {
      await cancelPolicyGeneration(this.deps.client, jobId)
      this.deps.log.info(`role ${roleArn}: cancelled policy generation job ${jobId}`)
    } catch (error) {
      this.deps.log.warning(
        `role ${roleArn}: could not cancel policy generation job ${jobId}: ${describeAwsError(error)}`
      )
    }
  }
}

function startFailureReason(error: unknown): string {
  const name = awsErrorName(error)
  if (name === 'AccessDeniedException') {
    return `not allowed to start policy generation (${describeAwsError(error)}); the credentials need access-analyzer:StartPolicyGeneration, GetGeneratedPolicy, ListPolicyGenerations, CancelPolicyGeneration and iam:PassRole on access-role-arn`
  }
  if (name === 'ValidationException')
    return `Access Analyzer rejected the request: ${describeAwsError(error)}`
  return `policy generation could not start: ${describeAwsError(error)}`
}

/** Runs the requests one at a time (the one-generation quota) and returns one outcome per request, in order. */
export async function runPolicyGenerations(
  requests: GenerationRequest[],
  deps: SchedulerDeps
): Promise<GenerationOutcome[]> {
  return new Scheduler(deps).run(requests)
}
