import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'
import {
  DATA,
  INVICTUS,
  STRATUS,
  invictusRecords,
  jsonFiles,
  recordsOf,
  tempDir,
  usageDigest
} from './trail-fixtures.js'
import { STEAL_CREDENTIALS_USED } from '../support/stratus-facts.js'

const STEAL = 'stratus-red-team-ec2-steal-credentials-role'
const role = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`

function usedActions(scan: CloudTrailScan, arn: string): string[] {
  const usage = scan.roles.get(arn)
  if (!usage) throw new Error(`no usage for ${arn}; roles: ${[...scan.roles.keys()].join(', ')}`)
  return usage.actions.map(a => a.action)
}

describe('the real records', () => {
  let withWorkers: CloudTrailScan
  let inThread: CloudTrailScan
  beforeAll(async () => {
    withWorkers = await scanCloudTrail({ path: DATA, workers: 2 })
    inThread = await scanCloudTrail({ path: DATA, workers: 0 })
  })

  test('are read on two worker threads, every file and every event', () => {
    expect(withWorkers.threads).toBe(2)
    expect(withWorkers.filesRead).toBe(90)
    expect(withWorkers.filesSkipped).toEqual([])
    expect(withWorkers.eventsRead).toBe(3210)
  })

  test('give the same usage in the main thread as on workers', () => {
    expect(inThread.threads).toBe(0)
    expect(usageDigest(inThread)).toEqual(usageDigest(withWorkers))
  })

  test('give the same usage when workers send their tallies after every file instead of once', async () => {
    const flushing = await scanCloudTrail({ path: DATA, workers: 2 }, { flushTallyAt: 0 })
    expect(flushing.eventsRead).toBe(withWorkers.eventsRead)
    expect(flushing.window).toEqual(withWorkers.window)
    expect(flushing.rolesSeen).toEqual(withWorkers.rolesSeen)
    expect(usageDigest(flushing)).toEqual(usageDigest(withWorkers))
  })

  test('window defaults to the span of the records read', () => {
    const times = jsonFiles(DATA)
      .flatMap(recordsOf)
      .map(r => Date.parse(String(r.eventTime)))
    expect(withWorkers.window).toEqual({
      start: new Date(Math.min(...times)).toISOString(),
      end: new Date(Math.max(...times)).toISOString()
    })
  })

  test('principals seen are the session issuers that are roles and the IAM users (federated sessions excluded)', () => {
    expect(withWorkers.rolesSeen.filter(arn => arn.includes(':role/'))).toHaveLength(16)
    expect(withWorkers.rolesSeen).toContain(
      'arn:aws:iam::123837392027:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS'
    )
    expect(withWorkers.rolesSeen).toContain(
      'arn:aws:iam::844015365555:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_account-admin_599c9e90e350d2ff'
    )
    const users = withWorkers.rolesSeen.filter(arn => arn.includes(':user/'))
    expect(users).toHaveLength(36)
    expect(users).toContain('arn:aws:iam::123837392027:user/bert-jan')
    expect(withWorkers.rolesSeen).toHaveLength(52)
    expect(withWorkers.rolesSeen.filter(arn => arn.includes('federated-user'))).toEqual([])
  })

  test('steal-credentials: SSM agent calls and DescribeInstances are used, GetCallerIdentity is not', () => {
    const arn = role('123837392027', STEAL)
    expect(usedActions(withWorkers, arn)).toEqual(STEAL_CREDENTIALS_USED)
    const evidence = withWorkers.roles.get(arn)!.evidence
    expect(evidence).toMatchObject({
      eventsMatched: 15,
      permissionlessCalls: 1,
      deniedCalls: 0,
      unmapped: [],
      filesRead: 90
    })
  })

  test('enumerate: only the SSM agent calls', () => {
    expect(usedActions(withWorkers, role('123837392027', 'stratus-red-team-ec2-enumerate-role'))).toEqual([
      'ssm:PutComplianceItems',
      'ssm:PutInventory',
      'ssm:UpdateInstanceAssociationStatus',
      'ssm:UpdateInstanceInformation'
    ])
  })

  test('denied calls are not usage', () => {
    const cases: [string, string, number][] = [
      ['123837392027', 'stratus-red-team-ec2-get-password-data-role', 29],
      ['457448411975', 'stratus-red-team-ec2-get-password-data-role', 30],
      ['123837392027', 'stratus-red-team-get-usr-data-role', 15],
      ['123837392027', 'stratus-red-team-leave-org-role', 1],
      ['900138736586', 'stratus-red-team-ec2lui-role-idtzskbvtd', 1]
    ]
    for (const [account, name, denied] of cases) {
      const usage = withWorkers.roles.get(role(account, name))!
      expect([name, usage.actions, usage.evidence.deniedCalls]).toEqual([name, [], denied])
    }
  })

  test('RunInstances that failed on a vCPU limit was authorized, so it is used', () => {
    for (const name of [
      'stratus-red-team-ec2lui-role-pcccexdthk',
      'stratus-red-team-ec2lui-role-wuzemnoeqa'
    ]) {
      expect(withWorkers.roles.get(role('123837392027', name))!.actions).toMatchObject([
        { action: 'ec2:RunInstances', resources: ['*'], count: 1 }
      ])
    }
  })

  test('resources are kept when the record names one of the action type', () => {
    const steal = withWorkers.roles.get(role('123837392027', STEAL))!
    expect(steal.actions.find(a => a.action === 'ssm:ListInstanceAssociations')!.resources).toEqual([
      'arn:aws:ec2:us-east-1:123837392027:instance/i-0dbc91f429e48eeed'
    ])
    expect(steal.actions.find(a => a.action === 'ssm:UpdateInstanceInformation')!.resources).toEqual(['*'])
  })
})

describe('file shapes, compression and layout', () => {
  const tmp = tempDir()
  const records = invictusRecords()
  const body = JSON.stringify({ Records: records })
  let reference: CloudTrailScan
  beforeAll(async () => {
    reference = await scanCloudTrail({ path: INVICTUS, workers: 1 })
  })
  afterAll(() => tmp.remove())

  const shapes: [string, string, () => void][] = [
    ['{"Records":[...]}', 'records', () => tmp.write('records/all.json', body)],
    ['a JSON array', 'array', () => tmp.write('array/all.json', JSON.stringify(records, null, 2))],
    [
      'JSON lines with @timestamp instead of eventTime',
      'lines',
      () => {
        const lines = records.map(r => {
          const { eventTime, ...rest } = r
          return JSON.stringify({ '@timestamp': eventTime, ...rest })
        })
        tmp.write('lines/all.jsonl', lines.join('\n') + '\n')
      }
    ],
    [
      'EventBridge envelopes, one per line',
      'eventbridge',
      () => {
        tmp.write(
          'eventbridge/all.json',
          records
            .map(r => JSON.stringify({ 'detail-type': 'AWS API Call via CloudTrail', detail: r }))
            .join('\n')
        )
      }
    ],
    ['gzip', 'gzip', () => tmp.write('gzip/all.json.gz', gzipSync(body))],
    [
      'gzip found by magic bytes under a .json name',
      'magic',
      () => tmp.write('magic/all.json', gzipSync(body))
    ]
  ]
  const modes: [string, number | undefined][] = [
    ['whole', undefined],
    ['streamed', 0]
  ]
  for (const [shape, folder, write] of shapes) {
    test.each(modes)(`reads ${shape} like the original files (%s)`, async (_mode, streamFromBytes) => {
      write()
      const scan = await scanCloudTrail({ path: `${tmp.dir}/${folder}`, workers: 1 }, { streamFromBytes })
      expect(scan.filesSkipped).toEqual([])
      expect(scan.eventsRead).toBe(records.length)
      expect(scan.window).toEqual(reference.window)
      expect(usageDigest(scan)).toEqual(usageDigest(reference))
    })
  }

  test.each(modes)(
    'a corrupt gzip and a truncated JSON file are skipped and named; the rest is read (%s)',
    async (_mode, streamFromBytes) => {
      // Derived from a real record: gzip of the real file, cut in half.
      const real = readFileSync(jsonFiles(INVICTUS)[0] ?? '')
      const gz = gzipSync(real)
      const dir = tmp.dir + '/corrupt'
      tmp.write('corrupt/good.json', body)
      tmp.write('corrupt/cut.json.gz', gz.subarray(0, Math.floor(gz.length / 2)))
      tmp.write('corrupt/cut.json', real.subarray(0, Math.floor(real.length / 2)))
      tmp.write('corrupt/notes.json', 'hello')
      const scan = await scanCloudTrail({ path: dir, workers: 2 }, { streamFromBytes })
      expect(scan.filesRead).toBe(1)
      expect(scan.filesSkipped.map(f => f.file.slice(dir.length + 1))).toEqual([
        'cut.json',
        'cut.json.gz',
        'notes.json'
      ])
      expect(scan.filesSkipped[0]?.reason).toMatch(/^invalid JSON/)
      expect(scan.filesSkipped[1]?.reason).toMatch(/^corrupt gzip/)
      expect(scan.filesSkipped[2]?.reason).toMatch(/^not CloudTrail JSON/)
      expect(usageDigest(scan)).toEqual(usageDigest(reference))
    }
  )

  test.each(modes)(
    'a JSON-lines file with a broken line keeps its other lines and says so (%s)',
    async (_mode, streamFromBytes) => {
      const lines = records.slice(0, 10).map(r => JSON.stringify(r))
      lines.splice(5, 0, '{"eventVersion":"1.08","userIdentity":')
      tmp.write('badline/export.jsonl', lines.join('\n'))
      const scan = await scanCloudTrail({ path: `${tmp.dir}/badline`, workers: 1 }, { streamFromBytes })
      expect(scan.filesRead).toBe(1)
      expect(scan.eventsRead).toBe(10)
      expect(scan.notes).toContain('1 lines of JSON-lines files did not parse and were skipped')
    }
  )

  test('the S3 and organization-trail layouts are read; digest and Insights folders are not', async () => {
    const half = Math.floor(records.length / 2)
    const first = { Records: records.slice(0, half) }
    const second = { Records: records.slice(half) }
    tmp.write(
      'layout/AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/10/123837392027_CloudTrail_us-east-1_20230710T1220Z_a1.json.gz',
      gzipSync(JSON.stringify(first))
    )
    tmp.write(
      'layout/AWSLogs/o-abcdefghij/123837392027/CloudTrail/eu-west-1/2023/07/10/123837392027_CloudTrail_eu-west-1_20230710T1220Z_b2.json.gz',
      gzipSync(JSON.stringify(second))
    )
    // Real records placed where CloudTrail writes digests: counting them would change every number.
    tmp.write(
      'layout/AWSLogs/123837392027/CloudTrail-Digest/us-east-1/2023/07/10/123837392027_CloudTrail-Digest_us-east-1_x.json.gz',
      gzipSync(body)
    )
    tmp.write(
      'layout/AWSLogs/123837392027/CloudTrail-Insight/us-east-1/2023/07/10/insight.json.gz',
      gzipSync(body)
    )
    const scan = await scanCloudTrail({ path: tmp.dir + '/layout', workers: 2 })
    expect(scan.filesRead).toBe(2)
    expect(scan.eventsRead).toBe(records.length)
    expect(usageDigest(scan)).toEqual(usageDigest(reference))
    expect(scan.notes.join('\n')).toMatch(/CloudTrail-Digest/)
  })
})

describe('time window', () => {
  test('since/until keep only the events inside and narrow the window to them', async () => {
    const all = await scanCloudTrail({ path: STRATUS, workers: 0 })
    expect(all.roles.get(role('017622104382', STEAL))!.evidence.eventsMatched).toBe(2)
    const since = new Date('2024-08-02T08:23:56Z')
    const until = new Date('2024-08-03T00:00:00Z')
    const scan = await scanCloudTrail({ path: STRATUS, since, until, workers: 2 })
    const usage = scan.roles.get(role('017622104382', STEAL))!
    // GetCallerIdentity at 08:23:55 is outside, DescribeInstances at 08:23:56 inside.
    expect(usage.evidence.eventsMatched).toBe(1)
    expect(usage.evidence.permissionlessCalls).toBe(0)
    expect(usage.actions.map(a => a.action)).toEqual(['ec2:DescribeInstances'])
    expect(Date.parse(scan.window.start)).toBeGreaterThanOrEqual(since.getTime())
    expect(Date.parse(scan.window.end)).toBeLessThanOrEqual(until.getTime())
    expect(scan.eventsRead).toBe(all.eventsRead)
  })

  test('bad input gets a clear error', async () => {
    await expect(scanCloudTrail({ path: 'no/such/folder' })).rejects.toThrow(
      /cloudtrail-path: cannot read no\/such\/folder/
    )
    await expect(
      scanCloudTrail({
        path: STRATUS,
        since: new Date('2024-02-01'),
        until: new Date('2024-01-01')
      })
    ).rejects.toThrow(/since .* is after until/)
  })
})

describe('resources and data events', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  test('S3 requests name their bucket or object; too many distinct resources become *', async () => {
    // Derived from a real record of the steal-credentials role, turned into S3 data events.
    const real = recordsOf(`${STRATUS}/aws.credential-access.ec2-steal-instance-credentials.json`).find(
      r => r.eventName === 'DescribeInstances'
    )!
    const s3Event = (eventName: string, requestParameters: Record<string, string>) => ({
      ...real,
      eventSource: 's3.amazonaws.com',
      eventName,
      requestParameters,
      eventCategory: 'Data',
      managementEvent: false
    })
    const events = [
      s3Event('GetObject', { bucketName: 'app-data', key: 'reports/2024.csv' }),
      s3Event('HeadObject', { bucketName: 'app-data', key: 'reports/2023.csv' }),
      s3Event('ListObjectsV2', { bucketName: 'app-data' }),
      s3Event('DeleteObjects', { bucketName: 'app-data' }),
      ...Array.from({ length: 1001 }, (_, i) =>
        s3Event('PutObject', { bucketName: 'uploads', key: `u/${i}` })
      )
    ]
    tmp.write('s3.jsonl', events.map(e => JSON.stringify(e)).join('\n'))
    const scan = await scanCloudTrail({ path: tmp.dir, workers: 1 })
    const usage = scan.roles.get(
      String(
        (real.userIdentity as { sessionContext: { sessionIssuer: { arn: string } } }).sessionContext
          .sessionIssuer.arn
      )
    )!
    // Every event keeps the real record's time.
    const seen = { firstSeen: '2024-08-02T08:23:56.000Z', lastSeen: '2024-08-02T08:23:56.000Z' }
    expect(usage.actions).toEqual([
      // DeleteObjects names no object: the bucket ARN does not fit s3:DeleteObject, so it needs *.
      { action: 's3:DeleteObject', resources: ['*'], count: 1, ...seen },
      {
        action: 's3:GetObject',
        resources: ['arn:aws:s3:::app-data/reports/2023.csv', 'arn:aws:s3:::app-data/reports/2024.csv'],
        count: 2,
        ...seen
      },
      { action: 's3:ListBucket', resources: ['arn:aws:s3:::app-data'], count: 1, ...seen },
      { action: 's3:PutObject', resources: ['*'], count: 1001, ...seen }
    ])
    expect(usage.evidence.dataEventsSeen).toEqual(['s3'])
    expect(usage.evidence.notes.join('\n')).toMatch(/more than 1000 distinct resources for s3:PutObject/)
  })
})
