import { ACCESS_LEVELS } from '../model.js'
import type { AccessLevel } from '../model.js'
import { ACTIONS, DATA_UPDATED_AT, DATA_VERSION, RESOURCE_TYPES, SERVICES } from './catalog-data.generated.js'
import { at } from './at.js'
import { globMatch, hasWildcard } from './glob.js'

interface ActionInfo {
  name: string
  service: string
  /** The highest-ranked of accessLevels (order: ACCESS_LEVELS). */
  accessLevel: AccessLevel
  accessLevels: AccessLevel[]
  resourceTypes: { name: string; required: boolean }[]
}

export interface Catalog {
  readonly dataVersion: string
  readonly dataUpdatedAt: string
  services(): readonly string[]
  /** Case-insensitive. */
  hasService(prefix: string): boolean
  /** Canonical 'svc:Action' names. */
  actionsOf(service: string): readonly string[]
  /** Case-insensitive lookup of 'svc:action'. */
  action(name: string): ActionInfo | undefined
  /** IAM glob (`*`, `?`), case-insensitive, over every catalog action. */
  expand(pattern: string): string[]
  resourceArnTemplate(service: string, resourceType: string): string | undefined
  /** The ARN templates of every resource type the service defines. */
  resourceArnTemplates(service: string): readonly string[]
}

/**
 * The same catalog addressed by dense action ids (0..size-1), for the analysis hot paths.
 * Ids follow the generated order: services sorted, actions sorted case-insensitively within a service.
 */
export interface CatalogIndex extends Catalog {
  readonly size: number
  /** Canonical name of each id. */
  readonly names: readonly string[]
  /** Rank of each id's access level: index into ACCESS_LEVELS (0 = Permissions management). */
  readonly levelRank: Uint8Array
  /** Every id ordered by access-level rank, then by name. */
  readonly idsByRank: Int32Array
  idOf(name: string): number | undefined
  /** Ids matched by an IAM action glob, ascending. */
  expandIds(pattern: string): number[]
  serviceOf(id: number): string
}

const LEVEL_BY_CODE: Record<string, AccessLevel> = {
  P: 'Permissions management',
  W: 'Write',
  T: 'Tagging',
  R: 'Read',
  L: 'List'
}

function levelOf(code: string): AccessLevel {
  const level = LEVEL_BY_CODE[code]
  if (level === undefined)
    throw new Error(`The generated catalog has an unknown access-level code '${code}'.`)
  return level
}

interface ServiceEntry {
  name: string
  start: number
  end: number
  resourceTypes: { name: string; arn: string }[]
}

class DecodedCatalog implements CatalogIndex {
  readonly dataVersion = DATA_VERSION
  readonly dataUpdatedAt = DATA_UPDATED_AT
  readonly size: number
  readonly names: string[] = []
  readonly levelRank: Uint8Array
  readonly idsByRank: Int32Array
  private readonly lowerActionParts: string[] = []
  private readonly specs: string[] = []
  private readonly serviceIds: number[] = []
  private readonly serviceList: string[]
  private readonly services_: ServiceEntry[] = []
  private readonly serviceByLower = new Map<string, number>()
  private readonly idByLower = new Map<string, number>()
  /** Canonical names first: most lookups name an action as the catalog spells it, and need no lower-casing. */
  private readonly idByName = new Map<string, number>()
  private readonly infoCache = new Map<number, ActionInfo>()

  constructor() {
    this.serviceList = SERVICES.split(',')
    const resourceLines = new Map<string, { name: string; arn: string }[]>()
    for (const line of RESOURCE_TYPES.split('\n')) {
      const [service = '', ...entries] = line.split('|')
      resourceLines.set(
        service,
        entries.map(entry => {
          const cut = entry.indexOf('~')
          return { name: entry.slice(0, cut), arn: entry.slice(cut + 1) }
        })
      )
    }
    const ranks: number[] = []
    for (const line of ACTIONS.split('\n')) {
      const [service = '', ...actions] = line.split('|')
      const serviceIndex = this.services_.length
      const entry: ServiceEntry = {
        name: service,
        start: this.names.length,
        end: this.names.length + actions.length,
        resourceTypes: resourceLines.get(service) ?? []
      }
      this.services_.push(entry)
      this.serviceByLower.set(service.toLowerCase(), serviceIndex)
      for (const encoded of actions) {
        const firstDot = encoded.indexOf('.')
        const secondDot = encoded.indexOf('.', firstDot + 1)
        const actionName = encoded.slice(0, firstDot)
        const name = `${service}:${actionName}`
        const id = this.names.length
        this.names.push(name)
        this.lowerActionParts.push(actionName.toLowerCase())
        this.specs.push(encoded.slice(firstDot + 1))
        this.serviceIds.push(serviceIndex)
        this.idByLower.set(name.toLowerCase(), id)
        this.idByName.set(name, id)
        let rank: number = ACCESS_LEVELS.length
        for (let i = firstDot + 1; i < secondDot; i++) {
          rank = Math.min(rank, ACCESS_LEVELS.indexOf(levelOf(encoded.charAt(i))))
        }
        ranks.push(rank)
      }
    }
    for (const service of this.serviceList) {
      if (!this.serviceByLower.has(service.toLowerCase())) {
        this.serviceByLower.set(service.toLowerCase(), this.services_.length)
        this.services_.push({
          name: service,
          start: 0,
          end: 0,
          resourceTypes: resourceLines.get(service) ?? []
        })
      }
    }
    this.size = this.names.length
    this.levelRank = Uint8Array.from(ranks)
    const lowerNames = this.names.map(n => n.toLowerCase())
    this.idsByRank = Int32Array.from(this.names.keys()).sort(
      (a, b) => at(ranks, a) - at(ranks, b) || (at(lowerNames, a) < at(lowerNames, b) ? -1 : 1)
    )
  }

