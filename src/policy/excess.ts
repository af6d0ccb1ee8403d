/**
 * A role's excess held per service and access level: a group that is nearly every catalog action of its service at
 * that level is kept as "all of them except …", so a role granted `*` costs a few hundred small groups instead of
 * one object per catalog action. Both directions are exact: `excessActions(compactExcess(list))` is `list` sorted.
 */
import { ACCESS_LEVELS } from '../model.js'
import type { AccessLevel, ExcessAction, ExcessGroup, RoleExcess } from '../model.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'

export const NO_EXCESS: RoleExcess = { count: 0, groups: [] }

/** Code-unit order of `service:` prefixes, so groups sorted this way list their actions in action order. */
function byServiceThenLevel(a: ExcessGroup, b: ExcessGroup): number {
  const [x, y] = [`${a.service}:`, `${b.service}:`]
  if (x !== y) return x < y ? -1 : 1
  const rank = ACCESS_LEVELS.indexOf(a.accessLevel) - ACCESS_LEVELS.indexOf(b.accessLevel)
  if (rank !== 0) return rank
  const [g, h] = [statementsKey(a.grantedBy), statementsKey(b.grantedBy)]
  return g < h ? -1 : g > h ? 1 : 0
}

/** The granting statements as one key: JSON, since a statement name may hold any character (a Sid from a PR). */
function statementsKey(grantedBy: readonly string[]): string {
  return JSON.stringify(grantedBy)
}

function byName(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/** The catalog's actions of a service at one access level, by lower-cased service (cached per catalog). */
const levelActionsCache = new WeakMap<CatalogIndex, Map<string, string[]>>()
function catalogActions(catalog: CatalogIndex, service: string, level: AccessLevel): string[] {
  let cache = levelActionsCache.get(catalog)
  if (!cache) {
    cache = new Map()
    levelActionsCache.set(catalog, cache)
  }
  const key = `${service}\u0000${level}`
  let names = cache.get(key)
  if (!names) {
    const rank = ACCESS_LEVELS.indexOf(level)
    names = catalog
      .actionsOf(service)
      .filter(name => {
        const id = catalog.idOf(name)
        return id !== undefined && catalog.levelRank[id] === rank
      })
      .sort(byName)
    cache.set(key, names)
  }
  return names
}

/** How many catalog actions the service has at the level: what "all except" counts from. */
export function catalogActionCount(service: string, level: AccessLevel): number {
  return catalogActions(loadCatalogIndex(), service, level).length
}

/** Groups excess actions by service, access level and granting statements, compact where that is smaller. */
export function compactExcess(excess: readonly ExcessAction[]): RoleExcess {
  if (excess.length === 0) return NO_EXCESS
  const catalog = loadCatalogIndex()
  const buckets = new Map<string, { first: ExcessAction; actions: string[]; escalation: string[] }>()
  for (const entry of excess) {
    const colon = entry.action.indexOf(':')
    const service = colon > 0 ? entry.action.slice(0, colon) : entry.action
    const key = JSON.stringify([service, entry.accessLevel, entry.grantedBy])
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
    const colon = first.action.indexOf(':')
    const service = colon > 0 ? first.action.slice(0, colon) : first.action
    actions.sort(byName)
    const group: ExcessGroup = {
      service,
      accessLevel: first.accessLevel,
      grantedBy: first.grantedBy,
      count: actions.length
    }
    const all = catalogActions(catalog, service, first.accessLevel)
    const rest = allExcept(all, actions)
    if (rest !== undefined && rest.length < actions.length) group.allExcept = rest
    else group.actions = actions
    if (escalation.length > 0) group.privilegeEscalation = escalation.sort(byName)
    groups.push(group)
  }
  return { count: excess.length, groups: groups.sort(byServiceThenLevel) }
}

/** `all` minus `part` when every name of `part` is in `all` (both sorted), else undefined. */
function allExcept(all: readonly string[], part: readonly string[]): string[] | undefined {
  const rest: string[] = []
  let j = 0
  for (const name of all) {
    if (j < part.length && part[j] === name) j++
    else rest.push(name)
  }
  return j === part.length ? rest : undefined
}

/** The actions of one group, sorted. */
export function groupActions(group: ExcessGroup): readonly string[] {
  if (group.actions) return group.actions
  const except = new Set(group.allExcept ?? [])
  return catalogActions(loadCatalogIndex(), group.service, group.accessLevel).filter(
    name => !except.has(name)
  )
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
  return excess.groups.flatMap(group => groupEntries(group)).sort((a, b) => byName(a.action, b.action))
}
