import type { AddedAccess, ReportV1, RoleResult } from '../model.js'
import { excessActions } from '../policy/excess.js'
import { isHighRisk, isJudged, plural, roleName } from './role-facts.js'

export const FAIL_ON_VALUES = ['never', 'excess', 'high'] as const
export type FailOn = (typeof FAIL_ON_VALUES)[number]

export interface GateResult {
  tripped: boolean
  /** One line saying why. */
  message: string
}

/**
 * The pull-request gate. `excess` trips on any excess action, `high` only on excess with access level
 * Permissions management or Write, or a privilege-escalation risk.
 *
 * A role that was not judged (failed, not enough evidence, skipped) trips the gate whenever fail-on is not
 * `never`: its empty excess list means "we could not look", not "nothing to remove", and a gate that passes
 * when it could not look would let the very change it exists to catch through. The message names those
 * roles separately so the reader knows the gate tripped on missing evidence, not on a finding.
 */
export function evaluateGate(report: ReportV1, failOn: FailOn): GateResult {
  if (failOn === 'never') return { tripped: false, message: 'fail-on is never: the gate is off.' }

  // On a pull request, a role whose policy file it changes is judged on what the change adds: a role with too
  // little history (or none: a new role) is then judged by the risk of what is added instead of blocking.
  const byChange = (r: RoleResult) =>
    r.change !== undefined && (r.status === 'analyzed' || r.status === 'insufficient-evidence')
  const judged = report.roles.filter(r => r.status === 'analyzed' || byChange(r))
  // A role waiting for the quota of a later run is the rotation working, not a role that could not be judged.
  const notJudged = report.roles.filter(r => !judged.includes(r) && !isJudged(r) && r.waiting !== true)
  const counted = judged
    .map(role => ({
      role,
      count: byChange(role)
        ? changeFindings(role, failOn)
        : failOn === 'high'
          ? excessActions(role.excess).filter(isHighRisk).length
          : role.excess.count
    }))
    .filter(entry => entry.count > 0)

  const reasons: string[] = []
  if (counted.length > 0) {
    const total = counted.reduce((sum, entry) => sum + entry.count, 0)
    const what = failOn === 'high' ? 'high-risk excess action' : 'excess action'
    const roles = counted
      .map(
        entry =>
          `${label(entry.role)}: ${entry.count}${byChange(entry.role) ? ' added by this pull request' : ''}`
      )
      .join(', ')
    const verb = counted.length === 1 ? 'grants' : 'grant'
    reasons.push(`${plural(counted.length, 'role')} ${verb} ${plural(total, what)} (${roles})`)
  }
  if (notJudged.length > 0) {
    const roles = notJudged.map(role => `${label(role)}: ${role.status}`).join(', ')
    reasons.push(`${plural(notJudged.length, 'role')} could not be judged (${roles})`)
  }
  if (reasons.length === 0) {
    const none = failOn === 'high' ? 'no high-risk excess' : 'no excess'
    return { tripped: false, message: `fail-on ${failOn}: ${none} in ${plural(judged.length, 'role')}.` }
  }
  return { tripped: true, message: `fail-on ${failOn}: ${reasons.join('; ')}.` }
}

/** Whether one added grant trips the gate: high-risk unless used, or (fail-on excess) observable and unused. */
export function addedTrips(added: AddedAccess, failOn: FailOn): boolean {
  if (failOn === 'never' || added.judgement === 'used') return false
  return added.risk !== undefined || (failOn === 'excess' && added.judgement === 'excess')
}

/** Findings in what a pull request adds; new access Access Analyzer found that we could not itemize counts as one. */
function changeFindings(role: RoleResult, failOn: FailOn): number {
  const change = role.change
  if (!change) return 0
  const count = change.added.filter(a => addedTrips(a, failOn)).length
  return change.added.length === 0 && change.checkNoNewAccess === 'FAIL' ? 1 : count
}

function label(role: RoleResult): string {
  return roleName(role.arn).name
}
