/**
 * The Athena aggregating query at event scale: `npx tsx bench/athena-aggregate.ts [--rounds N]`.
 *
 * Loads the generated 1M-event organization trail (20 accounts x 3 Regions; bench/cloudtrail-events.ts builds it once
 * in .bench-data/) into DuckDB in the CloudTrail table's shape, then runs, alternating, ROUNDS times:
 *   - baseline: a full scan that only counts events (SELECT count(*) over the same partitions);
 *   - query: the aggregating query for every role of every account, as source: athena sends it to Athena.
 * Prints the rows the query returns (what crosses the network and is judged locally) against the events it reads,
 * and its wall time against the baseline's. DuckDB stands in for Athena: the ratio, not the seconds, carries over.
 */
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { DuckDBInstance } from '@duckdb/node-api'
import type { DuckDBConnection } from '@duckdb/node-api'
import { aggregateQuerySql } from '../src/usage/athena/query.js'
import { trinoToDuckDb } from '../__tests__/support/cloudtrail-table.js'
import { DATASETS, build } from './cloudtrail-events.js'

const ISSUER = 'STRUCT("type" VARCHAR, "arn" VARCHAR, "accountId" VARCHAR)'
const RECORD =
  'STRUCT("eventTime" VARCHAR, "eventSource" VARCHAR, "eventName" VARCHAR, "eventType" VARCHAR, "errorCode" VARCHAR, ' +
  '"errorMessage" VARCHAR, "readOnly" VARCHAR, "eventCategory" VARCHAR, "awsRegion" VARCHAR, "recipientAccountId" VARCHAR, ' +
  '"requestParameters" JSON, "resources" STRUCT("ARN" VARCHAR, "accountId" VARCHAR, "type" VARCHAR)[], ' +
  `"userIdentity" STRUCT("type" VARCHAR, "arn" VARCHAR, "sessionContext" STRUCT("sessionIssuer" ${ISSUER})))`

/** The gzip files as the CloudTrail table: lower-case struct fields, nested JSON as text, partitions from the keys. */
async function load(connection: DuckDBConnection, dir: string): Promise<number> {
  const glob = path.join(dir, '**', '*.json.gz').replaceAll("'", "''")
  await connection.run('CREATE SCHEMA logs')
  await connection.run(`CREATE TABLE logs.trail AS
    SELECT
      {'type': r.userIdentity.type, 'arn': r.userIdentity.arn,
       'sessioncontext': {'sessionissuer': {'arn': r.userIdentity.sessionContext.sessionIssuer.arn}}} AS useridentity,
      r.eventTime AS eventtime, r.eventSource AS eventsource, r.eventName AS eventname, r.eventType AS eventtype,
      r.errorCode AS errorcode, r.errorMessage AS errormessage, r.readOnly AS readonly, r.eventCategory AS eventcategory,
      CAST(r.requestParameters AS VARCHAR) AS requestparameters,
      list_transform(r.resources, x -> {'arn': x.ARN, 'accountid': x.accountId, 'type': x.type}) AS resources,
      regexp_extract(filename, 'AWSLogs/[^/]+/(\\d{12})/', 1) AS account,
      regexp_extract(filename, '/CloudTrail/([a-z0-9-]+)/', 1) AS region,
      regexp_extract(filename, '/CloudTrail/[a-z0-9-]+/(\\d{4}/\\d{2}/\\d{2})/', 1) AS "timestamp"
    FROM (SELECT unnest(Records) AS r, filename
          FROM read_json('${glob}', format = 'unstructured', filename = true, columns = {Records: '${RECORD}[]'}))`)
  const reader = await connection.runAndReadAll('SELECT count(*)::BIGINT FROM logs.trail')
  return Number(reader.getRows()[0]?.[0] ?? 0)
}

async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; value: T }> {
  const start = performance.now()
  const value = await fn()
  return { seconds: (performance.now() - start) / 1000, value }
}

async function main(): Promise<void> {
  const roundsAt = process.argv.indexOf('--rounds')
  const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 3
  const set = DATASETS.find(s => s.name === 'organization-1m')
  if (!set) throw new Error('no organization-1m dataset')
  const dir = build(set)
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const events = await load(connection, dir)
  const roles = (
    await connection.runAndReadAll(
      "SELECT DISTINCT useridentity.sessioncontext.sessionissuer.arn FROM logs.trail WHERE useridentity.sessioncontext.sessionissuer.arn LIKE '%:role/%'"
    )
  )
    .getRows()
    .map(row => String(row[0]))
  const accounts = new Set(roles.map(arn => arn.split(':')[4]))
  const since = new Date(Date.UTC(2026, 9, 1))
  const until = new Date(Date.UTC(2026, 9, 31))
  const sql = trinoToDuckDb(
    aggregateQuerySql({
      table: { database: 'logs', table: 'trail' },
      roleArns: roles,
      regions: [],
      since,
      until,
      maxResources: 1000
    })
  )
  const baselineSql = `SELECT count(*) FROM logs.trail WHERE account IN (${[...accounts].map(a => `'${a}'`).join(', ')})`
  const query: number[] = []
  const baseline: number[] = []
  let rows = 0
  for (let i = 0; i < rounds; i++) {
    baseline.push((await timed(() => connection.runAndReadAll(baselineSql))).seconds)
    const run = await timed(() => connection.runAndReadAll(sql))
    query.push(run.seconds)
    rows = run.value.currentRowCount
  }
  const best = (xs: number[]) => Math.min(...xs)
  console.log(
    `${set.name}: ${events.toLocaleString('en-US')} events, ${roles.length} roles in ${accounts.size} accounts`
  )
  console.log(
    `  rows returned: ${rows.toLocaleString('en-US')} (${((rows / events) * 100).toFixed(2)}% of the events)`
  )
  console.log(
    `  baseline (count): ${best(baseline).toFixed(2)} s  (${baseline.map(s => s.toFixed(2)).join(', ')})`
  )
  console.log(
    `  aggregating query: ${best(query).toFixed(2)} s  (${query.map(s => s.toFixed(2)).join(', ')})`
  )
  console.log(`  query/baseline: ${(best(query) / best(baseline)).toFixed(1)}`)
  connection.closeSync()
}

await main()
