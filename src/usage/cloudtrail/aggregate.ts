import { canonicalRoleArns } from '../../roles.js'
import type { ReducedEntry, ReducedFile } from './reducer.js'

/** Calls merged across files; resources collapse to `overflow` past the cap. */
export interface MergedEntry extends Omit<ReducedEntry, 'resources'> {
  resources: Set<string>
}

const SEP = '\u0001'

/** Everything the files said, merged; its size grows with distinct entries, not with events. */
export class ScanAggregate {
  readonly entries = new Map<string, MergedEntry>()
  readonly rolesSeen = new Set<string>()
  readonly managementSeen = new Set<string>()
  events = 0
  undated = 0
  notEvents = 0
  badLines = 0
  minTime: number | null = null
  maxTime: number | null = null

  constructor(private readonly maxResources: number) {}

  add(file: ReducedFile): void {
    this.events += file.events
    this.undated += file.undated
    this.notEvents += file.notEvents
    this.badLines += file.badLines
    if (file.minTime !== null)
      this.minTime = this.minTime === null ? file.minTime : Math.min(this.minTime, file.minTime)
    if (file.maxTime !== null)
      this.maxTime = this.maxTime === null ? file.maxTime : Math.max(this.maxTime, file.maxTime)
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
