/**
 * The CLI bundle (dist/cli.js) with --source athena against the Athena emulator (real SDK client, SQL run in DuckDB):
 * the same report as --source cloudtrail on the same records, with the query's cost in the evidence.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import type { JsonReportV1 as ReportV1 } from '../../src/report/json.js'
import { AthenaEmulator } from '../support/athena-emulator.js'
import { GRANTS, SAMPLE } from '../support/cli-sample.js'
import { invictusRecords } from '../cloudtrail/trail-fixtures.js'

let emulator: AthenaEmulator
let endpoint: string

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [join(process.cwd(), 'dist/cli.js'), ...args],
      {
        maxBuffer: 64 * 1024 * 1024,
        env: {
          PATH: process.env.PATH ?? '',
          AWS_ENDPOINT_URL_ATHENA: endpoint,
          AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE',
          AWS_SECRET_ACCESS_KEY: 'emulator-secret',
          AWS_REGION: 'us-east-1',
          AWS_EC2_METADATA_DISABLED: 'true'
        }
      },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    )
  })
}

const COMMON = [...GRANTS, '--roles', '*', '--min-observation-days', '0', '--no-validate', '--format', 'json']
const WINDOW = ['--since', '2023-07-01', '--until', '2023-07-31']
const ATHENA = [
  '--source',
  'athena',
  '--athena-table',
  'cloudtrail.org_trail',
  '--athena-output-location',
  's3://query-results-bucket/iam-least-privilege/'
]

beforeAll(async () => {
  emulator = new AthenaEmulator({ runningPolls: 2 })
  endpoint = (await emulator.start()).url
  await emulator.loadCloudTrail('cloudtrail', 'org_trail', invictusRecords())
})

afterAll(async () => {
  await emulator.stop()
})

describe('iam-least-privilege analyze --source athena (dist/cli.js)', () => {
  it('reports what --source cloudtrail reports on the same records, with the query and its cost', async () => {
    const athena = await cli(['analyze', ...ATHENA, ...COMMON, ...WINDOW])
    expect(athena.stderr).toMatch(/athena: query \S+ started in workgroup "primary"/)
    expect(athena.code).toBe(0)
    const local = await cli(['analyze', ...SAMPLE, ...COMMON, ...WINDOW])
    expect(local.code).toBe(0)
    const fromAthena = JSON.parse(athena.stdout) as ReportV1
    const fromFiles = JSON.parse(local.stdout) as ReportV1
    expect(fromAthena.source).toBe('athena')
    // The roles come from the export; the local scan also adds the service-linked roles its files name.
    expect(fromAthena.roles.length).toBeGreaterThan(3)
    // The same judgement, the same counts and first and last seen; only the source's name differs.
    const judged = (role: ReportV1['roles'][number] | undefined) =>
      JSON.parse(
        JSON.stringify({
          arn: role?.arn,
          status: role?.status,
          used: role?.used,
          excess: role?.excess,
          usedEvidence: role?.usedEvidence
        }).replace(/\(athena\)|"athena"/g, m => m.replace('athena', 'cloudtrail'))
      ) as unknown
    for (const role of fromAthena.roles) {
      const other = fromFiles.roles.find(r => r.arn === role.arn)
      expect(judged(role)).toEqual(judged(other))
    }
    expect(fromAthena.roles.some(r => r.usedEvidence?.some(e => e.firstSeen && e.lastSeen))).toBe(true)
    const analyzed = fromAthena.roles.find(r => r.status === 'analyzed')
    expect(analyzed?.evidence?.athena?.bytesScanned).toBeGreaterThan(0)
    expect(analyzed?.evidence?.notes.some(n => /^Athena query \S+ scanned .* \(estimated USD/.test(n))).toBe(
      true
    )
    // One query for every role.
    expect(emulator.count('StartQueryExecution')).toBe(1)
  })

  it('fails the roles with one line when the workgroup does not exist', async () => {
    const run = await cli(['analyze', ...ATHENA, ...COMMON, ...WINDOW, '--athena-workgroup', 'missing'])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(
      /athena-workgroup: cannot read workgroup "missing": WorkGroup missing is not found\./
    )
  })
})
