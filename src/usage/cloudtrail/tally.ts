/**
 * What reading log files yields, counted: one entry per (role, event source, event name, event type, error code,
 * denied-by-message, data event) with the resources its calls named, plus counters and time spans. The reducer
 * fills one per file and merges it into its thread's tally; the scan merges the threads' tallies. Imports nothing:
 * this module is also part of the worker's generated source.
 */

/** What calls of one entry share. */
interface EntryFields {
  /** The role's ARN, or the IAM user's. */
  roleArn: string
  eventSource: string
  eventName: string
  eventType: string
  errorCode: string
  deniedByMessage: boolean
  dataEvent: boolean
}

/** When an entry's calls happened: the earliest and latest dated call, epoch ms; null when none was dated. */
interface CallSpan {
  first: number | null
  last: number | null
}

/** Calls that share role, source, name, outcome and category, with the resources they touched. */
export interface TalliedEntry extends EntryFields, CallSpan {
  count: number
  resources: Set<string>
  /** At least one call named no resource. */
  unknownResource: boolean
  /** More distinct resources than the cap: the list was dropped. */
  overflow: boolean
}

/** A tally as plain data, as it crosses from a worker thread. */
interface ReducedEntry extends EntryFields, CallSpan {
  count: number
  resources: string[]
  unknownResource: boolean
  overflow: boolean
}

interface TallyCounts {
  events: number
  /** Array items that were not objects. */
  notEvents: number
  /** Events without a readable time. */
  undated: number
  /** JSON-lines files: lines that did not parse (the rest of the file was read). */
  badLines: number
  /** JSON-lines files: lines longer than maxLineLength, skipped. */
  longLines: number
  /** Span of the events kept (inside since/until). */
  minTime: number | null
  maxTime: number | null
  /** Span of every dated event, inside the window or not. */
  firstTime: number | null
  lastTime: number | null
}

export interface ReducedTally extends TallyCounts {
  rolesSeen: string[]
  /**
   * Management events seen from any principal: `kms.amazonaws.com` and `rdsdata.amazonaws.com` (the sources a trail can
   * exclude), `read` and `write` (a read-only or a write event).
   */
  managementSeen: string[]
  entries: ReducedEntry[]
}

const SEP = '\u0001'

/** The key an entry is tallied under. */
function entryKey(f: EntryFields): string {
  return (
    f.roleArn +
    SEP +
    f.eventSource +
    SEP +
    f.eventName +
    SEP +
    f.eventType +
    SEP +
    f.errorCode +
    SEP +
    (f.deniedByMessage ? '1' : '0') +
    SEP +
    (f.dataEvent ? '1' : '0')
  )
}

/** Adds one resource; past `maxResources` distinct ones the list collapses to `overflow`. */
export function addResource(entry: TalliedEntry, arn: string, maxResources: number): void {
  if (entry.overflow) return
  entry.resources.add(arn)
  if (entry.resources.size > maxResources) {
    entry.overflow = true
    entry.resources.clear()
  }
}

/** The earlier of two times, either of which may be unknown. */
export function earliest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.min(a, b)
}

/** The later of two times, either of which may be unknown. */
export function latest(a: number | null, b: number | null): number | null {
  return a === null ? b : b === null ? a : Math.max(a, b)
}

type EntryLike = EntryFields &
  CallSpan & {
    count: number
    resources: Iterable<string>
    unknownResource: boolean
    overflow: boolean
  }

/** Counts one call of an entry at time `t` (NaN when the record had no readable time). */
export function countCall(entry: TalliedEntry, t: number): void {
  entry.count++
  if (t !== t) return
  if (entry.first === null || t < entry.first) entry.first = t
  if (entry.last === null || t > entry.last) entry.last = t
}

export class Tally implements TallyCounts {
  readonly entries = new Map<string, TalliedEntry>()
  readonly rolesSeen = new Set<string>()
  readonly managementSeen = new Set<string>()
  events = 0
  notEvents = 0
  undated = 0
  badLines = 0
  longLines = 0
  minTime: number | null = null
  maxTime: number | null = null
  firstTime: number | null = null
  lastTime: number | null = null
  /** An upper bound of the entries and resources held: what the tally costs in memory, about 100 bytes each. */
  held = 0

  constructor(readonly maxResources: number) {}

  /** The entry for these fields, created empty when new. */
  entry(fields: EntryFields, key: string = entryKey(fields)): TalliedEntry {
    let entry = this.entries.get(key)
    if (!entry) {
      entry = {
        roleArn: fields.roleArn,
        eventSource: fields.eventSource,
        eventName: fields.eventName,
        eventType: fields.eventType,
        errorCode: fields.errorCode,
        deniedByMessage: fields.deniedByMessage,
        dataEvent: fields.dataEvent,
        count: 0,
        resources: new Set(),
        unknownResource: false,
        overflow: false,
        first: null,
        last: null
      }
      this.entries.set(key, entry)
      this.held++
    }
    return entry
  }

  /** Merges another tally, live (same thread) or as plain data (from a worker). */
  add(other: Tally | ReducedTally): void {
    this.events += other.events
    this.notEvents += other.notEvents
    this.undated += other.undated
    this.badLines += other.badLines
    this.longLines += other.longLines
    this.minTime = earliest(this.minTime, other.minTime)
    this.maxTime = latest(this.maxTime, other.maxTime)
    this.firstTime = earliest(this.firstTime, other.firstTime)
    this.lastTime = latest(this.lastTime, other.lastTime)
    for (const role of other.rolesSeen) this.rolesSeen.add(role)
    for (const seen of other.managementSeen) this.managementSeen.add(seen)
    const entries: Iterable<EntryLike> = other instanceof Tally ? other.entries.values() : other.entries
    for (const e of entries) this.mergeEntry(e)
  }

  private mergeEntry(e: EntryLike): void {
    const merged = this.entry(e)
    merged.count += e.count
    merged.first = earliest(merged.first, e.first)
    merged.last = latest(merged.last, e.last)
    merged.unknownResource ||= e.unknownResource
    if (e.overflow && !merged.overflow) {
      merged.overflow = true
      merged.resources.clear()
    }
    for (const r of e.resources) {
      if (merged.overflow) break
      addResource(merged, r, this.maxResources)
      this.held++
    }
  }

  /** Time of one event: `t` (NaN when unreadable) and whether it lies outside the window. */
  noteTime(t: number, since: number | null, until: number | null): boolean {
    if (t !== t) {
      this.undated++
      return since !== null || until !== null
    }
    this.firstTime = earliest(this.firstTime, t)
    this.lastTime = latest(this.lastTime, t)
    if ((since !== null && t < since) || (until !== null && t > until)) return true
    this.minTime = earliest(this.minTime, t)
    this.maxTime = latest(this.maxTime, t)
    return false
  }

  /** As plain data, to cross to another thread. */
  toReduced(): ReducedTally {
    const entries: ReducedEntry[] = []
    for (const e of this.entries.values()) entries.push({ ...e, resources: [...e.resources] })
    return {
      events: this.events,
      notEvents: this.notEvents,
      undated: this.undated,
      badLines: this.badLines,
      longLines: this.longLines,
      minTime: this.minTime,
      maxTime: this.maxTime,
      firstTime: this.firstTime,
      lastTime: this.lastTime,
      rolesSeen: [...this.rolesSeen],
      managementSeen: [...this.managementSeen],
      entries
    }
  }
}
