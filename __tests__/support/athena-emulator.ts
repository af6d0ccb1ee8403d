/**
 * A local Amazon Athena for tests and benchmarks: an HTTP server (127.0.0.1, port 0) that real `@aws-sdk/client-athena`
 * clients reach through `AWS_ENDPOINT_URL_ATHENA` (or the `endpoint` option). It speaks awsJson1_1 as Athena does:
 * POST / with `X-Amz-Target: AmazonAthena.<Operation>` and `Content-Type: application/x-amz-json-1.1`, epoch-second
 * timestamps, `__type` errors (InvalidRequestException with an AthenaErrorCode). Queries go QUEUED, RUNNING, then
 * SUCCEEDED, FAILED or CANCELLED over successive GetQueryExecution calls, with statistics that grow while running;
 * GetQueryResults pages with NextToken and puts the header row first. The SQL is executed by DuckDB over tables
 * loaded in the CloudTrail table's shape; CREATE EXTERNAL TABLE creates the table it declares (empty).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { DuckDBInstance } from '@duckdb/node-api'
import type { DuckDBConnection } from '@duckdb/node-api'
import { cloudTrailRow, createCloudTrailTable, resultText, trinoToDuckDb } from './cloudtrail-table.js'
import { LocalServer, readText } from './local-server.js'

export interface EmulatedWorkgroup {
  name: string
  state?: 'ENABLED' | 'DISABLED'
  outputLocation?: string
  enforce?: boolean
  /** The workgroup's data usage control: a query past it is cancelled by Athena. */
  bytesScannedCutoffPerQuery?: number
}

interface Execution {
  id: string
  sql: string
  workgroup: string
  outputLocation: string
  statementType: 'DDL' | 'DML'
  state: 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED'
  reason?: string
  polls: number
  submitted: number
  completed?: number
  /** What the finished query scanned. */
  bytes: number
  scanned: number
  result?: { columns: string[]; types: string[]; rows: (string | null)[][] }
  error?: string
}

export interface AthenaEmulatorOptions {
  /** GetQueryExecution polls a query stays RUNNING (after one QUEUED poll); default 1. */
  runningPolls?: number
  /** Bytes a query scans; default: the JSON size of the rows of every table it names. */
  bytesScanned?: (sql: string) => number
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly athenaErrorCode?: string
  ) {
    super(message)
  }
}

type Params = Record<string, unknown>

function str(params: Params, name: string): string {
  const value = params[name]
  if (typeof value !== 'string' || value === '')
    throw new HttpError(400, 'InvalidRequestException', `${name} is required`, 'INVALID_INPUT')
  return value
}

