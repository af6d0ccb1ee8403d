import type { RoleResult } from '../model.js'
import { compare } from '../model.js'
import type { ReportHead } from '../report/json.js'
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

/**
 * Judges every case in report order. Without a sink the full results are returned; with one, each result goes to
 * it as soon as it is judged, only its facts are returned, and the case's grants and usage are released.
 */
export async function judgeRoles(
  cases: readonly RoleCase[],
  judge: (c: RoleCase) => Promise<RoleResult>,
  stream?: { sink: RoleSink; head: ReportHead }
): Promise<RoleResult[]> {
  // Streamed, the roles are judged in the order the report lists them.
  const ordered = stream ? [...cases].sort((a, b) => compare(a.arn, b.arn)) : cases
  const kept: RoleResult[] = []
  const share = sharedFacts()
  if (stream) await stream.sink.begin(stream.head)
  for (const c of ordered) {
    const result = await judge(c)
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
