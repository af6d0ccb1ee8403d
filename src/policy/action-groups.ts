/**
 * Catalog actions held per service and access level: a group that is nearly every catalog action of its service at
 * that level is kept as "all of them except …", so a role granted `*` costs a few hundred small groups instead of
 * one object per catalog action. The excess, the unobservable and the conditional actions of a role are all held
 * this way, and each expands back to exactly the list it was made from.
 */
import { ACCESS_LEVELS, compare } from '../model.js'
import type {
  AccessLevel,
  ConditionalAction,
  ConditionalGroup,
  RoleConditional,
  RoleUnobservable,
  UnobservableAction,
  UnobservableGroup
} from '../model.js'
import { at } from './at.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'

/** What every group has: exactly one of `actions` and `allExcept` is set. */
export interface ActionGroup {
  service: string
  accessLevel: AccessLevel
  count: number
  /** The actions, sorted. */
  actions?: string[]
  /** Every catalog action of the service at this access level except these (sorted). */
  allExcept?: string[]
}

export const NO_UNOBSERVABLE: RoleUnobservable = { count: 0, groups: [] }
export const NO_CONDITIONAL: RoleConditional = { count: 0, groups: [] }

export function serviceOfAction(action: string): string {
  const colon = action.indexOf(':')
  return colon > 0 ? action.slice(0, colon) : action
}

/** The catalog's actions of a service at one access level, sorted (cached per catalog). */
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
      .sort(compare)
    cache.set(key, names)
  }
  return names
}

/** How many catalog actions the service has at the level: what "all except" counts from. */
export function catalogActionCount(service: string, level: AccessLevel): number {
  return catalogActions(loadCatalogIndex(), service, level).length
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

/** The group's actions as the shorter of the list and "all except": `actions` must be sorted. */
export function actionsOrAllExcept(
  service: string,
  level: AccessLevel,
  actions: string[]
): Pick<ActionGroup, 'actions' | 'allExcept'> {
  const rest = allExcept(catalogActions(loadCatalogIndex(), service, level), actions)
  return rest !== undefined && rest.length < actions.length ? { allExcept: rest } : { actions }
}

/** The actions of one group, sorted. */
export function groupActions(group: ActionGroup): readonly string[] {
  if (group.actions) return group.actions
  const except = new Set(group.allExcept ?? [])
  return catalogActions(loadCatalogIndex(), group.service, group.accessLevel).filter(
    name => !except.has(name)
  )
}

/** Code-unit order of `service:` prefixes (so groups list their actions in action order), then access level. */
export function byServiceThenLevel(a: ActionGroup, b: ActionGroup): number {
  const [x, y] = [`${a.service}:`, `${b.service}:`]
  if (x !== y) return x < y ? -1 : 1
  return ACCESS_LEVELS.indexOf(a.accessLevel) - ACCESS_LEVELS.indexOf(b.accessLevel)
}

/**
 * One string per (service, access level, key), distinct for distinct triples: the level has no NUL and a JSON string
 * no raw NUL, so only the last part may hold any character. Cheaper than JSON of the triple, once per action.
 */
export function bucketKey(service: string, accessLevel: AccessLevel, key: string): string {
  return `${accessLevel}\u0000${JSON.stringify(service)}\u0000${key}`
}

const statementKeys = new WeakMap<readonly string[], string>()

/**
 * The granting statements as one key: JSON, since a statement name may hold any character (a Sid from a PR).
 * The actions granted by the same statements share one array (grantedByLookup): its key is made once.
 */
export function statementsKey(grantedBy: readonly string[]): string {
  let key = statementKeys.get(grantedBy)
  if (key === undefined) {
    key = JSON.stringify(grantedBy)
    statementKeys.set(grantedBy, key)
  }
  return key
}

/**
 * Entries bucketed by service, access level and `key` (the reason, the granting statements), each bucket's
 * actions sorted. `levelOf` gives an entry's access level.
 */
function buckets<E extends { action: string }>(
  entries: readonly E[],
  levelOf: (entry: E) => AccessLevel,
  key: (entry: E) => string
): { first: E; service: string; accessLevel: AccessLevel; actions: string[] }[] {
  const out = new Map<string, { first: E; service: string; accessLevel: AccessLevel; actions: string[] }>()
  for (const entry of entries) {
    const service = serviceOfAction(entry.action)
    const accessLevel = levelOf(entry)
    const id = bucketKey(service, accessLevel, key(entry))
    let bucket = out.get(id)
    if (!bucket) {
      bucket = { first: entry, service, accessLevel, actions: [] }
      out.set(id, bucket)
    }
    bucket.actions.push(entry.action)
  }
  for (const bucket of out.values()) bucket.actions.sort(compare)
  return [...out.values()]
}

/** The catalog's access level of an action; `Write` for a name the catalog does not know (never from analysis). */
function catalogLevel(action: string): AccessLevel {
  const catalog = loadCatalogIndex()
  const id = catalog.idOf(action)
  return id === undefined ? 'Write' : at(ACCESS_LEVELS, at(catalog.levelRank, id))
}

/** Unobservable actions per service, access level and reason. */
export function compactUnobservable(list: readonly UnobservableAction[]): RoleUnobservable {
  if (list.length === 0) return NO_UNOBSERVABLE
  const groups = buckets(
    list,
    u => catalogLevel(u.action),
    u => u.reason
  ).map(({ first, service, accessLevel, actions }): UnobservableGroup => ({
    service,
    accessLevel,
    reason: first.reason,
    count: actions.length,
    ...actionsOrAllExcept(service, accessLevel, actions)
  }))
  return {
    count: list.length,
    groups: groups.sort((a, b) => byServiceThenLevel(a, b) || compare(a.reason, b.reason))
  }
}

/** Conditionally granted actions per service, access level and granting statements. */
export function compactConditional(list: readonly ConditionalAction[]): RoleConditional {
  if (list.length === 0) return NO_CONDITIONAL
  const groups = buckets(
    list,
    c => catalogLevel(c.action),
    c => statementsKey(c.grantedBy)
  ).map(({ first, service, accessLevel, actions }): ConditionalGroup => ({
    service,
    accessLevel,
    grantedBy: first.grantedBy,
    count: actions.length,
    ...actionsOrAllExcept(service, accessLevel, actions)
  }))
  const statements = (g: ConditionalGroup) => statementsKey(g.grantedBy)
  return {
    count: list.length,
    groups: groups.sort((a, b) => byServiceThenLevel(a, b) || compare(statements(a), statements(b)))
  }
}

/** The per-action list, sorted by action: what the version-1 report holds. */
export function unobservableActionList(unobservable: RoleUnobservable): UnobservableAction[] {
  return unobservable.groups
    .flatMap(g => groupActions(g).map(action => ({ action, reason: g.reason })))
    .sort((a, b) => compare(a.action, b.action))
}

/** The per-action list, sorted by action: what the version-1 report holds. */
export function conditionalActionList(conditional: RoleConditional): ConditionalAction[] {
  return conditional.groups
    .flatMap(g => groupActions(g).map(action => ({ action, grantedBy: g.grantedBy })))
    .sort((a, b) => compare(a.action, b.action))
}
