/**
 * The Athena aggregating query, executed by a real SQL engine (DuckDB) over the shared sample records in the CloudTrail
 * table's shape, gives exactly the usage the local engine gives on the same records.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { DuckDBInstance } from '@duckdb/node-api'
import type { DuckDBConnection } from '@duckdb/node-api'
import type { RoleUsage } from '../../src/model.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'
import { aggregateQuerySql } from '../../src/usage/athena/query.js'
import type { AggregateQuery } from '../../src/usage/athena/query.js'
import { aggregateRows, athenaRoleUsage } from '../../src/usage/athena/rows.js'
import type { ResultRow } from '../../src/usage/athena/rows.js'
import { createCloudTrailTable, resultText, trinoToDuckDb } from '../support/cloudtrail-table.js'
import { DATA, issuerOf, jsonFiles, recordsOf, tempDir } from '../cloudtrail/trail-fixtures.js'
import type { TrailRecord } from '../cloudtrail/trail-fixtures.js'

const catalog = loadCatalog()
const MAX_RESOURCES = 1000
let connection: DuckDBConnection
let records: TrailRecord[]

/** The query's rows from `table`, of any time unless `since` and `until` say otherwise; no Region filter by default. */
async function run(
  query: Pick<AggregateQuery, 'roleArns'> & Partial<Pick<AggregateQuery, 'regions' | 'since' | 'until'>>,
  table = 'trail'
): Promise<ResultRow[]> {
  const sql = aggregateQuerySql({
    regions: [],
    since: new Date('2000-01-01'),
    until: new Date('2100-01-01'),
    ...query,
    table: { database: 'logs', table },
    maxResources: MAX_RESOURCES
  })
  const reader = await connection.runAndReadAll(trinoToDuckDb(sql))
  // As Athena returns them: every value as text, NULL as absent.
  return reader.getRowObjectsJson().map(row => {
    const out: ResultRow = {}
    for (const [k, v] of Object.entries(row)) {
      const text = resultText(v)
      if (text !== null) Object.assign(out, { [k]: text })
    }
    return out
  })
}

function athenaUsage(rows: ResultRow[], roleArns: string[]): Map<string, RoleUsage> {
  const aggregated = aggregateRows(rows, roleArns, MAX_RESOURCES)
  const { firstTime, lastTime } = aggregated.facts
  const window =
    firstTime === null || lastTime === null
      ? { start: '', end: '' }
      : { start: new Date(firstTime).toISOString(), end: new Date(lastTime).toISOString() }
  return new Map(
    roleArns.map(arn => [
      arn,
      athenaRoleUsage(arn, aggregated, catalog, { window, maxResources: MAX_RESOURCES, notes: [] })
    ])
  )
}

/** What both sources must agree on: everything but where the records were read from. */
function judged(usage: RoleUsage, sharedNotes: readonly string[]): unknown {
  const { filesRead: _read, filesSkipped: _skipped, notes, ...evidence } = usage.evidence
  return {
    window: usage.window,
    complete: usage.complete,
    actions: usage.actions,
    serviceLevelOnly: usage.serviceLevelOnly,
    evidence: { ...evidence, notes: notes.filter(n => !sharedNotes.includes(n)) }
  }
}

function expectSameJudgement(local: CloudTrailScan, athena: Map<string, RoleUsage>): void {
  expect(athena.size).toBe(local.roles.size)
  for (const [arn, usage] of local.roles) {
    const fromAthena = athena.get(arn)
    expect(fromAthena?.source).toBe('athena')
    if (!fromAthena) continue
    expect(judged(fromAthena, [])).toEqual(judged(usage, local.notes))
  }
}

function roleOf(r: TrailRecord): string | undefined {
  const arn = issuerOf(r)
  return arn.includes(':role/') ? arn : undefined
}

/**
 * The local engine over the records of the roles' accounts only: an organization trail's table is partitioned by
 * account, and the query reads the partitions of the selected roles' accounts (their calls are logged there).
 */
