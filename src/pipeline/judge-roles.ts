import type { RoleResult } from '../model.js'
import { compare } from '../model.js'
import type { Logger } from '../logger.js'
import type { ReportHead } from '../report/json.js'
import { NOT_JUDGED_CANCELLED } from '../report/run-verdict.js'
import type { RoleCase } from './role-case.js'

/**
 * Where judged roles go as they are judged, in report order (by ARN), so a run of thousands of roles never holds
 * every full result: the writers take each role once, and the run keeps only its small facts.
 */
export interface RoleSink {
  begin(head: ReportHead): Promise<void> | void
  role(role: RoleResult): Promise<void> | void
}

/** One sink that hands each role to every one of `sinks`, in order. */
export function allSinks(...sinks: RoleSink[]): RoleSink {
  return {
    async begin(head) {
      for (const sink of sinks) await sink.begin(head)
    },
    async role(role) {
      for (const sink of sinks) await sink.role(role)
    }
  }
}

/**
 * What a run keeps of a role handed to a sink: everything the gate, the SARIF, the overview and the policy files
 * read; not the diff, the usage evidence, AWS's recommendation (large for a role granted whole services) or the
 * proposal notes (one can list every wildcard of a proposal). Of the
 * evidence only the Access Analyzer job id stays: the judged-roles state on the proposals branch records it.
 */
export function roleFacts(role: RoleResult): RoleResult {
  const facts = { ...role }
  delete facts.diff
  delete facts.evidence
  delete facts.usedEvidence
  delete facts.awsRecommendation
  // Read only by the role's own Markdown section and report entry, both written when it is judged.
  delete facts.proposalNotes
  const jobId = role.evidence?.jobId
  return jobId === undefined ? facts : { ...facts, evidence: { jobId, notes: [] } }
}

/**
 * The facts of many roles, with the groups of their excess, unobservable and conditional actions shared: roles
 * granted the same policies mostly differ in a few services, and the groups of every other service (hundreds for a
 * role granted `*`) are equal. One copy of each distinct group is kept, so what a run holds grows with the distinct
 * groups, not with roles × services. The groups are never changed once judged.
 */
export function sharedFacts(): (facts: RoleResult) => RoleResult {
  const seen = new Map<string, unknown>()
  const share = <G>(groups: readonly G[]): G[] =>
    groups.map(group => {
      const key = JSON.stringify(group)
      const known = seen.get(key) as G | undefined
      if (known) return known
      seen.set(key, group)
      return group
    })
  return facts => ({
    ...facts,
    excess: { ...facts.excess, groups: share(facts.excess.groups) },
    unobservable: { ...facts.unobservable, groups: share(facts.unobservable.groups) },
    conditional: { ...facts.conditional, groups: share(facts.conditional.groups) }
  })
}

/** How a long judging loop stays responsive: what it says while it runs, and what stops it. */
export interface JudgingProgress {
  log: Logger
  /** Aborted on SIGINT/SIGTERM: the roles not judged yet end as failed, and the run reports what it judged. */
  signal?: AbortSignal
  /** Monotonic milliseconds; default performance.now. */
  clock?: () => number
}

/** The judging loop hands the event loop a turn this often, so a signal is handled within it. */
const YIELD_EVERY_MS = 100
/** And says how far it got this often. */
const PROGRESS_EVERY_MS = 30_000

/**
 * Judges every case in report order. Without a sink the full results are returned; with one, each result goes to
 * it as soon as it is judged, only its facts are returned, and the case's grants and usage are released.
 *
 * Judging is CPU work that never waits on I/O: without a turn of the event loop, a signal (Ctrl-C, a cancelled
 * job) would not be handled before the last role of thousands. Once the signal aborts, the remaining roles end as
 * failed and the run reports what it judged.
 */
export async function judgeRoles(
  cases: readonly RoleCase[],
  judge: (c: RoleCase) => Promise<RoleResult>,
  stream?: { sink: RoleSink; head: ReportHead },
  progress?: JudgingProgress
): Promise<RoleResult[]> {
  // Streamed, the roles are judged in the order the report lists them.
  const ordered = stream ? [...cases].sort((a, b) => compare(a.arn, b.arn)) : cases
  const kept: RoleResult[] = []
  const share = sharedFacts()
  const clock = progress?.clock ?? (() => performance.now())
  let yielded = clock()
  let reported = yielded
  let judged = 0
  if (stream) await stream.sink.begin(stream.head)
  for (const c of ordered) {
    if (progress && clock() - yielded >= YIELD_EVERY_MS) {
      await new Promise(resolve => setImmediate(resolve))
      yielded = clock()
      if (yielded - reported >= PROGRESS_EVERY_MS) {
        reported = yielded
        progress.log.info(`judged ${judged} of ${ordered.length} roles`)
      }
    }
    if (progress?.signal?.aborted && !c.outcome)
      c.outcome = { status: 'failed', reason: NOT_JUDGED_CANCELLED }
    const result = await judge(c)
    judged++
    if (!stream) {
      kept.push(result)
      continue
    }
    // The case has ended as its result: what it was judged on is no longer held for the rest of the run.
    delete c.grants
    delete c.usage
    delete c.iacBase
    const sorted = { ...result, used: [...result.used].sort(compare) }
    await stream.sink.role(sorted)
    kept.push(share(roleFacts(sorted)))
  }
  return kept
}
