/**
 * source: athena through real @aws-sdk/client-athena clients and the Athena emulator (which runs the SQL in DuckDB):
 * the usage, its cost in the evidence, paginated results, and every way a query can end early.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { buildCliConfig } from '../../src/config.js'
import type { CliConfig } from '../../src/config.js'
import { createAwsSession } from '../../src/aws/session.js'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleUsage } from '../../src/model.js'
import { athenaSource } from '../../src/usage/athena-source.js'
import { createTableSql } from '../../src/usage/athena/table-ddl.js'
import { readFileSync } from 'node:fs'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import { AthenaEmulator } from '../support/athena-emulator.js'
import {
  INVICTUS,
  invictusRecords,
  issuerOf,
  STEAL_CREDENTIALS_ROLE as ROLE
} from '../cloudtrail/trail-fixtures.js'
import type { TrailRecord } from '../cloudtrail/trail-fixtures.js'

const ENV_KEYS = [
  'AWS_ENDPOINT_URL_ATHENA',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_REGION'
] as const
const saved = new Map(ENV_KEYS.map(k => [k, process.env[k]]))

let emulator: AthenaEmulator
let roles: string[]
const noWait = () => Promise.resolve()

function config(inputs: Record<string, string> = {}): CliConfig {
  const all: Record<string, string> = {
    roles: roles.join('\n'),
    source: 'athena',
    'athena-table': 'cloudtrail.org_trail',
    'athena-output-location': 's3://query-results-bucket/iam-least-privilege/',
    since: '2023-01-01',
    until: '2023-12-31',
    ...inputs
  }
  return buildCliConfig(name => all[name], {})
}

async function usage(
  cfg: CliConfig,
  options: { signal?: AbortSignal; deadline?: Date; roleArns?: string[] } = {}
): Promise<{
  outcomes: Awaited<ReturnType<Awaited<ReturnType<typeof athenaSource.open>>['usageOf']>>
  log: MemoryLogger
}> {
  const log = new MemoryLogger()
  const startedAt = new Date('2024-01-01T00:00:00Z')
  const reading = await athenaSource.open({
    config: cfg,
    aws: createAwsSession(cfg, { log }),
    log,
    startedAt,
    deadline: options.deadline ?? new Date(Date.now() + 60_000),
    sleep: noWait,
    ...(options.signal ? { signal: options.signal } : {})
  })
  return { outcomes: await reading.usageOf(options.roleArns ?? roles), log }
}

function failureOf(outcome: unknown): string {
  const o = outcome as { outcome?: { status: string; reason: string } }
  expect(o.outcome?.status).toBe('failed')
  return o.outcome?.reason ?? ''
}

/** Many distinct objects written by one role: more result rows than one page holds. */
function busyRecords(): TrailRecord[] {
  const template = invictusRecords().find(r => issuerOf(r) === ROLE)
  const out: TrailRecord[] = []
  for (let i = 0; i < 1500; i++) {
    const r = JSON.parse(JSON.stringify(template)) as TrailRecord
    Object.assign(r, {
      eventSource: 's3.amazonaws.com',
      eventName: i % 2 === 0 ? 'PutObject' : 'GetObject',
      eventCategory: 'Data',
      errorCode: undefined,
      errorMessage: undefined,
      requestParameters: { bucketName: 'busy-bucket', key: `k/${i}` },
      resources: []
    })
    out.push(r)
  }
  return out
}

beforeAll(async () => {
  emulator = new AthenaEmulator({ runningPolls: 2 })
  const { url } = await emulator.start()
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_ATHENA: url,
    AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'emulator-secret',
    AWS_REGION: 'us-east-1'
  })
  const records = [...invictusRecords(), ...busyRecords()]
  await emulator.loadCloudTrail('cloudtrail', 'org_trail', records)
  const local = await scanCloudTrail({ path: INVICTUS, workers: 0 })
  roles = [...local.roles.keys()].filter(arn => arn.includes(':123837392027:'))
})

afterAll(async () => {
  await emulator.stop()
  for (const [k, v] of saved) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
})

beforeEach(() => {
  emulator.failures.length = 0
  emulator.stuck.length = 0
  emulator.workgroups.set('primary', {
    name: 'primary',
    outputLocation: 's3://athena-results-emulated/primary/'
  })
})

