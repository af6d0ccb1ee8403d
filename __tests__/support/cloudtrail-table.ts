/**
 * CloudTrail records as Athena's CloudTrail table holds them, in DuckDB: the columns of the CloudTrail SerDe table
 * (struct columns, the `resources` array, nested JSON kept as text in STRING columns, booleans read as 'true'/'false')
 * and the partition columns of the organization trail's layout (account, region, timestamp = yyyy/MM/dd).
 *
 * The aggregating query is Trino SQL; DuckDB runs it once the few functions the two name differently are renamed
 * (trinoToDuckDb: the one place the dialects differ).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'

type Json = Record<string, unknown>

const ISSUER = 'STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, username VARCHAR)'

/** The table's columns as DuckDB types, in the order of the CloudTrail SerDe table, partitions last. */
export const CLOUDTRAIL_COLUMNS: Readonly<Record<string, string>> = {
  eventversion: 'VARCHAR',
  useridentity:
    'STRUCT(type VARCHAR, principalid VARCHAR, arn VARCHAR, accountid VARCHAR, invokedby VARCHAR, ' +
    `accesskeyid VARCHAR, username VARCHAR, sessioncontext STRUCT(attributes STRUCT(mfaauthenticated VARCHAR, creationdate VARCHAR), sessionissuer ${ISSUER}))`,
  eventtime: 'VARCHAR',
  eventsource: 'VARCHAR',
  eventname: 'VARCHAR',
  awsregion: 'VARCHAR',
  sourceipaddress: 'VARCHAR',
  useragent: 'VARCHAR',
  errorcode: 'VARCHAR',
  errormessage: 'VARCHAR',
  requestparameters: 'VARCHAR',
  responseelements: 'VARCHAR',
  additionaleventdata: 'VARCHAR',
  requestid: 'VARCHAR',
  eventid: 'VARCHAR',
  readonly: 'VARCHAR',
  resources: 'STRUCT(arn VARCHAR, accountid VARCHAR, type VARCHAR)[]',
  eventtype: 'VARCHAR',
  recipientaccountid: 'VARCHAR',
  eventcategory: 'VARCHAR',
  account: 'VARCHAR',
  region: 'VARCHAR',
  timestamp: 'VARCHAR'
}

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

/** A value read into a STRING column: scalars as their text, objects and arrays as their JSON (as the SerDe does). */
function asString(v: unknown): string | null {
  if (v === undefined || v === null) return null
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

/** Keys lower-cased (the SerDe matches fields regardless of case), values of STRING fields as text. */
function struct(v: unknown, fields: Record<string, (x: unknown) => unknown>): Json | null {
  if (!isObject(v)) return null
  const lower = new Map(Object.entries(v).map(([k, x]) => [k.toLowerCase(), x]))
  const out: Json = {}
  for (const [name, read] of Object.entries(fields)) out[name] = read(lower.get(name))
  return out
}

const strings = (...names: string[]) => Object.fromEntries(names.map(n => [n, asString]))

/** One CloudTrail record as a row of the table; undefined for what the SerDe would not read as an event. */
export function cloudTrailRow(record: Json): Json | undefined {
  const r = new Map(Object.entries(record).map(([k, v]) => [k.toLowerCase(), v]))
  const eventTime = asString(r.get('eventtime'))
  const row: Json = {}
  for (const name of Object.keys(CLOUDTRAIL_COLUMNS)) row[name] = asString(r.get(name))
  row.useridentity = struct(r.get('useridentity'), {
    ...strings('type', 'principalid', 'arn', 'accountid', 'invokedby', 'accesskeyid', 'username'),
    sessioncontext: x =>
      struct(x, {
        attributes: y => struct(y, strings('mfaauthenticated', 'creationdate')),
        sessionissuer: y => struct(y, strings('type', 'principalid', 'arn', 'accountid', 'username'))
      })
  })
  const resources = r.get('resources')
  row.resources = Array.isArray(resources)
    ? resources.map(x => struct(x, strings('arn', 'accountid', 'type')))
    : null
  // The partitions are the folders the record was delivered to: AWSLogs/<org>/<account>/CloudTrail/<region>/<day>.
  const account =
    asString(r.get('recipientaccountid')) ??
    asString(isObject(r.get('useridentity')) ? (r.get('useridentity') as Json).accountId : null)
  row.account = account
  row.region = asString(r.get('awsregion'))
  row.timestamp =
    eventTime && /^\d{4}-\d{2}-\d{2}/.test(eventTime) ? eventTime.slice(0, 10).replaceAll('-', '/') : null
  return row
}

/** Creates `database.table` in DuckDB holding `records` in the CloudTrail table's shape. */
export async function createCloudTrailTable(
  connection: DuckDBConnection,
  database: string,
  table: string,
  records: readonly Json[]
): Promise<void> {
  const columns = Object.entries(CLOUDTRAIL_COLUMNS)
    .map(([name, type]) => `"${name}" ${type}`)
    .join(', ')
  await connection.run(`CREATE SCHEMA IF NOT EXISTS "${database}"`)
  await connection.run(`CREATE TABLE "${database}"."${table}" (${columns})`)
  if (records.length === 0) return
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-table-'))
  try {
    const file = path.join(dir, 'rows.json')
    const rows: string[] = []
    for (const record of records) {
      const row = cloudTrailRow(record)
      if (row) rows.push(JSON.stringify(row))
    }
    writeFileSync(file, rows.join('\n'))
    const spec = Object.entries(CLOUDTRAIL_COLUMNS)
      .map(([name, type]) => `"${name}": '${type}'`)
      .join(', ')
    await connection.run(
      `INSERT INTO "${database}"."${table}" SELECT * FROM read_json('${file.replaceAll("'", "''")}', format = 'newline_delimited', columns = {${spec}})`
    )
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A result value as Athena's GetQueryResults writes it: text (booleans as true/false), NULL as null. */
export function resultText(value: unknown): string | null {
  if (value === null || value === undefined) return null
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  return JSON.stringify(value)
}

/** Trino functions DuckDB knows by another name (same arguments, same results on these inputs). */
const RENAMED_FUNCTIONS: Readonly<Record<string, string>> = {
  regexp_like: 'regexp_matches',
  json_extract_scalar: 'json_extract_string',
  transform: 'list_transform',
  cardinality: 'len'
}

/** The Trino query as DuckDB runs it. */
export function trinoToDuckDb(sql: string): string {
  return sql.replace(/\b(regexp_like|json_extract_scalar|transform|cardinality)\(/g, (_, name: string) => {
    return `${RENAMED_FUNCTIONS[name] ?? name}(`
  })
}
