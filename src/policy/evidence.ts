import { DAY_MS, readsLogRecords } from '../model.js'
import type { MergedSource, RoleUsage } from '../model.js'

interface EvidenceOptions {
  minObservationDays: number
  allowIncomplete: boolean
  /** When the role was created: a role younger than the window was observed for less. */
  roleCreatedAt?: string
}

export interface EvidenceVerdict {
  sufficient: boolean
  reason?: string
  observedDays: number
}

/**
 * Never propose on weak evidence: an incomplete generated policy without opt-in, no observed activity at all, or a
 * window shorter than min-observation-days. Removing a permission because we did not look long enough is how a
 * least-privilege tool causes an outage.
 */
export function judgeEvidence(usage: RoleUsage, options: EvidenceOptions): EvidenceVerdict {
  if (usage.merged) return judgeMerged(usage.merged, options)
  const end = Date.parse(usage.window.end)
  const windowStart = Date.parse(usage.window.start)
  const created = options.roleCreatedAt ? Date.parse(options.roleCreatedAt) : Number.NaN
  const start = Number.isNaN(created) ? windowStart : Math.max(windowStart, created)
  // An empty window (no record in it) observed nothing.
  const observedDays = Math.max(0, (end - start) / DAY_MS) || 0
  const rounded = Math.round(observedDays * 10) / 10
  const skipped = usage.evidence.filesSkipped?.length ?? 0
  if (skipped > 0 && !options.allowIncomplete) {
    return {
      sufficient: false,
      observedDays,
      reason: `${skipped} log file(s) were skipped (unreadable, not CloudTrail, past a size cap, or links; the evidence names each and why), so usage recorded in them is unknown; fix or remove them, or set allow-incomplete: true to propose anyway`
    }
  }
  if (!usage.complete && !options.allowIncomplete) {
    const lines = usage.evidence.linesSkipped ?? 0
    const why =
      usage.source === 'access-analyzer'
        ? 'Access Analyzer marked its generated policy incomplete (isComplete: false)'
        : lines > 0
          ? `${lines} line(s) of JSON-lines log files were skipped (too long, or not JSON), so usage recorded in them is unknown`
          : 'the CloudTrail records hold calls that match no IAM service, so the usage is incomplete'
    return { sufficient: false, observedDays, reason: `${why}; set allow-incomplete: true to propose anyway` }
  }
  // A last-access source reports every service the role's policies allow, used or not: a role that used none of
  // them over the window is evidence (it is what IAM records of the role itself), not the absence of evidence.
  const noActivity = readsLogRecords(usage.source)
    ? (usage.evidence.eventsMatched ?? 0) === 0
    : usage.lastAccess
      ? usage.source === 'access-advisor' && !usage.lastAccess.some(e => e.level === 'service')
      : usage.actions.length === 0 && usage.serviceLevelOnly.length === 0
  if (noActivity) {
    return {
      sufficient: false,
      observedDays,
      reason: `no activity of this role was observed ${usage.window.start ? `in the window (${usage.window.start} to ${usage.window.end})` : '(no record is in the window)'}; nothing is proposed on zero evidence`
    }
  }
  if (observedDays < options.minObservationDays) {
    const since = start > windowStart ? ' (the role is younger than the window)' : ''
    return {
      sufficient: false,
      observedDays,
      reason: `observed for ${rounded} days${since}, less than min-observation-days (${options.minObservationDays})`
    }
  }
  return { sufficient: true, observedDays }
}

/**
 * Several sources: sufficient when at least one source's evidence is (the merge keeps the others' sightings as used
 * but lets only sufficient sources make an action excess); otherwise every source's reason.
 */
function judgeMerged(parts: readonly MergedSource[], options: EvidenceOptions): EvidenceVerdict {
  const verdicts = parts.map(p => ({
    source: p.usage.source,
    verdict: p.insufficient
      ? { sufficient: false, observedDays: 0, reason: p.insufficient }
      : judgeEvidence(p.usage, options)
  }))
  const sufficient = verdicts.filter(v => v.verdict.sufficient)
  if (sufficient.length > 0)
    return { sufficient: true, observedDays: Math.max(...sufficient.map(v => v.verdict.observedDays)) }
  return {
    sufficient: false,
    observedDays: Math.max(0, ...verdicts.map(v => v.verdict.observedDays)),
    reason: verdicts.map(v => `${v.source}: ${v.verdict.reason ?? 'insufficient evidence'}`).join('; ')
  }
}
