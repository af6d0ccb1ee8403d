import type { Catalog } from '../../policy/catalog.js'
import { dependentPatterns } from '../../policy/dependent-actions.js'
import type { ObservedAction, RoleUsage, SkippedFile, TimeWindow, UnmappedEvent } from '../../model.js'
import type { MergedEntry } from './aggregate.js'
import { earliest, latest } from './tally.js'
import { classifyEvent, serviceOfEventSource } from './map-event.js'

/**
 * Longest text of a record kept in the report: AWS's event sources and names are far shorter, so only a hostile
 * record is cut (with an ellipsis), never copied whole into every output.
 */
export const MAX_RECORD_TEXT = 128
/** A resource ARN longer than this is not kept: its action is judged on `*` (as an unknown resource is). */
const MAX_RESOURCE_ARN = 2048
/** A note names this many event sources at most, then counts the rest. */
const NOTE_SOURCES = 10

/** The text as it enters the report: at most MAX_RECORD_TEXT characters, cut with an ellipsis. */
export function recordText(text: string): string {
  return text.length <= MAX_RECORD_TEXT ? text : `${text.slice(0, MAX_RECORD_TEXT - 1)}…`
}

interface ScanContext {
  window: TimeWindow
  filesRead: number
  filesSkipped: SkippedFile[]
  /** Lines of JSON-lines files that were not read (too long, or not JSON). */
  linesSkipped: number
  maxResources: number
  /** Management events seen from any principal (see UsageEvidence.managementEventsSeen). */
  managementEventsSeen?: string[]
  /** Notes that hold for every role (skipped folders, unreadable lines, ...). */
  notes: string[]
}

interface ActionAcc {
  count: number
  resources: Set<string>
  /** Some call named no resource of a type the action takes, or there were too many: the action needs `*`. */
  anyResource: boolean
  /** Operations recorded under another name that proved the action. */
  operations: Set<string>
  /** Earliest and latest dated call, epoch ms. */
  first: number | null
  last: number | null
}

/** One step of an ARN template: a literal character, or a placeholder matching one or more characters. */
type TemplateToken = { literal: number } | { placeholder: true; slash: boolean }

/**
 * A matcher for a resource ARN template (`arn:${Partition}:s3:::${BucketName}/${ObjectName}`): the whole ARN must
 * fit, each placeholder taking one or more characters. Simulated as a set of template positions, so time is ARN
 * length times template length: ARNs come from log records (hostile input), and a backtracking regular expression
 * with three `.+` took minutes on a 10 KB ARN.
 */
function arnTemplateMatcher(template: string): (arn: string) => boolean {
  const tokens: TemplateToken[] = []
  for (const part of template.split(/(\$\{[^}]+\})/)) {
    // A bucket name never holds a slash: this keeps bucket ARNs and object ARNs apart.
    if (part.startsWith('${')) tokens.push({ placeholder: true, slash: part !== '${BucketName}' })
    else for (let i = 0; i < part.length; i++) tokens.push({ literal: part.charCodeAt(i) })
  }
  const fits = (token: TemplateToken, c: number) =>
    'literal' in token ? token.literal === c : token.slash || c !== 47 /* / */
  return arn => {
    // at[s]: the first s tokens match the ARN read so far (the last of them, a placeholder, may take more).
    let at = new Uint8Array(tokens.length + 1)
    let next = new Uint8Array(tokens.length + 1)
    at[0] = 1
    for (let i = 0; i < arn.length; i++) {
      const c = arn.charCodeAt(i)
      next.fill(0)
      let alive = false
      for (let s = 0; s <= tokens.length; s++) {
        if (!at[s]) continue
        const previous = tokens[s - 1]
        if (previous && 'placeholder' in previous && fits(previous, c)) {
          next[s] = 1
          alive = true
        }
        const current = tokens[s]
        if (current && fits(current, c)) {
          next[s + 1] = 1
          alive = true
        }
      }
      if (!alive) return false
      ;[at, next] = [next, at]
    }
    return at[tokens.length] === 1
  }
}

class ResourceFilter {
  private readonly patterns = new Map<string, ((arn: string) => boolean)[]>()

  constructor(private readonly catalog: Catalog) {}

  /** The patterns of the resource types an action takes; empty when it takes only `*`. */
  patternsOf(action: string): ((arn: string) => boolean)[] {
    let list = this.patterns.get(action)
    if (list) return list
    list = []
    const info = this.catalog.action(action)
    for (const type of info?.resourceTypes ?? []) {
      const template = this.catalog.resourceArnTemplate(info!.service, type.name)
      if (template) list.push(arnTemplateMatcher(template))
    }
    this.patterns.set(action, list)
    return list
  }
}

/**
 * One role's usage from its merged entries. Resources are the ARNs the calls named that fit a resource type of the
 * action (other ARNs a record lists, such as the instance an SSM agent runs on, are dropped); an action whose
 * calls did not all name such a resource gets `*` only, so a proposal built on it never narrows below what ran.
 */
