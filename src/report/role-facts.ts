import { ACCESS_LEVELS, compare } from '../model.js'
import type { AccessLevel, ExcessAction, RoleExcess, RoleResult } from '../model.js'
import { groupEntries } from '../policy/excess.js'
import { parseRoleArn } from '../roles.js'

/** The parts of a role ARN a reader recognizes; the whole ARN when it is not a role ARN. */
export function roleName(arn: string): { name: string; accountId?: string } {
  const role = parseRoleArn(arn)
  return role ? { accountId: role.accountId, name: role.name } : { name: arn }
}

/** Permissions management first, List last. */
export function accessLevelRank(level: AccessLevel): number {
  return ACCESS_LEVELS.indexOf(level)
}

export function serviceOf(action: string): string {
  const colon = action.indexOf(':')
  return colon > 0 ? action.slice(0, colon) : action
}

/** Excess that the `high` gate and the reviewer care about most. */
export function isHighRisk(excess: ExcessAction): boolean {
  return (
    excess.risk === 'privilege-escalation' ||
    excess.accessLevel === 'Permissions management' ||
    excess.accessLevel === 'Write'
  )
}

export function byRiskThenAction(a: ExcessAction, b: ExcessAction): number {
  const escalation = Number(b.risk === 'privilege-escalation') - Number(a.risk === 'privilege-escalation')
  return (
    escalation ||
    accessLevelRank(a.accessLevel) - accessLevelRank(b.accessLevel) ||
    compare(a.action, b.action)
  )
}

/**
 * Whether the run reached a verdict on the role: it was analyzed, or it was skipped because nobody can change it
 * (a service-linked role), so there is nothing to wait for. Every other role (failed, not enough evidence, skipped
 * for a reason someone can fix) holds the gate, the all-clear comment and the summary back, and is named as not
 * judged in every output.
 */
export function isJudged(role: Pick<RoleResult, 'status' | 'editable'>): boolean {
  return role.status === 'analyzed' || (role.status === 'skipped' && !role.editable)
}

/** `1 role`, `2,048 roles`. */
export function plural(count: number, singular: string, pluralForm = `${singular}s`): string {
  return `${count.toLocaleString('en-US')} ${count === 1 ? singular : pluralForm}`
}

/** The items joined with commas; past `max` of them, the first `shown` and how many more. */
export function shortList(items: readonly string[], max: number, shown = max): string {
  if (items.length <= max) return items.join(', ')
  return `${items.slice(0, shown).join(', ')} … and ${(items.length - shown).toLocaleString('en-US')} more`
}

function isHighRiskLevel(level: AccessLevel): boolean {
  return level === 'Permissions management' || level === 'Write'
}

/** How many excess actions are high-risk, counted on the groups (no per-action list is built). */
export function highRiskCount(excess: RoleExcess): number {
  let count = 0
  for (const g of excess.groups)
    count += isHighRiskLevel(g.accessLevel) ? g.count : (g.privilegeEscalation?.length ?? 0)
  return count
}

/** The first `limit` high-risk excess actions in `byRiskThenAction` order, expanding no more than that per group. */
export function firstHighRisk(excess: RoleExcess, limit: number): ExcessAction[] {
  const candidates = excess.groups.flatMap(g => {
    const escalation = (g.privilegeEscalation ?? []).map((action): ExcessAction => ({
      action,
      accessLevel: g.accessLevel,
      grantedBy: g.grantedBy,
      risk: 'privilege-escalation'
    }))
    const first = isHighRiskLevel(g.accessLevel) ? groupEntries(g, limit).filter(e => !e.risk) : []
    return [...escalation, ...first]
  })
  return candidates.sort(byRiskThenAction).slice(0, limit)
}
