/**
 * One Athena query, from start to its rows: the workgroup is read first (its result location, its own per-query scan
 * cutoff), the query is polled with its statistics, and stopped (StopQueryExecution) when it scans past the
 * scan limit, when the run's deadline passes or when the run is cancelled (SIGTERM). Failures are one line each.
 */
import {
  GetQueryExecutionCommand,
  GetWorkGroupCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  paginateGetQueryResults
} from '@aws-sdk/client-athena'
import type { AthenaClient, QueryExecution } from '@aws-sdk/client-athena'
import { errorMessage } from '../error-message.js'
import type { Logger } from '../logger.js'
import { realSleep } from './retry.js'
import type { Sleep } from './retry.js'

export interface AthenaQuery {
  sql: string
  workgroup: string
  /** s3:// location for results; undefined = the workgroup's. */
  outputLocation?: string | undefined
  catalog?: string | undefined
}

export interface AthenaLimits {
  /** Stop the query once it has scanned more than this; undefined = no limit of ours. */
  maxScanBytes?: number | undefined
  deadline: Date
  signal?: AbortSignal | undefined
  log: Logger
  sleep?: Sleep
  now?: () => number
  /** First poll interval; doubles up to 5 s. */
  pollMs?: number
  /** Minimum time between two progress lines in the log. */
  progressEveryMs?: number
}

export interface AthenaResult {
  queryExecutionId: string
  /** Rows by column name, NULL as absent (the header row is not one of them). */
  rows: Record<string, string>[]
  bytesScanned: number
  engineMs?: number
}

/** Athena's price in most Regions: USD 5 per TB (10^12 bytes) scanned, at least 10 MB per query. */
export const USD_PER_TB = 5
const MIN_BILLED_BYTES = 10 * 1000 * 1000

export function estimatedCostUsd(bytesScanned: number): number {
  return (Math.max(bytesScanned, MIN_BILLED_BYTES) / 1e12) * USD_PER_TB
}

export function gigabytes(bytes: number): string {
  const gb = bytes / 1e9
  return gb >= 10
    ? `${gb.toFixed(0)} GB`
    : gb >= 0.01
      ? `${gb.toFixed(2)} GB`
      : `${(bytes / 1e6).toFixed(1)} MB`
}

/** The one-line reason Athena gives for a query that did not succeed. */
function reasonOf(execution: QueryExecution | undefined): string {
  const status = execution?.Status
  return status?.AthenaError?.ErrorMessage ?? status?.StateChangeReason ?? 'no reason given'
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}

interface Workgroup {
  cutoffBytes?: number
  outputLocation?: string
  enforced: boolean
}

async function readWorkgroup(client: AthenaClient, name: string): Promise<Workgroup> {
  let response
  try {
    response = await client.send(new GetWorkGroupCommand({ WorkGroup: name }))
  } catch (error) {
    throw new Error(`athena-workgroup: cannot read workgroup "${name}": ${oneLine(errorMessage(error))}`, {
      cause: error
    })
  }
  const group = response.WorkGroup
  if (group?.State === 'DISABLED')
    throw new Error(`athena-workgroup: workgroup "${name}" is disabled; enable it or name another`)
  const configuration = group?.Configuration
  const cutoff = configuration?.BytesScannedCutoffPerQuery
  const location = configuration?.ResultConfiguration?.OutputLocation
  return {
    ...(cutoff !== undefined ? { cutoffBytes: cutoff } : {}),
    ...(location ? { outputLocation: location } : {}),
    enforced: configuration?.EnforceWorkGroupConfiguration === true
  }
}