async function scanRoleAccounts(window: { since?: Date; until?: Date } = {}): Promise<CloudTrailScan> {
  const accounts = new Set(
    records
      .map(roleOf)
      .map(arn => arn?.split(':')[4])
      .filter(Boolean)
  )
  const dir = tempDir()
  try {
    dir.write(
      'AWSLogs/records.json',
      JSON.stringify({ Records: records.filter(r => accounts.has(String(r.recipientAccountId))) })
    )
    return await scanCloudTrail({ path: dir.dir, workers: 0, ...window })
  } finally {
    dir.remove()
  }
}

beforeAll(async () => {
  const instance = await DuckDBInstance.create(':memory:')
  connection = await instance.connect()
  records = jsonFiles(DATA).flatMap(recordsOf)
  await createCloudTrailTable(connection, 'logs', 'trail', records)
})

afterAll(() => {
  connection.closeSync()
})

describe('the aggregating query in a real SQL engine', () => {
  it('gives every role and IAM user exactly the usage the local engine gives on the same records', async () => {
    const local = await scanRoleAccounts()
    const roles = [...local.roles.keys()]
    expect(roles.length).toBeGreaterThan(10)
    // IAM users' own calls (userIdentity.type IAMUser) are attributed by both.
    expect(roles).toContain('arn:aws:iam::123837392027:user/bert-jan')
    const rows = await run({ roleArns: roles })
    const usage = athenaUsage(rows, roles)
    expectSameJudgement(local, usage)
    // The sample holds authorized, denied and permissionless calls: every class is compared.
    const all = [...usage.values()]
    expect(all.some(u => (u.evidence.deniedCalls ?? 0) > 0)).toBe(true)
    expect(all.some(u => (u.evidence.permissionlessCalls ?? 0) > 0)).toBe(true)
    expect(all.some(u => (u.evidence.managementEventsSeen ?? []).includes('read'))).toBe(true)
    expect(all.some(u => u.actions.some(a => a.resources[0] !== '*'))).toBe(true)
    // First and last seen per action, compared above to the second: every used action is dated.
    expect(all.every(u => u.actions.every(a => a.firstSeen && a.lastSeen))).toBe(true)
    // The result is small: one row per entry and resource, whatever the number of events.
    expect(rows.length).toBeLessThan(records.length)
  })

  it('agrees inside a narrower window, to the second', async () => {
    const since = new Date('2023-07-10T12:05:00Z')
    const until = new Date('2023-07-10T12:20:30.500Z')
    const local = await scanRoleAccounts({ since, until })
    const roles = [...local.roles.keys()]
    expect(roles.length).toBeGreaterThan(0)
    const rows = await run({ roleArns: roles, since, until })
    expectSameJudgement(local, athenaUsage(rows, roles))
  })

  it('returns only the selected roles, matched with or without their path', async () => {
    const local = await scanCloudTrail({ path: DATA, workers: 0 })
    const [first, second] = [...local.roles.keys()]
    expect(first && second).toBeTruthy()
    const rows = await run({ roleArns: [first ?? ''] })
    const named = new Set(
      rows
        .map(r => r.role_arn)
        .filter(Boolean)
        .map(a => a?.toLowerCase())
    )
    expect(named.size).toBeGreaterThan(0)
    expect(named.has(second?.toLowerCase())).toBe(false)
  })

  it('prunes to the accounts of the selected roles and the Regions asked for', async () => {
    const local = await scanCloudTrail({ path: DATA, workers: 0 })
    const roles = [...local.roles.keys()]
    const rows = await run({ roleArns: roles, regions: ['ap-south-2'] })
    expect(rows.filter(r => r.role_arn !== undefined)).toEqual([])
  })

  it('collapses an entry past the resource cap to * exactly as the local engine does', async () => {
    const template = records.find(r => roleOf(r) !== undefined && !r.errorCode)
    expect(template).toBeDefined()
    const many: TrailRecord[] = []
    for (let i = 0; i < MAX_RESOURCES + 5; i++) {
      const r = JSON.parse(JSON.stringify(template)) as TrailRecord
      Object.assign(r, {
        eventSource: 's3.amazonaws.com',
        eventName: 'PutObject',
        eventCategory: 'Data',
        requestParameters: { bucketName: 'bucket-a', key: `object-${i}` },
        resources: []
      })
      many.push(r)
    }
    // Plus a second entry that stays under the cap.
    const few = many.slice(0, 3).map(r => ({ ...r, eventName: 'HeadObject' }))
    const dir = tempDir()
    try {
      dir.write('AWSLogs/many.json', JSON.stringify({ Records: [...many, ...few] }))
      await createCloudTrailTable(connection, 'logs', 'capped', [...many, ...few])
      const local = await scanCloudTrail({ path: dir.dir, workers: 0 })
      const roles = [...local.roles.keys()]
      const rows = await run({ roleArns: roles }, 'capped')
      expectSameJudgement(local, athenaUsage(rows, roles))
      const usage = local.roles.get(roles[0] ?? '')
      expect(
        usage?.actions.find(a => a.action === 's3:PutObject' || a.action === 's3:GetObject')?.resources
      ).toBeDefined()
      expect(
        usage?.evidence.notes.some(n => n.startsWith(`more than ${MAX_RESOURCES} distinct resources`))
      ).toBe(true)
      expect(usage?.evidence.dataEventsSeen).toEqual(['s3'])
      // The capped entry's resources are counted, not listed: the result stays small.
      expect(rows.length).toBeLessThan(20)
    } finally {
      dir.remove()
    }
  })
})