describe('source: athena against the emulator', () => {
  it('gives the local engine usage with the cost of the query, over paginated results', async () => {
    const { outcomes, log } = await usage(config())
    expect(outcomes).toHaveLength(roles.length)
    const role = outcomes[roles.indexOf(ROLE)] as { usage: RoleUsage }
    expect(role.usage.source).toBe('athena')
    const writes = role.usage.actions.find(a => a.action === 's3:PutObject')
    expect(writes?.count).toBe(750)
    expect(writes?.resources).toHaveLength(750)
    expect(role.usage.evidence.dataEventsSeen).toEqual(['s3'])
    const athena = role.usage.evidence.athena
    expect(athena?.rows).toBeGreaterThan(1500)
    expect(athena?.bytesScanned).toBeGreaterThan(0)
    expect(athena?.estimatedCostUsd).toBeCloseTo(5e-5, 8) // the 10 MB minimum at USD 5 per TB
    expect(
      role.usage.evidence.notes.some(n => /scanned .* \(estimated USD 0\.0001 at USD 5 per TB/.test(n))
    ).toBe(true)
    // More than one page of 1000 rows, the header row dropped once.
    expect(emulator.count('GetQueryResults')).toBeGreaterThanOrEqual(2)
    expect(log.lines.some(l => l.startsWith('info: athena: query '))).toBe(true)
    // The query named the selected accounts' partitions and the window's days.
    const sql = [...emulator.executions.values()].at(-1)?.sql ?? ''
    expect(sql).toContain("account IN ('123837392027')")
    expect(sql).toContain(`"timestamp" BETWEEN '2023/01/01' AND '2023/12/31'`)
  })

  it('stops a query that scans past athena-max-scan-gb', async () => {
    const { outcomes } = await usage(config({ 'athena-max-scan-gb': '0.000001' }))
    const reason = failureOf(outcomes[0])
    expect(reason).toMatch(/^athena: query \S+ stopped: it scanned .* past athena-max-scan-gb \(0\.0 MB\)/)
    expect(reason).not.toContain('\n')
    expect(emulator.count('StopQueryExecution')).toBeGreaterThanOrEqual(1)
    expect([...emulator.executions.values()].at(-1)?.state).toBe('CANCELLED')
  })

  it("respects the workgroup's own cutoff: the query it cancels fails every role with one line", async () => {
    emulator.workgroups.set('capped', {
      name: 'capped',
      outputLocation: 's3://athena-results-emulated/capped/',
      bytesScannedCutoffPerQuery: 1000
    })
    const { outcomes, log } = await usage(config({ 'athena-workgroup': 'capped' }))
    expect(failureOf(outcomes[0])).toMatch(
      /^athena: query \S+ was cancelled \(by the workgroup's scan cutoff/
    )
    expect(log.lines.some(l => l.includes('workgroup "capped" stops any query past'))).toBe(true)
  })

  it('reports a FAILED query in one line', async () => {
    emulator.failures.push({
      match: /WITH attributed/,
      reason:
        "COLUMN_NOT_FOUND: line 12:5: Column 'eventcategory' cannot be resolved or requester is not authorized"
    })
    const { outcomes } = await usage(config())
    expect(failureOf(outcomes[0])).toMatch(/^athena: query \S+ failed: COLUMN_NOT_FOUND: line 12:5/)
  })

  it('stops the query when the run is cancelled (SIGTERM) and when timeout-minutes runs out', async () => {
    emulator.stuck.push(/WITH attributed/)
    const controller = new AbortController()
    const cfg = config()
    const log = new MemoryLogger()
    const reading = await athenaSource.open({
      config: cfg,
      aws: createAwsSession(cfg, { log }),
      log,
      startedAt: new Date('2024-01-01T00:00:00Z'),
      deadline: new Date(Date.now() + 60_000),
      signal: controller.signal,
      sleep: async () => {
        await Promise.resolve()
        if (emulator.count('GetQueryExecution') > 3) controller.abort()
      }
    })
    const before = emulator.count('StopQueryExecution')
    expect(failureOf((await reading.usageOf(roles))[0])).toMatch(/stopped: the run was cancelled/)
    expect(emulator.count('StopQueryExecution')).toBe(before + 1)
    const timedOut = await usage(config(), { deadline: new Date(Date.now() - 1) })
    expect(failureOf(timedOut.outcomes[0])).toMatch(/stopped: timeout-minutes ran out/)
    expect(emulator.count('StopQueryExecution')).toBe(before + 2)
  })

  it('names athena-output-location when neither it nor the workgroup has a result location', async () => {
    emulator.workgroups.set('bare', { name: 'bare' })
    const { outcomes } = await usage(config({ 'athena-workgroup': 'bare', 'athena-output-location': '' }))
    expect(failureOf(outcomes[0])).toMatch(
      /^athena-output-location: required: workgroup "bare" has no query result location/
    )
  })

  it('creates the table with partition projection over the organization layout, which the query then reads', async () => {
    const cfg = config({
      'athena-table': 'org_logs.trail',
      'athena-create-table': 'true',
      'cloudtrail-path': 's3://org-trail-bucket/AWSLogs/o-abcdef1234/'
    })
    const { outcomes } = await usage(cfg)
    const created = emulator.createdTables.get('org_logs.trail')
    expect(created?.location).toBe('s3://org-trail-bucket/AWSLogs/o-abcdef1234/')
    expect(created?.properties['storage.location.template']).toBe(
      's3://org-trail-bucket/AWSLogs/o-abcdef1234/${account}/CloudTrail/${region}/${timestamp}'
    )
    expect(created?.properties['projection.timestamp.format']).toBe('yyyy/MM/dd')
    // The aggregating query ran against the created (empty) table: its columns are the ones the query reads.
    const role = outcomes[0] as { usage?: RoleUsage }
    expect(role.usage?.evidence.eventsMatched).toBe(0)
    expect(role.usage?.evidence.notes.some(n => n.startsWith('no event of the roles'))).toBe(true)
  })

  it('refuses to create a table without an organization trail location', async () => {
    expect(() => config({ 'athena-create-table': 'true' })).toThrow(
      /cloudtrail-path: required with athena-create-table: true/
    )
    const { outcomes } = await usage(
      config({ 'athena-create-table': 'true', 'cloudtrail-path': 's3://bucket/AWSLogs/123456789012/' })
    ).catch((error: unknown) => ({ outcomes: [error] }))
    expect(String(outcomes[0])).toMatch(
      /athena-create-table: "s3:\/\/bucket\/AWSLogs\/123456789012\/" is not an organization trail location/
    )
  })

  it('documents in the README exactly the table it creates', () => {
    const ddl = createTableSql(
      { database: 'cloudtrail', table: 'org_trail' },
      's3://amzn-s3-demo-bucket/AWSLogs/o-exampleorgid/'
    )
    expect(readFileSync('README.md', 'utf8')).toContain(`\`\`\`sql\n${ddl}\n\`\`\``)
  })
})
