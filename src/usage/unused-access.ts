/**
 * Unused-access findings -> RoleUsage. AWS lists what a principal left unused over the analyzer's tracking period:
 * whole services (service level), actions of the services it tracks at action level, or the whole principal
 * (UnusedIAMRole). What a finding does not list is not proof of use: it was used, or AWS does not track it at that
 * level, and the finding does not say which. So the usage holds `lastAccess` entries for what the findings list, and
 * policy/last-access.ts makes everything else unobservable. Pure.
 */
import type { FindingDetails, FindingSummaryV2 } from '@aws-sdk/client-accessanalyzer'
import { DAY_MS } from '../model.js'
import type { LastAccess, ObservedAction, RoleUsage, TimeWindow } from '../model.js'
import { loadCatalogIndex } from '../policy/catalog.js'
import type { UnusedAccessAnalyzer } from '../aws/unused-access.js'
import { iso } from './access-analyzer.js'

/** A finding on the principal, with its details when it was read (ACTIVE and ARCHIVED ones are). */
export interface ReadFinding {
  summary: Pick<FindingSummaryV2, 'id' | 'status' | 'findingType' | 'analyzedAt' | 'updatedAt' | 'error'>
  details: FindingDetails[]
}

/** Whether a finding is evidence: RESOLVED ones describe access since used or removed. */
export function isEvidence(summary: Pick<FindingSummaryV2, 'status'>): boolean {
  return summary.status === 'ACTIVE' || summary.status === 'ARCHIVED'
}

function entry(key: string, level: LastAccess['level'], lastUsed: Date | string | undefined): LastAccess {
  const when = iso(lastUsed)
  return { key, level, ...(when ? { lastUsed: when } : {}) }
}

/**
 * What the principal's findings show, over the analyzer's tracking period ending when AWS last analyzed the
 * principal (use after that is not covered). `now` ends the window when no finding is evidence.
 */
export function usageFromFindings(
  principalArn: string,
  analyzer: UnusedAccessAnalyzer,
  findings: readonly ReadFinding[],
  now: Date
): RoleUsage {
  const evidence = findings.filter(f => isEvidence(f.summary))
  const analyzedTimes = evidence
    .map(f => Date.parse(iso(f.summary.analyzedAt ?? f.summary.updatedAt) ?? ''))
    .filter(t => !Number.isNaN(t))
  const end = analyzedTimes.length > 0 ? Math.min(...analyzedTimes) : now.getTime()
  const window: TimeWindow = {
    start: new Date(end - analyzer.unusedAccessAgeDays * DAY_MS).toISOString(),
    end: new Date(end).toISOString()
  }
  const lastAccess: LastAccess[] = []
  const notes: string[] = [
    `Unused-access analyzer ${analyzer.arn} (tracking period ${analyzer.unusedAccessAgeDays} days): what its findings list as unused is judged; whatever they do not list was used in that period or is not tracked by AWS at that level, and is kept as unobservable.`
  ]
  for (const { summary, details } of evidence) {
    const id = summary.id ?? '?'
    const analyzed = iso(summary.analyzedAt ?? summary.updatedAt)
    notes.push(
      `Finding ${id}: ${String(summary.findingType)}, ${String(summary.status)}${analyzed ? `, analyzed ${analyzed}` : ''}.`
    )
    if (summary.status === 'ARCHIVED')
      notes.push(
        `Finding ${id} is archived: someone accepted this unused access in Access Analyzer; it is still evidence that the access was not used (keep it with keep-actions if it is intended).`
      )
    for (const detail of details) {
      if (detail.unusedIamRoleDetails) {
        // The whole principal is unused: every service is, at service level.
        const last = detail.unusedIamRoleDetails.lastAccessed
        for (const service of loadCatalogIndex().services()) lastAccess.push(entry(service, 'service', last))
        notes.push(
          `Finding ${id}: the principal was not used at all in the tracking period${last ? ` (last used ${iso(last)})` : ''}.`
        )
      }
      const unused = detail.unusedPermissionDetails
      if (!unused?.serviceNamespace) continue
      const service = unused.serviceNamespace.toLowerCase()
      const actions = unused.actions ?? []
      // A service listed without actions is unused as a whole; with actions, only those are judged (the service
      // entry then says when it was last used, which leaves its other actions unobservable).
      if (actions.length === 0 || unused.lastAccessed)
        lastAccess.push(entry(service, 'service', unused.lastAccessed))
      for (const a of actions)
        if (a.action) lastAccess.push(entry(qualified(service, a.action), 'action', a.lastAccessed))
      const named = actions
        .filter(a => a.action)
        .map(a => `${qualified(service, a.action ?? '')} (${lastUsedText(a.lastAccessed)})`)
      notes.push(
        named.length > 0
          ? `Unused in ${service} (${service} ${lastUsedText(unused.lastAccessed)}): ${named.join(', ')}.`
          : `${service} unused as a whole (${lastUsedText(unused.lastAccessed)}).`
      )
    }
  }
  const resolved = findings.length - evidence.length
  if (resolved > 0)
    notes.push(`${resolved} resolved finding(s) ignored: their access was since used or removed.`)
  if (evidence.length === 0)
    notes.push(
      'No active or archived unused-access finding on this principal: AWS saw every service it is granted used in the tracking period (or has not analyzed it yet), so nothing is judged excess by this source.'
    )
  const start = Date.parse(window.start)
  // An entry dated inside the window is use (a finding may lag behind the use that resolves it).
  const actions: ObservedAction[] = lastAccess
    .filter(e => e.level === 'action' && e.lastUsed !== undefined && Date.parse(e.lastUsed) >= start)
    .map(e => ({ action: e.key, resources: ['*'], ...(e.lastUsed ? { lastSeen: e.lastUsed } : {}) }))
  return {
    roleArn: principalArn,
    source: 'unused-access',
    window,
    complete: true,
    actions,
    serviceLevelOnly: [],
    lastAccess: dedupe(lastAccess),
    evidence: { notes }
  }
}

function lastUsedText(when: Date | string | undefined): string {
  const at = iso(when)
  return at ? `last used ${at.slice(0, 10)}` : 'never used in the tracking period'
}

/** `s3:GetObject` as given, or `GetObject` under its service. */
function qualified(service: string, action: string): string {
  return action.includes(':') ? action : `${service}:${action}`
}

/** One entry per key and level: the latest use wins (an entry with no use loses to one with a date). */
function dedupe(entries: LastAccess[]): LastAccess[] {
  const byKey = new Map<string, LastAccess>()
  for (const e of entries) {
    const k = `${e.level}:${e.key.toLowerCase()}`
    const current = byKey.get(k)
    if (!current || (e.lastUsed ?? '') > (current.lastUsed ?? '')) byKey.set(k, e)
  }
  return [...byKey.values()]
}