export function buildRoleUsage(
  roleArn: string,
  entries: MergedEntry[],
  catalog: Catalog,
  context: ScanContext
): RoleUsage {
  const filter = new ResourceFilter(catalog)
  const actions = new Map<string, ActionAcc>()
  const unmapped = new Map<string, UnmappedEvent>()
  const dataServices = new Set<string>()
  let matched = 0
  let denied = 0
  let permissionless = 0
  let notActions = 0
  const overflowed = new Set<string>()

  for (const entry of entries) {
    matched += entry.count
    if (entry.dataEvent) {
      const service = serviceOfEventSource(catalog, entry.eventSource)
      dataServices.add(service ?? recordText(entry.eventSource))
    }
    const cls = classifyEvent(catalog, entry)
    switch (cls.kind) {
      case 'not-an-action':
        notActions += entry.count
        break
      case 'denied':
        denied += entry.count
        break
      case 'permissionless':
        permissionless += entry.count
        break
      case 'unmapped': {
        const key = `${entry.eventSource} ${entry.eventName}`
        const service = serviceOfEventSource(catalog, entry.eventSource)
        const u = unmapped.get(key) ?? {
          eventSource: recordText(entry.eventSource),
          eventName: recordText(entry.eventName),
          count: 0,
          ...(service ? { service } : {})
        }
        u.count += entry.count
        unmapped.set(key, u)
        break
      }
      case 'used':
        for (const action of cls.actions) {
          let acc = actions.get(action)
          if (!acc) {
            acc = {
              count: 0,
              resources: new Set(),
              anyResource: false,
              operations: new Set(),
              first: null,
              last: null
            }
            actions.set(action, acc)
          }
          acc.count += entry.count
          acc.first = earliest(acc.first, entry.first)
          acc.last = latest(acc.last, entry.last)
          // Kept only when the operation has dependent actions of its own (a copy reads the source's tags).
          if (
            cls.operation.toLowerCase() !== action.toLowerCase() &&
            dependentPatterns(cls.operation).length > 0
          )
            acc.operations.add(cls.operation)
          const patterns = filter.patternsOf(action)
          if (entry.overflow) {
            acc.anyResource = true
            overflowed.add(action)
          }
          if (patterns.length === 0 || entry.unknownResource || resourcesUncertain(entry, action)) {
            acc.anyResource = true
          }
          if (acc.anyResource) continue
          let fitting = 0
          for (const arn of entry.resources) {
            if (arn.length > MAX_RESOURCE_ARN) {
              acc.anyResource = true
              break
            }
            if (patterns.some(fits => fits(arn))) {
              acc.resources.add(arn)
              fitting++
            }
          }
          if (fitting === 0) acc.anyResource = true
          if (acc.resources.size > context.maxResources) {
            acc.anyResource = true
            overflowed.add(action)
          }
        }
        break
    }
  }

  const observed: ObservedAction[] = [...actions.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([action, acc]) => ({
      action,
      resources: acc.anyResource ? ['*'] : [...acc.resources].sort(),
      count: acc.count,
      ...(acc.operations.size > 0 ? { operations: [...acc.operations].sort() } : {}),
      ...(acc.first !== null ? { firstSeen: new Date(acc.first).toISOString() } : {}),
      ...(acc.last !== null ? { lastSeen: new Date(acc.last).toISOString() } : {})
    }))

  const notes = [...context.notes]
  if (notActions > 0)
    notes.push(`${notActions} console sign-in or AWS service events are not IAM actions and were ignored`)
  if (overflowed.size > 0) {
    notes.push(
      `more than ${context.maxResources} distinct resources for ${[...overflowed].sort().join(', ')}: reported as *`
    )
  }

  // Calls of a service the catalog cannot name could have used any granted action: the usage is incomplete.
  const nameless = [...unmapped.values()].filter(u => !u.service)
  if (nameless.length > 0) {
    const sources = nameless.slice(0, NOTE_SOURCES).map(u => u.eventSource)
    const more = nameless.length > NOTE_SOURCES ? ` and ${nameless.length - NOTE_SOURCES} more` : ''
    notes.push(
      `calls from event sources no IAM service matches (${sources.join(', ')}${more}): usage is incomplete`
    )
  }
  return {
    roleArn,
    source: 'cloudtrail',
    window: context.window,
    // A file or a line that could not be read may hold this role's calls.
    complete: nameless.length === 0 && context.filesSkipped.length === 0 && context.linesSkipped === 0,
    actions: observed,
    serviceLevelOnly: [],
    evidence: {
      filesRead: context.filesRead,
      filesSkipped: context.filesSkipped,
      ...(context.linesSkipped > 0 ? { linesSkipped: context.linesSkipped } : {}),
      eventsMatched: matched,
      deniedCalls: denied,
      permissionlessCalls: permissionless,
      unmapped: [...unmapped.values()].sort(
        (a, b) => b.count - a.count || (a.eventSource + a.eventName < b.eventSource + b.eventName ? -1 : 1)
      ),
      dataEventsSeen: [...dataServices].sort(),
      ...(context.managementEventsSeen ? { managementEventsSeen: context.managementEventsSeen } : {}),
      notes
    }
  }
}

/**
 * Calls whose logged resources are not the ones IAM authorizes: a copy names its destination, not the source it reads;
 * a request through an S3 access point is authorized on the access point, not on the bucket the record names.
 */
function resourcesUncertain(entry: MergedEntry, action: string): boolean {
  if (action === 's3:GetObject' && (entry.eventName === 'CopyObject' || entry.eventName === 'UploadPartCopy'))
    return true
  return [...entry.resources].some(arn =>
    /^arn:[^:]+:s3:::[^/]*(-s3alias|--ol-s3)(\/|$)|:accesspoint\//.test(arn)
  )
}
