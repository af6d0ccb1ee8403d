/**
 * What a role is granted, action by action over the catalog: Allow statements of every identity policy, minus what
 * unconditional Deny statements remove for certain, intersected with the permissions boundary.
 */
import type { GrantedPolicy, RoleGrants } from '../model.js'
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'
import { normalizePolicy } from './document.js'
import type { NormalizedPolicy } from './document.js'
import { compilePolicy } from './evaluate.js'
import { globCovers } from './glob.js'
import { hasPolicyVariable } from './match.js'
import type { CompiledStatement } from './match.js'

export const NOT_GRANTED = 0
export const GRANTED_CONDITIONALLY = 1
export const GRANTED = 2

export interface GrantModel {
  catalog: CatalogIndex
  policies: NormalizedPolicy[]
  boundary?: NormalizedPolicy
  /** Identity statements in policy order. */
  statements: CompiledStatement[]
  /** Per catalog id: NOT_GRANTED, GRANTED_CONDITIONALLY or GRANTED. */
  granted: Uint8Array
  /** Action patterns in the identity policies that match nothing in the catalog. */
  unknownActions: string[]
}

function normalizeGranted(policy: GrantedPolicy): NormalizedPolicy {
  return normalizePolicy(policy.name, policy.document)
}

/** A certain Deny: no Condition, Resource patterns without policy variables. */
function isCertainDeny(compiled: CompiledStatement): boolean {
  const s = compiled.statement
  return s.effect === 'Deny' && !s.condition && !!s.resources && !s.resources.some(hasPolicyVariable)
}

type Covers = (outer: string, inner: string) => boolean

/** globCovers remembered per pair: the same statements are compared again for every catalog action. */
function memoizedCovers(): Covers {
  const known = new Map<string, Map<string, boolean>>()
  return (outer, inner) => {
    let byInner = known.get(outer)
    if (!byInner) known.set(outer, (byInner = new Map()))
    let result = byInner.get(inner)
    if (result === undefined) byInner.set(inner, (result = globCovers(outer, inner)))
    return result
  }
}

/** True when certain Denies on this action remove every resource the Allow statement names. */
function deniedEverywhere(allow: CompiledStatement, denies: CompiledStatement[], covers: Covers): boolean {
  if (denies.length === 0) return false
  const patterns = denies.flatMap(d => d.statement.resources ?? [])
  if (allow.statement.notResources) return patterns.includes('*')
  return (allow.statement.resources ?? []).every(r => patterns.some(d => covers(d, r)))
}

/** Per catalog id, the grant level of one set of statements (identity policies, or the boundary). */
export function grantLevels(catalog: CatalogIndex, statements: CompiledStatement[]): Uint8Array {
  const levels = new Uint8Array(catalog.size)
  const allows = statements.filter(c => c.statement.effect === 'Allow')
  const denies = statements.filter(isCertainDeny)
  const covers = memoizedCovers()
  for (let id = 0; id < catalog.size; id++) {
    const applicableDenies = denies.length === 0 ? denies : denies.filter(d => d.actionIds[id] === 1)
    let level = NOT_GRANTED
    for (const allow of allows) {
      if (allow.actionIds[id] !== 1 || deniedEverywhere(allow, applicableDenies, covers)) continue
      level = Math.max(level, allow.statement.condition ? GRANTED_CONDITIONALLY : GRANTED)
      if (level === GRANTED) break
    }
    levels[id] = level
  }
  return levels
}

export function buildGrantModel(grants: RoleGrants): GrantModel {
  const catalog = loadCatalogIndex()
  const policies = grants.policies.map(normalizeGranted)
  const statements = policies.flatMap(p => compilePolicy(catalog, p))
  const granted = grantLevels(catalog, statements)
  let boundary: NormalizedPolicy | undefined
  if (grants.boundary) {
    boundary = normalizeGranted(grants.boundary)
    const limits = grantLevels(catalog, compilePolicy(catalog, boundary))
    for (let id = 0; id < granted.length; id++) granted[id] = Math.min(granted[id], limits[id])
  }
  const unknownActions = [...new Set(statements.flatMap(c => c.unknownPatterns))].sort()
  const model: GrantModel = { catalog, policies, statements, granted, unknownActions }
  if (boundary) model.boundary = boundary
  return model
}

/**
 * Refs (`policy` or `policy#Sid`) of the Allow statements that grant each catalog action. Actions granted by the
 * same statements share one array, so a role granted `*` costs one array, not one per action: read, do not mutate.
 */
export function grantedByLookup(model: GrantModel): (id: number) => string[] {
  const allows = model.statements.filter(c => c.statement.effect === 'Allow')
  const shared = new Map<number | string, string[]>()
  // A bit set of the granting statements is the cache key (a string past 31 statements).
  const keyOf = (id: number): number | string => {
    if (allows.length > 31) return allows.map(c => c.actionIds[id]).join('')
    let key = 0
    for (let i = 0; i < allows.length; i++) if (allows[i].actionIds[id] === 1) key |= 1 << i
    return key
  }
  return id => {
    const key = keyOf(id)
    let refs = shared.get(key)
    if (!refs) {
      refs = []
      for (let i = 0; i < allows.length; i++) {
        const ref = allows[i].statement.ref
        if (allows[i].actionIds[id] === 1 && !refs.includes(ref)) refs.push(ref)
      }
      shared.set(key, refs)
    }
    return refs
  }
}
