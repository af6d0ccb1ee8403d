import { ACCESS_LEVELS } from '../model.js'
import type { AccessLevel, ExcessAction } from '../model.js'
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

/** Code-unit order: the same on every machine and locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
