/**
 * Granted versus used, action by action: used / excess / unobservable / conditional / kept.
 */
import type { ConditionalAction, ExcessAction, RoleGrants, RoleUsage, UnobservableAction } from '../model.js'
import { ACCESS_LEVELS } from '../model.js'
import type { CatalogIndex } from './catalog.js'
import type { NormalizedStatement } from './document.js'
import { escalationIds } from './escalation.js'
import { GRANTED, GRANTED_CONDITIONALLY, NOT_GRANTED, buildGrantModel, grantedByLookup } from './grants.js'
import type { GrantModel } from './grants.js'
import { statementActionMatch } from './match.js'
import { isPermissionless } from './permissionless.js'
import { unobservableActions } from './unobservable.js'
import { at } from './at.js'

export interface AnalyzeOptions {
  keepActions: string[]
  keepSidPrefix: string
  /**
   * Whether a keep-Sid statement may be trusted. In a pull-request gate only a statement that exists unchanged at
   * the base branch may: the pull request's author writes the head. Unset: every keep-Sid statement is trusted.
   */
  trustedKeep?: (statement: NormalizedStatement) => boolean
}

export interface RoleAnalysis {
  /** The role's grant model, built once: the proposal and its proof read the same one. */
  model: GrantModel
  /** Every used action (authorized, not permissionless), canonical and sorted, granted or not. */
  used: string[]
  /** Observed but not allowed by the current policies (e.g. Access Analyzer counts denied calls). */
  usedNotGranted: string[]
  /** Sorted by access level rank, then name. */
  excess: ExcessAction[]
  unobservable: UnobservableAction[]
  conditional: ConditionalAction[]
  /** Granted actions kept by keep-actions or keep-Sid statements. */
  kept: string[]
  /** Refs (`policy#Sid`) of the Allow statements kept verbatim by their Sid, in policy order. */
  keptStatements: string[]
  /** Action names/patterns in granted policies the catalog does not know. */
  unknownActions: string[]
  grantedCount: number
}

function isKeepSid(sid: string | undefined, prefix: string): boolean {
  return prefix !== '' && sid !== undefined && sid.startsWith(prefix)
}

/** A statement kept verbatim: its Sid starts with the prefix and, in a gate, it is unchanged from the base. */
export function isKeepStatement(statement: NormalizedStatement, options: AnalyzeOptions): boolean {
  return isKeepSid(statement.sid, options.keepSidPrefix) && (options.trustedKeep?.(statement) ?? true)
}

/** Catalog ids protected by keep-actions patterns or granted by keep-Sid Allow statements. */
export function keptIds(model: GrantModel, options: AnalyzeOptions): Set<number> {
  const ids = new Set<number>()
  for (const pattern of options.keepActions) for (const id of model.catalog.expandIds(pattern)) ids.add(id)
  for (const c of model.statements) {
    if (c.statement.effect !== 'Allow' || !isKeepStatement(c.statement, options)) continue
    for (let id = 0; id < c.actionIds.length; id++) if (c.actionIds[id] === 1) ids.add(id)
  }
  return ids
}

/** Observed actions that count as usage, in canonical spelling (names outside the catalog kept as given). */
export function usedActionNames(catalog: CatalogIndex, usage: RoleUsage): string[] {
  const names = new Set<string>()
  for (const observed of usage.actions) {
    if (isPermissionless(observed.action)) continue
    const id = catalog.idOf(observed.action)
    // A source may report a wildcard (a generated policy can hold `ssm:GetParameter*`): every match counts as used.
    const matches = id === undefined && /[*?]/.test(observed.action) ? catalog.expandIds(observed.action) : []
    if (matches.length > 0) for (const m of matches) names.add(at(catalog.names, m))
    else names.add(id === undefined ? observed.action : at(catalog.names, id))
  }
  return [...names].sort()
}

function isGrantedOutsideCatalog(model: GrantModel, action: string): boolean {
  const allows = model.statements.filter(c => c.statement.effect === 'Allow')
  return allows.some(c => statementActionMatch(model.catalog, c, action))
}

export function analyzeRole(grants: RoleGrants, usage: RoleUsage, options: AnalyzeOptions): RoleAnalysis {
  const model = buildGrantModel(grants)
  const { catalog, granted } = model
  const used = usedActionNames(catalog, usage)
  const usedIds = new Set<number>()
  const usedNotGranted: string[] = []
  for (const name of used) {
    const id = catalog.idOf(name)
    if (id !== undefined) usedIds.add(id)
    const isGranted = id === undefined ? isGrantedOutsideCatalog(model, name) : granted[id] !== NOT_GRANTED
    if (!isGranted) usedNotGranted.push(name)
  }
  const keep = keptIds(model, options)
  const unobservableReasons = unobservableActions(catalog, usage)
  const escalation = escalationIds(catalog)
  const grantedBy = grantedByLookup(model)
  const excess: ExcessAction[] = []
  const unobservable: UnobservableAction[] = []
  const conditional: ConditionalAction[] = []
  const kept: string[] = []
  let grantedCount = 0
  // Local copies: module bindings can cost a property lookup per access in some loaders.
  const [none, conditionally, unconditionally] = [NOT_GRANTED, GRANTED_CONDITIONALLY, GRANTED]
  const levels = ACCESS_LEVELS
  const { names, levelRank } = catalog
  // Flags by id: cheaper than Set lookups in this loop over every granted action.
  const flags = (ids: Iterable<number>) => {
    const out = new Uint8Array(catalog.size)
    for (const id of ids) out[id] = 1
    return out
  }
  const isKept = flags(keep)
  const isUsed = flags(usedIds)
  const isEscalation = flags(escalation)
  const reasons = new Array<string | undefined>(catalog.size)
  for (const [id, reason] of unobservableReasons) reasons[id] = reason
  for (const id of catalog.idsByRank) {
    const level = granted[id]
    if (level === none) continue
    grantedCount++
    const action = at(names, id)
    if (isUsed[id] === 1) {
      // Used: in `used` only, however it is granted and whether or not it is kept (one class per action).
    } else if (isKept[id] === 1) {
      kept.push(action)
    } else if (level === conditionally) {
      conditional.push({ action, grantedBy: grantedBy(id) })
    } else if (level === unconditionally) {
      const reason = reasons[id]
      if (reason !== undefined) {
        unobservable.push({ action, reason })
      } else {
        const entry: ExcessAction = {
          action,
          accessLevel: at(levels, at(levelRank, id)),
          grantedBy: grantedBy(id)
        }
        if (isEscalation[id] === 1) entry.risk = 'privilege-escalation'
        excess.push(entry)
      }
    }
  }
  const byAction = (a: { action: string }, b: { action: string }) => (a.action < b.action ? -1 : 1)
  return {
    model,
    used,
    usedNotGranted,
    excess,
    unobservable: unobservable.sort(byAction),
    conditional: conditional.sort(byAction),
    kept: kept.sort(),
    keptStatements: model.statements
      .filter(c => c.statement.effect === 'Allow' && isKeepStatement(c.statement, options))
      .map(c => c.statement.ref),
    unknownActions: model.unknownActions,
    grantedCount
  }
}
