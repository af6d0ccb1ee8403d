import { DAY_MS, readsLogRecords } from '../model.js'
import type { RoleUsage } from '../model.js'

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
  const noActivity = readsLogRecords(usage.source)
    ? (usage.evidence.eventsMatched ?? 0) === 0
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
