/**
 * Evidence on every action, for a reviewer who asks "how do you know it is unused?": per source its window,
 * completeness and what it knows of last use; per used action its count, first and last seen and sources; per
 * excess action "never seen in N days (source)" or "last used DATE (source)".
 */
import { DAY_MS, compare } from '../model.js'
import type { LastAccess, RoleUsage, SourceEvidence, TimeWindow, UsedActionEvidence } from '../model.js'
import { usedActionNames } from './analyze.js'
import type { CatalogIndex } from './catalog.js'
import { usageParts } from './merge-usage.js'
import { unobservableActions } from './unobservable.js'

export function windowDays(window: TimeWindow): number {
  const days = (Date.parse(window.end) - Date.parse(window.start)) / DAY_MS
  return Number.isFinite(days) ? Math.max(0, Math.round(days)) : 0
}

const spans = new WeakMap<TimeWindow, string>()

/** A window's length for a sentence: `90 days`, `5 hours` (a short window of log files), `less than an hour`. */
export function windowSpan(window: TimeWindow): string {
  // Said once per excess action of a role: the window object is the same for all of them.
  let span = spans.get(window)
  if (span === undefined) {
    span = spanOf(window)
    spans.set(window, span)
  }
  return span
}

function spanOf(window: TimeWindow): string {
  const ms = Date.parse(window.end) - Date.parse(window.start)
  if (!Number.isFinite(ms) || ms < 3_600_000) return 'less than an hour'
  if (ms < DAY_MS) {
    const hours = Math.round(ms / 3_600_000)
    return `${hours} hour${hours === 1 ? '' : 's'}`
  }
  const days = windowDays(window)
  return `${days} day${days === 1 ? '' : 's'}`
}

/**
 * Each source of the usage. `excess` (action names) gives each judging source of a merged usage its blind spots
 * among them: an action excess by another source's evidence that this one could not observe.
 */
export function sourceEvidence(
  catalog: CatalogIndex,
  usage: RoleUsage,
  sufficient: boolean,
  excess: readonly string[]
): SourceEvidence[] {
  return usageParts(usage).map(part => {
    const judged = usage.merged ? !part.insufficient : sufficient
    const blindIds = usage.merged && judged ? unobservableActions(catalog, part.usage) : undefined
    const blind = blindIds
      ? excess.filter(a => {
          const id = catalog.idOf(a)
          return id !== undefined && blindIds.has(id)
        })
      : []
    return {
      source: part.usage.source,
      window: part.usage.window,
      complete: part.usage.complete,
      judged,
      ...(part.insufficient ? { reason: part.insufficient } : {}),
      ...(part.usage.lastAccess ? { lastAccess: part.usage.lastAccess } : {}),
      ...(blind.length > 0 ? { blind } : {})
    }
  })
}

/** Count, first and last seen, and the sources that saw each used action (canonical names). */
export function usedEvidence(
  catalog: CatalogIndex,
  usage: RoleUsage,
  used: readonly string[]
): UsedActionEvidence[] {
  const parts = usageParts(usage).map(p => ({
    source: p.usage.source,
    names: new Set(usedActionNames(catalog, p.usage)),
    byAction: new Map(p.usage.actions.map(a => [a.action.toLowerCase(), a]))
  }))
  return used.map(action => {
    const seen = parts.filter(p => p.names.has(action))
    const entries = seen.flatMap(p => {
      const entry = p.byAction.get(action.toLowerCase())
      return entry ? [entry] : []
    })
    const counts = entries.flatMap(e => (e.count === undefined ? [] : [e.count]))
    const first = entries.flatMap(e => (e.firstSeen ? [e.firstSeen] : [])).sort(compare)[0]
    const last = entries
      .flatMap(e => (e.lastSeen ? [e.lastSeen] : []))
      .sort(compare)
      .at(-1)
    return {
      action,
      ...(counts.length > 0 ? { count: counts.reduce((a, b) => a + b, 0) } : {}),
      ...(first ? { firstSeen: first } : {}),
      ...(last ? { lastSeen: last } : {}),
      sources: [...new Set(seen.map(p => p.source))]
    }
  })
}

function lastAccessOf(entries: readonly LastAccess[], key: string, level: LastAccess['level']) {
  const lower = key.toLowerCase()
  return entries.find(e => e.level === level && e.key.toLowerCase() === lower)
}

/** What one source says of an excess action, or undefined when it did not judge it. */
function sourceSays(action: string, source: SourceEvidence): { text: string; lastUsed?: string } | undefined {
  if (!source.judged || source.blind?.includes(action)) return undefined
  const span = windowSpan(source.window)
  if (!source.lastAccess) return { text: `never seen in ${span} (${source.source})` }
  const service = action.split(':')[0] ?? ''
  const entry =
    lastAccessOf(source.lastAccess, action, 'action') ?? lastAccessOf(source.lastAccess, service, 'service')
  if (!entry) return undefined
  const what = entry.level === 'service' ? `${service} ` : ''
  return entry.lastUsed
    ? { text: `${what}last used ${entry.lastUsed.slice(0, 10)} (${source.source})`, lastUsed: entry.lastUsed }
    : { text: `${what}never used in ${span} (${source.source})` }
}

/** The evidence line of an excess action, and its latest known use before the window. */
export function excessEvidence(
  action: string,
  sources: readonly SourceEvidence[]
): { evidence: string; lastUsed?: string } {
  const says = sources.flatMap(s => {
    const said = sourceSays(action, s)
    return said ? [said] : []
  })
  const lastUsed = says
    .flatMap(s => (s.lastUsed ? [s.lastUsed] : []))
    .sort(compare)
    .at(-1)
  return { evidence: says.map(s => s.text).join('; '), ...(lastUsed ? { lastUsed } : {}) }
}

/** Per service: its last use as the last-access sources know it, else "not seen in N days" from the others. */
export function serviceEvidence(service: string, sources: readonly SourceEvidence[]): string {
  const says = sources.flatMap(s => {
    if (!s.judged) return []
    const span = windowSpan(s.window)
    if (!s.lastAccess) return [`not seen in ${span} (${s.source})`]
    const entry = lastAccessOf(s.lastAccess, service, 'service')
    if (!entry) return []
    return [
      entry.lastUsed
        ? `last used ${entry.lastUsed.slice(0, 10)} (${s.source})`
        : `never used in ${span} (${s.source})`
    ]
  })
  return says.join('; ')
}
