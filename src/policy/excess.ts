/**
 * A role's excess held per service, access level and granting statements (see action-groups.ts). Both directions
 * are exact: `excessActions(compactExcess(list))` is `list` sorted.
 */
import { compare } from '../model.js'
import type { ExcessAction, ExcessGroup, RoleExcess } from '../model.js'
import {
  actionsOrAllExcept,
  bucketKey,
  byServiceThenLevel,
  groupActions,
  serviceOfAction,
  statementsKey
} from './action-groups.js'

export { catalogActionCount, groupActions } from './action-groups.js'

export const NO_EXCESS: RoleExcess = { count: 0, groups: [] }

/** Groups excess actions by service, access level and granting statements, compact where that is smaller. */
export function compactExcess(excess: readonly ExcessAction[]): RoleExcess {
  if (excess.length === 0) return NO_EXCESS
  const buckets = new Map<string, { first: ExcessAction; actions: string[]; escalation: string[] }>()
  for (const entry of excess) {
    const key = bucketKey(serviceOfAction(entry.action), entry.accessLevel, statementsKey(entry.grantedBy))
    let bucket = buckets.get(key)
    if (!bucket) {
      bucket = { first: entry, actions: [], escalation: [] }
      buckets.set(key, bucket)
    }
    bucket.actions.push(entry.action)
    if (entry.risk === 'privilege-escalation') bucket.escalation.push(entry.action)
  }
  const groups: ExcessGroup[] = []
  for (const { first, actions, escalation } of buckets.values()) {
    const service = serviceOfAction(first.action)
    actions.sort(compare)
    const group: ExcessGroup = {
      service,
      accessLevel: first.accessLevel,
      grantedBy: first.grantedBy,
      count: actions.length,
      ...actionsOrAllExcept(service, first.accessLevel, actions)
    }
    if (escalation.length > 0) group.privilegeEscalation = escalation.sort(compare)
    groups.push(group)
  }
  const statements = (a: ExcessGroup, b: ExcessGroup) =>
    compare(statementsKey(a.grantedBy), statementsKey(b.grantedBy))
  return { count: excess.length, groups: groups.sort((a, b) => byServiceThenLevel(a, b) || statements(a, b)) }
}

/** The excess actions of one group (the first `limit` of them) with access level, statements and risk. */
export function groupEntries(group: ExcessGroup, limit = Infinity): ExcessAction[] {
  const escalation = new Set(group.privilegeEscalation ?? [])
  const actions = groupActions(group)
  return (actions.length > limit ? actions.slice(0, limit) : actions).map(action => {
    const entry: ExcessAction = { action, accessLevel: group.accessLevel, grantedBy: group.grantedBy }
    if (escalation.has(action)) entry.risk = 'privilege-escalation'
    return entry
  })
}

/** The per-action list, sorted by action: what the version-1 report holds. */
export function excessActions(excess: RoleExcess): ExcessAction[] {
  return excess.groups.flatMap(group => groupEntries(group)).sort((a, b) => compare(a.action, b.action))
}