/** Runs `query` to its rows, or throws a one-line error naming the query and why it did not succeed. */
export async function runAthenaQuery(
  client: AthenaClient,
  query: AthenaQuery,
  limits: AthenaLimits
): Promise<AthenaResult> {
  const { log } = limits
  const sleep = limits.sleep ?? realSleep
  const now = limits.now ?? Date.now
  const workgroup = await readWorkgroup(client, query.workgroup)
  const outputLocation = workgroup.enforced
    ? workgroup.outputLocation
    : (query.outputLocation ?? workgroup.outputLocation)
  if (!outputLocation) {
    throw new Error(
      `athena-output-location: required: workgroup "${query.workgroup}" has no query result location; give s3://bucket/prefix/`
    )
  }
  if (workgroup.cutoffBytes !== undefined) {
    log.info(
      `athena: workgroup "${query.workgroup}" stops any query past ${gigabytes(workgroup.cutoffBytes)} scanned`
    )
  }
  if (limits.signal?.aborted) throw new Error('athena: cancelled before the query started')
  const started = await client.send(
    new StartQueryExecutionCommand({
      QueryString: query.sql,
      WorkGroup: query.workgroup,
      ...(query.catalog ? { QueryExecutionContext: { Catalog: query.catalog } } : {}),
      ...(workgroup.enforced ? {} : { ResultConfiguration: { OutputLocation: outputLocation } })
    })
  )
  const id = started.QueryExecutionId
  if (!id) throw new Error('athena: StartQueryExecution returned no query id')
  log.info(`athena: query ${id} started in workgroup "${query.workgroup}"`)

  const stop = async (why: string): Promise<never> => {
    try {
      await client.send(new StopQueryExecutionCommand({ QueryExecutionId: id }))
    } catch (error) {
      log.warning(`athena: could not stop query ${id}: ${oneLine(errorMessage(error))}`)
    }
    throw new Error(`athena: query ${id} stopped: ${why}`)
  }

  const startedAt = now()
  let lastProgress = startedAt
  let pollMs = limits.pollMs ?? 500
  let execution: QueryExecution | undefined
  for (;;) {
    if (limits.signal?.aborted) return stop('the run was cancelled')
    if (now() >= limits.deadline.getTime()) return stop('timeout-minutes ran out')
    execution = (await client.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution
    const state = execution?.Status?.State
    const scanned = execution?.Statistics?.DataScannedInBytes ?? 0
    if (state === 'SUCCEEDED') break
    if (state === 'FAILED') throw new Error(`athena: query ${id} failed: ${oneLine(reasonOf(execution))}`)
    if (state === 'CANCELLED') {
      throw new Error(
        `athena: query ${id} was cancelled (by the workgroup's scan cutoff or by someone else): ${oneLine(reasonOf(execution))}`
      )
    }
    if (limits.maxScanBytes !== undefined && scanned > limits.maxScanBytes) {
      return stop(
        `it scanned ${gigabytes(scanned)}, past athena-max-scan-gb (${gigabytes(limits.maxScanBytes)}); narrow lookback-days or trail-regions, or raise the limit`
      )
    }
    if (now() - lastProgress >= (limits.progressEveryMs ?? 30_000)) {
      lastProgress = now()
      log.info(
        `athena: query ${id} ${state ?? 'UNKNOWN'} for ${Math.round((now() - startedAt) / 1000)} s, ${gigabytes(scanned)} scanned so far`
      )
    }
    await sleep(pollMs, limits.signal)
    pollMs = Math.min(pollMs * 2, 5000)
  }

  const rows: Record<string, string>[] = []
  let columns: string[] | undefined
  for await (const page of paginateGetQueryResults({ client }, { QueryExecutionId: id, MaxResults: 1000 })) {
    const resultSet = page.ResultSet
    let pageRows = resultSet?.Rows ?? []
    if (!columns) {
      columns = (resultSet?.ResultSetMetadata?.ColumnInfo ?? []).map(c => c.Name ?? '')
      // The first row of a SELECT's first page is the header: the column names again.
      const [first] = pageRows
      if (first && first.Data?.every((d, i) => d.VarCharValue === columns?.[i])) pageRows = pageRows.slice(1)
    }
    for (const row of pageRows) {
      const out: Record<string, string> = {}
      row.Data?.forEach((datum, i) => {
        const name = columns?.[i]
        if (name !== undefined && datum.VarCharValue !== undefined) out[name] = datum.VarCharValue
      })
      rows.push(out)
    }
  }
  const statistics = execution?.Statistics
  return {
    queryExecutionId: id,
    rows,
    bytesScanned: statistics?.DataScannedInBytes ?? 0,
    ...(statistics?.EngineExecutionTimeInMillis !== undefined
      ? { engineMs: statistics.EngineExecutionTimeInMillis }
      : {})
  }
}
