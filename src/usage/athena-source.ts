/**
 * Usage from the organization's CloudTrail table through Amazon Athena: one aggregating query for every selected role
 * of every account (usage/athena/query.ts), its rows judged by the local engine's classifier (usage/athena/rows.ts).
 * The query runs with the run's own session; its bytes scanned and estimated cost go into every role's evidence.
 */
import type { AthenaClient } from '@aws-sdk/client-athena'
import { estimatedCostUsd, gigabytes, runAthenaQuery, USD_PER_TB } from '../aws/athena.js'
import type { AthenaLimits } from '../aws/athena.js'
import type { AthenaOptions } from '../config.js'
import { errorMessage } from '../error-message.js'
import type { TimeWindow } from '../model.js'
import { loadCatalog } from '../policy/catalog.js'
import { aggregateQuerySql } from './athena/query.js'
import type { TableName } from './athena/query.js'
import { aggregateRows, athenaRoleUsage } from './athena/rows.js'
import type { ResultRow } from './athena/rows.js'
import { createTableSql } from './athena/table-ddl.js'
import { lookbackStart } from './source.js'
import type { UsageProvider } from './source.js'

/** Distinct resources per entry, as the local engine keeps them (past it: `*`). */
const MAX_RESOURCES = 1000

function tableOf(options: AthenaOptions): TableName {
  return {
    ...(options.catalog ? { catalog: options.catalog } : {}),
    database: options.database,
    table: options.table
  }
}

function windowOf(first: number | null, last: number | null): TimeWindow {
  if (first === null || last === null) return { start: '', end: '' }
  return { start: new Date(first).toISOString(), end: new Date(last).toISOString() }
}

export const athenaSource: UsageProvider = {
  async open({ config, aws, log, startedAt, deadline, signal, sleep }) {
    const options = config.athena
    if (!options) throw new Error('athena-table: required with source: athena')
    const since = config.since ?? lookbackStart(startedAt, config.lookbackDays)
    const until = config.until ?? startedAt
    const table = tableOf(options)
    const limits: AthenaLimits = {
      maxScanBytes: options.maxScanBytes,
      deadline,
      log,
      ...(signal ? { signal } : {}),
      ...(sleep ? { sleep } : {})
    }
    const query = {
      workgroup: options.workgroup,
      outputLocation: options.outputLocation,
      catalog: options.catalog
    }
    let client: AthenaClient | undefined
    const athena = async () => (client ??= await aws.athena())
    if (options.createTable && config.cloudtrailPath) {
      const ddl = createTableSql(table, config.cloudtrailPath)
      await runAthenaQuery(await athena(), { ...query, sql: ddl }, limits)
      log.info(`athena: table ${options.database}.${options.table} is there (created if it was not)`)
    }
    return {
      async usageOf(roleArns) {
        if (roleArns.length === 0) return []
        const sql = aggregateQuerySql({
          table,
          roleArns,
          regions: config.trailRegions,
          since,
          until,
          maxResources: MAX_RESOURCES
        })
        let result
        try {
          result = await runAthenaQuery(await athena(), { ...query, sql }, limits)
        } catch (error) {
          const reason = errorMessage(error)
          log.warning(reason)
          return roleArns.map(() => ({ outcome: { status: 'failed' as const, reason } }))
        }
        const cost = estimatedCostUsd(result.bytesScanned)
        const costNote = `Athena query ${result.queryExecutionId} scanned ${gigabytes(result.bytesScanned)} (estimated USD ${cost.toFixed(4)} at USD ${USD_PER_TB} per TB, 10 MB minimum) and returned ${result.rows.length} rows`
        log.info(`athena: ${costNote}`)
        const aggregated = aggregateRows(result.rows as ResultRow[], roleArns, MAX_RESOURCES)
        const window = windowOf(aggregated.facts.firstTime, aggregated.facts.lastTime)
        const notes = [costNote]
        if (aggregated.facts.events === 0)
          notes.push(
            `no event of the roles' accounts is in ${options.database}.${options.table} between ${since.toISOString()} and ${until.toISOString()}: check athena-table and its partitions (account, region, timestamp)`
          )
        const catalog = loadCatalog()
        return roleArns.map(arn => {
          const usage = athenaRoleUsage(arn, aggregated, catalog, {
            window,
            maxResources: MAX_RESOURCES,
            notes
          })
          return {
            usage: {
              ...usage,
              evidence: {
                ...usage.evidence,
                athena: {
                  queryExecutionId: result.queryExecutionId,
                  workgroup: options.workgroup,
                  bytesScanned: result.bytesScanned,
                  estimatedCostUsd: Number(cost.toFixed(6)),
                  rows: result.rows.length
                }
              }
            }
          }
        })
      }
    }
  }
}