describe('many roles', () => {
  it("stays under Athena's query size with thousands of roles, and still answers only for the selected ones", async () => {
    const local = await scanRoleAccounts()
    const seen = [...local.roles.keys()]
    const padding = Array.from(
      { length: 4000 },
      (_, i) => `arn:aws:iam::123837392027:role/some/rather/long/path/for/padding/role-number-${i}`
    )
    const roles = [...seen, ...padding]
    const sql = aggregateQuerySql({
      roleArns: roles,
      regions: [],
      since: new Date('2000-01-01'),
      until: new Date('2100-01-01'),
      table: { database: 'logs', table: 'trail' },
      maxResources: MAX_RESOURCES
    })
    expect(Buffer.byteLength(sql)).toBeLessThan(262_144)
    const rows = await run({ roleArns: roles })
    const usage = athenaUsage(rows, roles)
    for (const arn of seen)
      expect(judged(usage.get(arn) as RoleUsage, [])).toEqual(
        judged(local.roles.get(arn) as RoleUsage, local.notes)
      )
    expect(usage.get(padding[0] ?? '')?.evidence.eventsMatched).toBe(0)
  })
})

describe('hostile values in the query', () => {
  it('keeps a role path with quotes and SQL inside its literal', async () => {
    const hostile = "arn:aws:iam::123456789012:role/x'/)OR(1=1)--/Name"
    const rows = await run({ roleArns: [hostile] })
    expect(rows.filter(r => r.role_arn !== undefined)).toEqual([])
    expect(
      aggregateQuerySql({
        roleArns: [hostile],
        regions: [],
        since: new Date(0),
        until: new Date(1),
        table: { database: 'd', table: 't' },
        maxResources: 1
      })
    ).toContain("role/x''/)or(1=1)--/name")
  })

  it.each([
    [{ database: 'logs"; DROP TABLE trail; --', table: 't' }, /athena-table: .* is not a valid name/],
    [{ database: 'logs', table: 't', catalog: 'a"b' }, /athena-catalog: .* is not a valid name/]
  ])('refuses a table name that is not a name: %j', (table, message) => {
    expect(() =>
      aggregateQuerySql({
        roleArns: ['arn:aws:iam::123456789012:role/r'],
        regions: [],
        since: new Date(0),
        until: new Date(1),
        table,
        maxResources: 1
      })
    ).toThrow(message)
  })

  it('refuses a principal that is not a role or user ARN, and a Region that is not a Region', () => {
    const base = {
      regions: [],
      since: new Date(0),
      until: new Date(1),
      table: { database: 'd', table: 't' },
      maxResources: 1
    }
    expect(() => aggregateQuerySql({ ...base, roleArns: ["x' OR 1=1 --"] })).toThrow(/not a role or user ARN/)
    expect(() =>
      aggregateQuerySql({
        ...base,
        roleArns: ['arn:aws:iam::123456789012:role/r'],
        regions: ["us-east-1' OR '1"]
      })
    ).toThrow(/not a Region/)
  })
})
