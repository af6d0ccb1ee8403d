import { canonicalRoleArns } from '../../roles.js'
import type { ReducedEntry, ReducedFile } from './reducer.js'

/** Calls merged across files; resources collapse to `overflow` past the cap. */
export interface MergedEntry extends Omit<ReducedEntry, 'resources'> {
  resources: Set<string>
}

const SEP = '\u0001'

function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b)
}

function latest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b)
}

/** Everything the files said, merged; its size grows with distinct entries, not with events. */
export class ScanAggregate {
  readonly entries = new Map<string, MergedEntry>()
  readonly rolesSeen = new Set<string>()
  readonly managementSeen = new Set<string>()
  events = 0
  undated = 0
  notEvents = 0
  badLines = 0
  longLines = 0
  minTime: number | null = null
  maxTime: number | null = null
  /** Span of every dated event read, inside the window or not. */
  firstTime: number | null = null
  lastTime: number | null = null

  constructor(private readonly maxResources: number) {}

  add(file: ReducedFile): void {
    this.events += file.events
    this.undated += file.undated
    this.notEvents += file.notEvents
    this.badLines += file.badLines
    this.longLines += file.longLines
    this.minTime = earliest(this.minTime, file.minTime)
    this.maxTime = latest(this.maxTime, file.maxTime)
    this.firstTime = earliest(this.firstTime, file.firstTime)
    this.lastTime = latest(this.lastTime, file.lastTime)
    for (const role of file.rolesSeen) this.rolesSeen.add(role)
    for (const seen of file.managementSeen) this.managementSeen.add(seen)
    for (const e of file.entries) {
      const key = [
        e.roleArn,
        e.eventSource,
        e.eventName,
        e.eventType,
        e.errorCode,
        e.deniedByMessage,
        e.dataEvent
      ].join(SEP)
      let merged = this.entries.get(key)
      if (!merged) {
        merged = { ...e, count: 0, resources: new Set(), unknownResource: false, overflow: false }
        this.entries.set(key, merged)
      }
      merged.count += e.count
      merged.unknownResource ||= e.unknownResource
      merged.overflow ||= e.overflow
      if (merged.overflow) {
        merged.resources.clear()
        continue
      }
      for (const r of e.resources) merged.resources.add(r)
      if (merged.resources.size > this.maxResources) {
        merged.overflow = true
        merged.resources.clear()
      }
    }
  }

  /** Entries grouped by role ARN (a role seen without its path joins the ARN with the path). */
  byRole(): Map<string, MergedEntry[]> {
    const canonical = canonicalRoleArns(this.rolesSeen)
    const out = new Map<string, MergedEntry[]>()
    for (const e of this.entries.values()) {
      const arn = canonical.get(e.roleArn) ?? e.roleArn
      const list = out.get(arn)
      if (list) list.push(e)
      else out.set(arn, [e])
    }
    return out
  }

  /** Every role seen, once each. */
  roles(): string[] {
    return [...new Set(canonicalRoleArns(this.rolesSeen).values())].sort()
  }
}
