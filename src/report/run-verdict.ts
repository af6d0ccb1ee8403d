import type { ReportV1 } from '../model.js'
import { evaluateGate } from './gate.js'
import type { FailOn, GateResult } from './gate.js'
import { roleName } from './role-facts.js'

/**
 * What fails a run, the same for the action and the CLI. Everything is published first; then the run fails when
 * any selected role failed (an error someone has to fix: a role that does not exist, access denied, an invalid
 * policy file), or else when the fail-on gate tripped. Roles skipped (service-linked, quota spent) or with
 * insufficient evidence do not fail the run by themselves; with fail-on set they trip the gate.
 */
interface RunVerdict {
  /** 0 passed, 1 a role failed, 3 the gate tripped (the CLI's exit codes). */
  exitCode: 0 | 1 | 3
  /** One line: why the run failed, or the gate's message when it passed. */
  message: string
  gate: GateResult
}

/** A run that looked at nothing, and why (a pull request from a fork gets no OIDC token). */
interface NothingAnalyzed {
  nothingAnalyzed: string
}

/** The failed roles the verdict names: a cancelled run of thousands fails them all, in one line. */
const NAMED_FAILURES = 10

/** Why a role the run was cancelled before ended as failed. */
export const NOT_JUDGED_CANCELLED = 'not judged: the run was cancelled before this role'

/**
 * One warning line per failed role, except the roles a cancelled run never judged: one line for all of them (a
 * cancelled run of thousands would otherwise say the same thing thousands of times).
 */
export function failureWarnings(report: ReportV1): string[] {
  const failed = report.roles.filter(r => r.status === 'failed')
  const notJudged = failed.filter(r => r.reason === NOT_JUDGED_CANCELLED).length
  const lines = failed
    .filter(r => r.reason !== NOT_JUDGED_CANCELLED)
    .map(r => `${r.arn}: ${r.reason ?? 'failed'}`)
  if (notJudged > 0) lines.push(`${notJudged} role(s) not judged: the run was cancelled before them`)
  return lines
}

export function judgeRun(run: ReportV1 | NothingAnalyzed, failOn: FailOn): RunVerdict {
  if ('nothingAnalyzed' in run) return judgeNothingAnalyzed(run.nothingAnalyzed, failOn)
  const report = run
  const gate = evaluateGate(report, failOn)
  const failed = report.roles.filter(r => r.status === 'failed')
  if (failed.length > 0) {
    const named = failed.slice(0, NAMED_FAILURES).map(r => roleName(r.arn).name)
    const more = failed.length - named.length
    const names = `${named.join(', ')}${more > 0 ? ` and ${more} more; the report lists every one` : ''}`
    const line = `${failed.length} of ${report.roles.length} role(s) failed (${names}); the first: ${failed[0]?.reason ?? 'unknown reason'}`
    return { exitCode: 1, message: gate.tripped ? `${line}. ${gate.message}` : line, gate }
  }
  if (gate.tripped) return { exitCode: 3, message: gate.message, gate }
  return { exitCode: 0, message: gate.message, gate }
}

/** Nothing was looked at: a gate must not pass on that. */
function judgeNothingAnalyzed(why: string, failOn: FailOn): RunVerdict {
  if (failOn === 'never') {
    const message = 'fail-on is never: the gate is off.'
    return { exitCode: 0, message, gate: { tripped: false, message } }
  }
  const message = `fail-on ${failOn}: ${why}, so the gate cannot pass`
  return { exitCode: 3, message, gate: { tripped: true, message } }
}