/** Hive DDL types as DuckDB types: STRING, STRUCT<a: T>, ARRAY<T>, MAP<K,V>. */
function duckType(hive: string): string {
  let out = ''
  const stack: string[] = []
  const tokens = hive.match(/[A-Za-z_][\w]*|[<>,:]|`[^`]*`/g) ?? []
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] ?? ''
    const next = tokens[i + 1]
    const upper = t.toUpperCase()
    if (next === '<' && (upper === 'STRUCT' || upper === 'ARRAY' || upper === 'MAP')) {
      stack.push(upper)
      out += upper === 'STRUCT' ? 'STRUCT(' : upper === 'MAP' ? 'MAP(' : ''
      i++
    } else if (t === '>') {
      const kind = stack.pop()
      out += kind === 'ARRAY' ? '[]' : ')'
    } else if (t === ':') out += ' '
    else if (t === ',') out += ', '
    else if (upper === 'STRING') out += 'VARCHAR'
    else if (stack.at(-1) === 'STRUCT' && next === ':') out += `"${t.replaceAll('`', '').toLowerCase()}"`
    else out += upper
  }
  return out
}

/** Splits `a TYPE, b STRUCT<x: T, y: T>` at the commas outside angle brackets. */
function topLevel(list: string): string[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const c of list) {
    if (c === '<') depth++
    if (c === '>') depth--
    if (c === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += c
  }
  if (current.trim()) parts.push(current)
  return parts.map(p => p.trim())
}

function columnsOf(list: string): [string, string][] {
  return topLevel(list).map(column => {
    const m = /^`?(\w+)`?\s+([\s\S]+)$/.exec(column)
    if (!m) throw new Error(`cannot read the column definition "${column}"`)
    return [(m[1] ?? '').toLowerCase(), duckType(m[2] ?? '')]
  })
}

export class AthenaEmulator {
  readonly workgroups = new Map<string, EmulatedWorkgroup>([
    ['primary', { name: 'primary', outputLocation: 's3://athena-results-emulated/primary/' }]
  ])
  readonly executions = new Map<string, Execution>()
  readonly requests: { operation: string; status: number; params: Params }[] = []
  /** Tables created by CREATE EXTERNAL TABLE: their LOCATION and TBLPROPERTIES. */
  readonly createdTables = new Map<string, { location: string; properties: Record<string, string> }>()
  /** Injected failures: the next query whose SQL matches ends FAILED with this reason. */
  readonly failures: { match: RegExp; reason: string }[] = []
  /** Queries whose SQL matches stay RUNNING until stopped. */
  readonly stuck: RegExp[] = []
  private readonly tableBytes = new Map<string, number>()
  private readonly http = new LocalServer()
  private connection?: DuckDBConnection

  constructor(private readonly options: AthenaEmulatorOptions = {}) {}

  async start(): Promise<{ url: string }> {
    const instance = await DuckDBInstance.create(':memory:')
    this.connection = await instance.connect()
    const url = await this.http.start(
      (req, res) => this.handle(req, res),
      (res, error) => {
        res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' })
        res.end(JSON.stringify({ __type: 'InternalServerException', Message: String(error) }))
      }
    )
    return { url }
  }

  async stop(): Promise<void> {
    await this.http.stop()
    this.connection?.closeSync()
  }

  /** Loads CloudTrail records into `database.table` in the shape of the CloudTrail SerDe table. */
  async loadCloudTrail(
    database: string,
    table: string,
    records: readonly Record<string, unknown>[]
  ): Promise<void> {
    await createCloudTrailTable(this.db(), database, table, records)
    let bytes = 0
    for (const r of records) bytes += JSON.stringify(cloudTrailRow(r) ?? {}).length
    this.tableBytes.set(`${database}.${table}`.toLowerCase(), bytes)
  }

  count(operation: string): number {
    return this.requests.filter(r => r.operation === operation).length
  }

  private db(): DuckDBConnection {
    if (!this.connection) throw new Error('athena emulator not started')
    return this.connection
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readText(req)
    const operation =
      /^AmazonAthena\.(\w+)$/.exec(String(req.headers['x-amz-target'] ?? ''))?.[1] ?? 'Unknown'
    let params: Params = {}
    const send = (status: number, payload: unknown): void => {
      this.requests.push({ operation, status, params })
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID()
      })
      res.end(JSON.stringify(payload))
    }
    try {
      const auth = req.headers.authorization ?? ''
      if (!auth.startsWith('AWS4-HMAC-SHA256 Credential=') || !auth.includes('/athena/aws4_request'))
        throw new HttpError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1')
        throw new HttpError(400, 'SerializationException', 'expected Content-Type application/x-amz-json-1.1')
      params = JSON.parse(body || '{}') as Params
      send(200, await this.operation(operation, params))
    } catch (error) {
      const e =
        error instanceof HttpError ? error : new HttpError(500, 'InternalServerException', String(error))
      send(e.status, {
        __type: e.code,
        Message: e.message,
        ...(e.athenaErrorCode ? { AthenaErrorCode: e.athenaErrorCode } : {})
      })
    }
  }

  private async operation(operation: string, params: Params): Promise<unknown> {
    switch (operation) {
      case 'GetWorkGroup':
        return { WorkGroup: this.workgroupJson(this.workgroup(str(params, 'WorkGroup'))) }
      case 'StartQueryExecution':
        return { QueryExecutionId: await this.startQuery(params) }
      case 'GetQueryExecution':
        return { QueryExecution: this.poll(this.execution(str(params, 'QueryExecutionId'))) }
      case 'GetQueryResults':
        return this.results(params)
      case 'StopQueryExecution': {
        const execution = this.execution(str(params, 'QueryExecutionId'))
        if (execution.state === 'QUEUED' || execution.state === 'RUNNING') {
          execution.state = 'CANCELLED'
          execution.reason = 'Query was cancelled by the user'
          execution.completed = Date.now()
        }
        return {}
      }
      default:
        throw new HttpError(400, 'UnknownOperationException', `Unknown operation ${operation}`)
    }
  }

  private workgroup(name: string): EmulatedWorkgroup {
    const group = this.workgroups.get(name)
    if (!group)
      throw new HttpError(400, 'InvalidRequestException', `WorkGroup ${name} is not found.`, 'INVALID_INPUT')
    return group
  }

  private workgroupJson(group: EmulatedWorkgroup): unknown {
    return {
      Name: group.name,
      State: group.state ?? 'ENABLED',
      Configuration: {
        ...(group.outputLocation ? { ResultConfiguration: { OutputLocation: group.outputLocation } } : {}),
        EnforceWorkGroupConfiguration: group.enforce ?? false,
        PublishCloudWatchMetricsEnabled: false,
        ...(group.bytesScannedCutoffPerQuery !== undefined
          ? { BytesScannedCutoffPerQuery: group.bytesScannedCutoffPerQuery }
          : {}),
        EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' }
      },
      CreationTime: 1700000000
    }
  }

  private execution(id: string): Execution {
    const execution = this.executions.get(id)
    if (!execution)
      throw new HttpError(
        400,
        'InvalidRequestException',
        `QUERY_NOT_FOUND: Query id ${id} not found`,
        'INVALID_INPUT'
      )
    return execution
  }

  private async startQuery(params: Params): Promise<string> {
    const sql = str(params, 'QueryString')
    const group = this.workgroup(typeof params.WorkGroup === 'string' ? params.WorkGroup : 'primary')
    if (group.state === 'DISABLED')
      throw new HttpError(
        400,
        'InvalidRequestException',
        `WorkGroup ${group.name} is disabled.`,
        'INVALID_INPUT'
      )
    const asked = (params.ResultConfiguration as { OutputLocation?: string } | undefined)?.OutputLocation
    const outputLocation = group.enforce ? group.outputLocation : (asked ?? group.outputLocation)
    if (!outputLocation) {
      throw new HttpError(
        400,
        'InvalidRequestException',
        'No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input.',
        'INVALID_INPUT'
      )
    }
    const id = randomUUID()
    const ddl = /^\s*CREATE\s+EXTERNAL\s+TABLE/i.test(sql)
    const execution: Execution = {
      id,
      sql,
      workgroup: group.name,
      outputLocation: `${outputLocation.replace(/\/?$/, '/')}${id}${ddl ? '.txt' : '.csv'}`,
      statementType: ddl ? 'DDL' : 'DML',
      state: 'QUEUED',
      polls: 0,
      submitted: Date.now(),
      bytes: 0,
      scanned: 0
    }
    this.executions.set(id, execution)
    try {
      if (ddl) await this.createTable(sql)
      else execution.result = await this.select(sql)
      execution.bytes = this.options.bytesScanned?.(sql) ?? (ddl ? 0 : this.bytesOf(sql))
    } catch (error) {
      execution.error = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? 'failed'
    }
    const failure = this.failures.findIndex(f => f.match.test(sql))
    const injected = failure >= 0 ? this.failures.splice(failure, 1)[0] : undefined
    if (injected) execution.error = injected.reason
    return id
  }

  private bytesOf(sql: string): number {
    let bytes = 0
    for (const [name, size] of this.tableBytes) {
      const [database, table] = name.split('.')
      if (sql.toLowerCase().includes(`"${database}"."${table}"`)) bytes += size
    }
    return bytes
  }

  /** Moves the query one step along its lifecycle; statistics grow while it runs. */
  private poll(execution: Execution): unknown {
    const running = this.options.runningPolls ?? 1
    if (execution.state === 'QUEUED' || execution.state === 'RUNNING') {
      execution.polls++
      const cutoff = this.workgroups.get(execution.workgroup)?.bytesScannedCutoffPerQuery
      const stuck = this.stuck.some(s => s.test(execution.sql))
      if (execution.polls === 1) execution.state = 'QUEUED'
      else {
        execution.state = 'RUNNING'
        const progress = stuck ? 1 - 1 / execution.polls : Math.min(1, (execution.polls - 1) / (running + 1))
        execution.scanned = Math.round(execution.bytes * progress)
      }
      if (cutoff !== undefined && execution.scanned > cutoff) {
        execution.state = 'CANCELLED'
        execution.reason = 'Query cancelled: bytes scanned limit of the workgroup was exceeded'
        execution.completed = Date.now()
      } else if (!stuck && execution.polls > running + 1) {
        execution.scanned = execution.bytes
        execution.state = execution.error === undefined ? 'SUCCEEDED' : 'FAILED'
        if (execution.error !== undefined) execution.reason = execution.error
        execution.completed = Date.now()
      }
    }
    const seconds = (ms: number) => ms / 1000
    return {
      QueryExecutionId: execution.id,
      Query: execution.sql,
      StatementType: execution.statementType,
      WorkGroup: execution.workgroup,
      ResultConfiguration: { OutputLocation: execution.outputLocation },
      Status: {
        State: execution.state,
        ...(execution.reason ? { StateChangeReason: execution.reason } : {}),
        SubmissionDateTime: seconds(execution.submitted),
        ...(execution.completed ? { CompletionDateTime: seconds(execution.completed) } : {}),
        ...(execution.state === 'FAILED'
          ? {
              AthenaError: {
                ErrorCategory: 2,
                ErrorType: 1006,
                Retryable: false,
                ErrorMessage: execution.reason
              }
            }
          : {})
      },
      Statistics: {
        DataScannedInBytes: execution.scanned,
        EngineExecutionTimeInMillis: execution.polls * 100,
        TotalExecutionTimeInMillis: execution.polls * 120
      },
      EngineVersion: { SelectedEngineVersion: 'AUTO', EffectiveEngineVersion: 'Athena engine version 3' }
    }
  }

  private results(params: Params): unknown {
    const execution = this.execution(str(params, 'QueryExecutionId'))
    if (execution.state !== 'SUCCEEDED') {
      throw new HttpError(
        400,
        'InvalidRequestException',
        `Query has not yet finished. Current state: ${execution.state}`,
        'INVALID_INPUT'
      )
    }
    const max = typeof params.MaxResults === 'number' ? params.MaxResults : 1000
    if (max < 1 || max > 1000)
      throw new HttpError(
        400,
        'InvalidRequestException',
        'MaxResults must be between 1 and 1000',
        'INVALID_INPUT'
      )
    const result = execution.result ?? { columns: [], types: [], rows: [] }
    // The header row is row 0 of a SELECT's result; DDL has neither header nor rows.
    const all: (string | null)[][] = execution.statementType === 'DML' ? [result.columns, ...result.rows] : []
    const offset =
      typeof params.NextToken === 'string' ? Number(Buffer.from(params.NextToken, 'base64url').toString()) : 0
    if (!Number.isInteger(offset) || offset < 0 || offset > all.length)
      throw new HttpError(400, 'InvalidRequestException', 'Invalid NextToken', 'INVALID_INPUT')
    const page = all.slice(offset, offset + max)
    const next =
      offset + max < all.length ? Buffer.from(String(offset + max)).toString('base64url') : undefined
    return {
      UpdateCount: 0,
      ResultSet: {
        Rows: page.map(row => ({ Data: row.map(v => (v === null ? {} : { VarCharValue: v })) })),
        ResultSetMetadata: {
          ColumnInfo: result.columns.map((name, i) => ({
            CatalogName: 'hive',
            SchemaName: '',
            TableName: '',
            Name: name,
            Label: name,
            Type: result.types[i] ?? 'varchar',
            Precision: 0,
            Scale: 0,
            Nullable: 'UNKNOWN',
            CaseSensitive: true
          }))
        }
      },
      ...(next ? { NextToken: next } : {})
    }
  }

  private async select(
    sql: string
  ): Promise<{ columns: string[]; types: string[]; rows: (string | null)[][] }> {
    const reader = await this.db().runAndReadAll(trinoToDuckDb(sql.replace(/"AwsDataCatalog"\./g, '')))
    const columns = reader.columnNames()
    const types = reader.columnTypes().map(t => {
      const name = t.toString().toLowerCase()
      return name === 'bigint' || name === 'hugeint' ? 'bigint' : name
    })
    const rows = reader.getRowsJson().map(row => row.map(resultText))
    return { columns, types, rows }
  }

  private async createTable(sql: string): Promise<void> {
    const m =
      /^\s*CREATE\s+EXTERNAL\s+TABLE\s+IF\s+NOT\s+EXISTS\s+`(\w+)`\.`(\w+)`\s*\(([\s\S]*?)\)\s*PARTITIONED\s+BY\s*\(([\s\S]*?)\)\s*ROW\s+FORMAT\s+SERDE\s+'([^']+)'[\s\S]*?LOCATION\s+'([^']+)'\s*TBLPROPERTIES\s*\(([\s\S]*)\)\s*$/i.exec(
        sql
      )
    if (!m)
      throw new Error(
        'FAILED: ParseException: the emulator reads only CREATE EXTERNAL TABLE IF NOT EXISTS ... TBLPROPERTIES'
      )
    const [
      ,
      database = '',
      table = '',
      columns = '',
      partitions = '',
      serde = '',
      location = '',
      props = ''
    ] = m
    if (serde !== 'org.apache.hive.hcatalog.data.JsonSerDe') throw new Error(`unexpected SerDe ${serde}`)
    const properties: Record<string, string> = {}
    for (const p of props.matchAll(/'([^']+)'\s*=\s*'([^']*)'/g)) properties[p[1] ?? ''] = p[2] ?? ''
    const definition = [...columnsOf(columns), ...columnsOf(partitions)]
      .map(([name, type]) => `"${name}" ${type}`)
      .join(', ')
    await this.db().run(`CREATE SCHEMA IF NOT EXISTS "${database}"`)
    await this.db().run(`CREATE TABLE IF NOT EXISTS "${database}"."${table}" (${definition})`)
    this.createdTables.set(`${database}.${table}`, { location, properties })
  }
}
