import { canonicalRoleArns } from '../../roles.js'
import { Tally } from './tally.js'
import type { TalliedEntry } from './tally.js'

/** Calls merged across files; resources collapse to `overflow` past the cap. */
export type MergedEntry = TalliedEntry

/** Everything the files said, merged; its size grows with distinct entries, not with events. */
export class ScanAggregate extends Tally {
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
