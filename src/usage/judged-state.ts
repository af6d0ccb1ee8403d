/**
 * When each role was last judged by Access Analyzer policy generation, kept across scheduled runs in one file on
 * the proposals branch: ListPolicyGenerations lists only the last seven days, so without it a role judged earlier
 * looks never judged and takes the quota from the roles that really never were.
 *
 * The file is data anyone who can push to that branch can edit: it only orders the roles that need a new
 * generation (never judged first, then the oldest). It never exempts a role from analysis and never stands in for
 * a generation; an entry that cannot be true (a date after the run started, a key that is not a role ARN) is
 * ignored, and a file that cannot be read is a warning.
 */
import { errorMessage } from '../error-message.js'
import { isRoleArn } from '../roles.js'
import type { ReportV1 } from '../model.js'

/** Where the file lives on the proposals branch (and on the default branch once a proposal is merged). */
export const JUDGED_STATE_PATH = '.iam-least-privilege/judged.json'

/** GitHub's contents API returns a file's content up to 1 MiB; the state stays under that. */
export const JUDGED_STATE_MAX_BYTES = 1024 * 1024

const FORMAT_VERSION = 1

export interface JudgedEntry {
  /** The end of the usage window of the role's latest judgement (ISO 8601). */
  usageEnd: string
  /** The policy generation job that judgement read. */
  jobId?: string
}

/** Role ARN -> its latest judgement. */
export type JudgedState = Map<string, JudgedEntry>

export class JudgedStateError extends Error {}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/
const JOB_ID = /^[\w-]{1,128}$/

/**
 * The entries of a state file that can be true at `now`; throws JudgedStateError (one line) when the file is not
 * this format at all. `ignored` counts the entries dropped one by one.
 */
export function parseJudgedState(text: string, now: Date): { state: JudgedState; ignored: number } {
  if (Buffer.byteLength(text, 'utf8') > JUDGED_STATE_MAX_BYTES)
    throw new JudgedStateError(`it is larger than ${JUDGED_STATE_MAX_BYTES} bytes`)
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    throw new JudgedStateError(`it is not valid JSON (${errorMessage(e)})`)
  }
  const file = parsed as { version?: unknown; roles?: unknown } | null
  if (typeof file !== 'object' || file === null || Array.isArray(file) || file.version !== FORMAT_VERSION)
    throw new JudgedStateError(`it is not a version ${FORMAT_VERSION} state file`)
  const roles = file.roles
  if (typeof roles !== 'object' || roles === null || Array.isArray(roles))
    throw new JudgedStateError('its "roles" is not an object')
  const state: JudgedState = new Map()
  let ignored = 0
  for (const [arn, value] of Object.entries(roles as Record<string, unknown>)) {
    const entry = value as { usageEnd?: unknown; jobId?: unknown } | null
    const usageEnd = typeof entry === 'object' && entry !== null ? entry.usageEnd : undefined
    const time = typeof usageEnd === 'string' && ISO_INSTANT.test(usageEnd) ? Date.parse(usageEnd) : NaN
    // A judgement cannot end after this run started: such a date would push the role to the end of every queue.
    if (!isRoleArn(arn) || !Number.isFinite(time) || time > now.getTime()) {
      ignored++
      continue
    }
    const jobId = entry?.jobId
    state.set(arn, {
      usageEnd: new Date(time).toISOString(),
      ...(typeof jobId === 'string' && JOB_ID.test(jobId) ? { jobId } : {})
    })
  }
  return { state, ignored }
}

/** The newest judgement of each role over every state given. */
export function mergeJudgedStates(...states: readonly JudgedState[]): JudgedState {
  const merged: JudgedState = new Map()
  for (const state of states)
    for (const [arn, entry] of state) {
      const known = merged.get(arn)
      if (!known || Date.parse(entry.usageEnd) > Date.parse(known.usageEnd)) merged.set(arn, entry)
    }
  return merged
}

/** The roles this run judged on a policy generation, with the end of the window each was judged on. */
export function judgedInReport(report: ReportV1): JudgedState {
  const state: JudgedState = new Map()
  for (const role of report.roles) {
    const jobId = role.evidence?.jobId
    if (role.waiting || !role.lastJudged || !jobId) continue
    state.set(role.arn, { usageEnd: role.lastJudged, jobId })
  }
  return state
}

/**
 * The file's text: one role a line, sorted by ARN, so a run's change reads as a small diff. When the state would
 * pass the size cap the oldest judgements are left out (those roles then count as never judged: still first in line),
 * the roles of `selected` (this run's) last: entries for other roles, which anyone who can push to the branch can
 * add with any past date, cannot crowd them out.
 */
export function serializeJudgedState(
  state: JudgedState,
  selected?: ReadonlySet<string>
): { text: string; dropped: number } {
  const outside = (arn: string) => (selected && !selected.has(arn) ? 1 : 0)
  const byAge = [...state].sort(
    ([arnA, a], [arnB, b]) => outside(arnA) - outside(arnB) || Date.parse(b.usageEnd) - Date.parse(a.usageEnd)
  )
  const lines = byAge.map(
    ([arn, entry]) =>
      `${JSON.stringify(arn)}: ${JSON.stringify({ usageEnd: entry.usageEnd, ...(entry.jobId ? { jobId: entry.jobId } : {}) })}`
  )
  const frame = `{\n  "version": ${FORMAT_VERSION},\n  "roles": {\n\n  }\n}\n`
  let budget = JUDGED_STATE_MAX_BYTES - frame.length
  let kept = 0
  for (const line of lines) {
    const cost = Buffer.byteLength(line, 'utf8') + 6
    if (cost > budget) break
    budget -= cost
    kept++
  }
  const body = lines
    .slice(0, kept)
    .sort()
    .map(line => `    ${line}`)
    .join(',\n')
  return {
    text: `{\n  "version": ${FORMAT_VERSION},\n  "roles": {${body ? `\n${body}\n  ` : ''}}\n}\n`,
    dropped: lines.length - kept
  }
}