  services(): readonly string[] {
    return this.serviceList
  }

  hasService(prefix: string): boolean {
    return this.serviceByLower.has(prefix.toLowerCase())
  }

  actionsOf(service: string): readonly string[] {
    const index = this.serviceByLower.get(service.toLowerCase())
    if (index === undefined) return []
    const { start, end } = at(this.services_, index)
    return this.names.slice(start, end)
  }

  idOf(name: string): number | undefined {
    return this.idByName.get(name) ?? this.idByLower.get(name.toLowerCase())
  }

  serviceOf(id: number): string {
    return at(this.services_, at(this.serviceIds, id)).name
  }

  action(name: string): ActionInfo | undefined {
    const id = this.idOf(name)
    if (id === undefined) return undefined
    let info = this.infoCache.get(id)
    if (!info) {
      info = this.decodeInfo(id)
      this.infoCache.set(id, info)
    }
    return info
  }

  expand(pattern: string): string[] {
    return this.expandIds(pattern).map(id => at(this.names, id))
  }

  expandIds(pattern: string): number[] {
    const lower = pattern.toLowerCase()
    const colon = lower.indexOf(':')
    if (colon < 0) {
      if (lower === '*') return Array.from(this.names.keys())
      const ids: number[] = []
      for (let id = 0; id < this.size; id++)
        if (globMatch(lower, at(this.names, id).toLowerCase())) ids.push(id)
      return ids
    }
    const servicePattern = lower.slice(0, colon)
    const actionPattern = lower.slice(colon + 1)
    if (!hasWildcard(servicePattern)) {
      const index = this.serviceByLower.get(servicePattern)
      return index === undefined ? [] : this.matchInService(at(this.services_, index), actionPattern)
    }
    const ids: number[] = []
    for (const entry of this.services_) {
      if (globMatch(servicePattern, entry.name.toLowerCase()))
        ids.push(...this.matchInService(entry, actionPattern))
    }
    return ids.sort((a, b) => a - b)
  }

  resourceArnTemplate(service: string, resourceType: string): string | undefined {
    const index = this.serviceByLower.get(service.toLowerCase())
    if (index === undefined) return undefined
    const wanted = resourceType.toLowerCase()
    return at(this.services_, index).resourceTypes.find(t => t.name.toLowerCase() === wanted)?.arn
  }

  resourceArnTemplates(service: string): readonly string[] {
    const index = this.serviceByLower.get(service.toLowerCase())
    return index === undefined ? [] : at(this.services_, index).resourceTypes.map(t => t.arn)
  }

  private matchInService(entry: ServiceEntry, actionPattern: string): number[] {
    const { start, end } = entry
    const ids: number[] = []
    if (actionPattern === '*') {
      for (let id = start; id < end; id++) ids.push(id)
      return ids
    }
    const star = actionPattern.indexOf('*')
    if (!actionPattern.includes('?') && (star < 0 || star === actionPattern.length - 1)) {
      // A literal or a plain prefix: binary search the sorted range.
      const prefix = star < 0 ? actionPattern : actionPattern.slice(0, -1)
      let lo = start
      let hi = end
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (at(this.lowerActionParts, mid) < prefix) lo = mid + 1
        else hi = mid
      }
      for (let id = lo; id < end && at(this.lowerActionParts, id).startsWith(prefix); id++) {
        if (star >= 0 || this.lowerActionParts[id] === prefix) ids.push(id)
      }
      return ids
    }
    for (let id = start; id < end; id++)
      if (globMatch(actionPattern, at(this.lowerActionParts, id))) ids.push(id)
    return ids
  }

  private decodeInfo(id: number): ActionInfo {
    const spec = at(this.specs, id)
    const dot = spec.indexOf('.')
    const accessLevels = [...spec.slice(0, dot)].map(levelOf)
    const service = at(this.services_, at(this.serviceIds, id))
    const refs = spec.slice(dot + 1)
    const resourceTypes =
      refs === ''
        ? []
        : refs.split(',').map(ref => {
            const required = ref.endsWith('*')
            return { name: at(service.resourceTypes, parseInt(ref, 10)).name, required }
          })
    return {
      name: at(this.names, id),
      service: service.name,
      accessLevel: at(ACCESS_LEVELS, at(this.levelRank, id)),
      accessLevels,
      resourceTypes
    }
  }
}

let loaded: DecodedCatalog | undefined

/** The catalog, decoded from the generated module on first call and memoized. */
export function loadCatalog(): Catalog {
  return loadCatalogIndex()
}

/** The memoized catalog with its id-based index (same object as loadCatalog()). */
export function loadCatalogIndex(): CatalogIndex {
  loaded ??= new DecodedCatalog()
  return loaded
}
