/**
 * The aggregating query's rows turned into usage with the local engine's own tally and classifier, so both sources
 * judge the same records the same way (denied, permissionless, unmapped, data events, resources).
 */
import type { RoleUsage } from '../../model.js'
import type { Catalog } from '../../policy/catalog.js'
import { roleKey } from '../../roles.js'
import { addResource, earliest, latest, Tally } from '../cloudtrail/tally.js'
import type { TalliedEntry } from '../cloudtrail/tally.js'
import { buildRoleUsage } from '../cloudtrail/role-usage.js'
import type { RESULT_COLUMNS } from './query.js'

/** A result row by column name; NULL is undefined. */
export type ResultRow = Partial<Record<(typeof RESULT_COLUMNS)[number], string>>

/** What the rows say about the whole table, whoever the principal. */
interface TableFacts {
  /** Events of the window read (every principal). */
  events: number
  /** Span of those events, epoch ms. */
  firstTime: number | null
  lastTime: number | null
  /** As UsageEvidence.managementEventsSeen. */
  managementSeen: string[]
}

export interface AggregatedUsage {
  facts: TableFacts
  /** Entries per selected role ARN (as given), whatever ARN form the records named it by. */
  entries: Map<string, TalliedEntry[]>
}

function flag(value: string | undefined): boolean {
  return value === 'true'
}

function count(value: string | undefined, column: string): number {
  const n = Number(value ?? '0')
  if (!Number.isSafeInteger(n) || n < 0)
    throw new Error(`athena: the result's ${column} is not a count: ${value}`)
  return n
}

function time(value: string | undefined): number | null {
  const t = value ? Date.parse(value) : NaN
  return Number.isNaN(t) ? null : t
}

/** Merges the rows into one tally per selected role or user (`roleArns`); rows of other principals are ignored. */
export function aggregateRows(
  rows: Iterable<ResultRow>,
  roleArns: readonly string[],
  maxResources: number
): AggregatedUsage {
  const selected = new Map(roleArns.map(arn => [roleKey(arn), arn]))
  const tally = new Tally(maxResources)
  const managementSeen = new Set<string>()
  let events = 0
  let firstTime: number | null = null
  let lastTime: number | null = null
  for (const row of rows) {
    const resource = row.resource ?? ''
    if (resource === '') {
      events += count(row.calls, 'calls')
      firstTime = earliest(firstTime, time(row.first_seen))
      lastTime = latest(lastTime, time(row.last_seen))
      if (flag(row.seen_kms)) managementSeen.add('kms.amazonaws.com')
      if (flag(row.seen_rdsdata)) managementSeen.add('rdsdata.amazonaws.com')
      if (flag(row.seen_read)) managementSeen.add('read')
      if (flag(row.seen_write)) managementSeen.add('write')
    }
    const roleArn = row.role_arn ? selected.get(roleKey(row.role_arn)) : undefined
    if (roleArn === undefined || row.event_name === undefined) continue
    const entry = tally.entry({
      roleArn,
      eventSource: row.event_source ?? '',
      eventName: row.event_name,
      eventType: row.event_type ?? '',
      errorCode: row.error_code ?? '',
      deniedByMessage: flag(row.denied_by_message),
      dataEvent: flag(row.data_event)
    })
    if (count(row.distinct_resources, 'distinct_resources') > maxResources && !entry.overflow) {
      entry.overflow = true
      entry.resources.clear()
    }
    if (resource === '') {
      entry.count += count(row.calls, 'calls')
      entry.first = earliest(entry.first, time(row.first_seen))
      entry.last = latest(entry.last, time(row.last_seen))
      if (flag(row.no_resource)) entry.unknownResource = true
    } else {
      addResource(entry, resource, maxResources)
    }
  }
  const entries = new Map<string, TalliedEntry[]>()
  for (const entry of tally.entries.values()) {
    const list = entries.get(entry.roleArn)
    if (list) list.push(entry)
    else entries.set(entry.roleArn, [entry])
  }
  return { facts: { events, firstTime, lastTime, managementSeen: [...managementSeen].sort() }, entries }
}

interface UsageContext {
  window: { start: string; end: string }
  maxResources: number
  notes: string[]
}

/** A role's usage from the query, judged as the CloudTrail source judges it. */
export function athenaRoleUsage(
  roleArn: string,
  aggregated: AggregatedUsage,
  catalog: Catalog,
  context: UsageContext
): RoleUsage {
  const usage = buildRoleUsage(roleArn, aggregated.entries.get(roleArn) ?? [], catalog, {
    window: context.window,
    filesRead: 0,
    filesSkipped: [],
    linesSkipped: 0,
    maxResources: context.maxResources,
    managementEventsSeen: aggregated.facts.managementSeen,
    notes: context.notes
  })
  // No log file is read here: the table is the evidence.
  const { filesRead: _read, filesSkipped: _skipped, ...evidence } = usage.evidence
  return { ...usage, source: 'athena', evidence }
}
