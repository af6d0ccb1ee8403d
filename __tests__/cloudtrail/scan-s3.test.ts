import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { S3Client } from '@aws-sdk/client-s3'
import { gzipSync } from 'node:zlib'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'
import { S3Emulator } from '../support/s3-emulator.js'
import { INVICTUS, STRATUS, invictusRecords, recordsOf, usageDigest } from './trail-fixtures.js'

const BUCKET = 'trail-bucket'
const BASE = 'team/AWSLogs/123837392027/CloudTrail'
const STEAL_FILE = `${STRATUS}/aws.credential-access.ec2-steal-instance-credentials.json`

describe('reading s3://bucket/prefix with the real S3 client', () => {
  // Two entries per page: every listing below goes through continuation tokens.
  const s3 = new S3Emulator({ pageSize: 2 })
  let client: S3Client
  let endpoint: string
  let reference: CloudTrailScan
  const records = invictusRecords()

  beforeAll(async () => {
    endpoint = await s3.start()
    client = new S3Client({
      endpoint,
      forcePathStyle: true,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' }
    })
    // The Invictus records split over five delivery files on 10 and 11 July (delivery runs after the events).
    const per = Math.ceil(records.length / 5)
    for (let i = 0; i < 5; i++) {
      const day = i < 4 ? '10' : '11'
      const key = `${BASE}/us-east-1/2023/07/${day}/123837392027_CloudTrail_us-east-1_202307${day}T12${i}0Z_part${i}.json.gz`
      s3.put(BUCKET, key, gzipSync(JSON.stringify({ Records: records.slice(i * per, (i + 1) * per) })))
    }
    // Outside the July window, in another Region, and beside the logs: never listed or read by a windowed query.
    s3.put(
      BUCKET,
      `${BASE}/us-east-1/2024/08/02/123837392027_CloudTrail_us-east-1_20240802T0830Z_late.json.gz`,
      gzipSync(JSON.stringify({ Records: recordsOf(STEAL_FILE) }))
    )
    s3.put(
      BUCKET,
      `${BASE}/eu-west-1/2023/07/10/123837392027_CloudTrail_eu-west-1_20230710T1200Z_eu.json.gz`,
      gzipSync(JSON.stringify({ Records: recordsOf(STEAL_FILE) }))
    )
    s3.put(
      BUCKET,
      'team/AWSLogs/123837392027/CloudTrail-Digest/us-east-1/2023/07/10/digest.json.gz',
      gzipSync(JSON.stringify({ Records: records }))
    )
    reference = await scanCloudTrail({ path: INVICTUS, workers: 0 })
  })
  afterAll(async () => {
    client?.destroy()
    await s3.stop()
  })

  test('a windowed query lists only the date folders of the window in the Regions asked for', async () => {
    s3.requests.length = 0
    const scan = await scanCloudTrail(
      {
        path: `s3://${BUCKET}/team`,
        since: new Date('2023-07-10T00:00:00Z'),
        until: new Date('2023-07-10T23:59:59Z'),
        regions: ['us-east-1'],
        workers: 2
      },
      { s3Client: client }
    )
    expect(scan.filesRead).toBe(5)
    expect(scan.filesSkipped).toEqual([])
    expect(scan.eventsRead).toBe(records.length)
    expect(usageDigest(scan)).toEqual(usageDigest(reference))
    const listed = [...new Set(s3.listedPrefixes())].sort()
    expect(listed).toEqual([
      'team/AWSLogs/',
      'team/AWSLogs/123837392027/CloudTrail/',
      `${BASE}/us-east-1/2023/07/10/`,
      `${BASE}/us-east-1/2023/07/11/`
    ])
    // Pagination happened: more list requests than distinct prefixes.
    expect(s3.listedPrefixes().length).toBeGreaterThan(listed.length)
    const fetched = s3.requests.filter(r => r.query['list-type'] !== '2').map(r => r.key)
    expect(
      fetched.filter(k => k.includes('Digest') || k.includes('eu-west-1') || k.includes('2024/'))
    ).toEqual([])
  })

  test('without a window every Region and date is read, and a corrupt object is skipped by name', async () => {
    s3.put(
      BUCKET,
      `${BASE}/us-east-1/2023/07/11/123837392027_CloudTrail_us-east-1_20230711T0000Z_cut.json.gz`,
      gzipSync(JSON.stringify({ Records: records })).subarray(0, 100)
    )
    try {
      const scan = await scanCloudTrail(
        {
          path: `s3://${BUCKET}/team/`,
          workers: 2
        },
        { s3Client: client }
      )
      expect(scan.filesRead).toBe(7)
      expect(scan.filesSkipped).toEqual([
        {
          file: `s3://${BUCKET}/${BASE}/us-east-1/2023/07/11/123837392027_CloudTrail_us-east-1_20230711T0000Z_cut.json.gz`,
          reason: expect.stringMatching(/^corrupt gzip/)
        }
      ])
      expect(scan.eventsRead).toBe(records.length + 2 * 45)
      const steal = [...scan.roles.keys()].filter(arn =>
        arn.endsWith('/stratus-red-team-ec2-steal-credentials-role')
      )
      expect(steal.sort()).toEqual([
        'arn:aws:iam::017622104382:role/stratus-red-team-ec2-steal-credentials-role',
        'arn:aws:iam::123837392027:role/stratus-red-team-ec2-steal-credentials-role'
      ])
    } finally {
      s3.buckets
        .get(BUCKET)!
        .delete(`${BASE}/us-east-1/2023/07/11/123837392027_CloudTrail_us-east-1_20230711T0000Z_cut.json.gz`)
    }
  })

  test('AWS_ENDPOINT_URL_S3 points the engine at another endpoint (path-style)', async () => {
    const saved = { ...process.env }
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_REGION: 'us-east-1'
    })
    try {
      const scan = await scanCloudTrail({
        path: `s3://${BUCKET}/${BASE}/us-east-1/2023/`,
        workers: 1
      })
      expect(scan.filesRead).toBe(5)
      expect(usageDigest(scan)).toEqual(usageDigest(reference))
    } finally {
      for (const k of ['AWS_ENDPOINT_URL_S3', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  })

  test('the organization-trail layout inserts the organization id before the account', async () => {
    const org = 'org/AWSLogs/o-abcdefghij/123837392027/CloudTrail'
    s3.put(
      BUCKET,
      `${org}/ap-south-1/2024/08/02/123837392027_CloudTrail_ap-south-1_20240802T0830Z_o1.json.gz`,
      gzipSync(JSON.stringify({ Records: recordsOf(STEAL_FILE) }))
    )
    s3.requests.length = 0
    const scan = await scanCloudTrail(
      {
        path: `s3://${BUCKET}/org`,
        since: new Date('2024-08-02T00:00:00Z'),
        until: new Date('2024-08-02T12:00:00Z'),
        workers: 1
      },
      { s3Client: client }
    )
    expect(scan.filesRead).toBe(1)
    expect(scan.eventsRead).toBe(45)
    expect([...new Set(s3.listedPrefixes())].sort()).toEqual([
      'org/AWSLogs/',
      'org/AWSLogs/o-abcdefghij/',
      `${org}/`,
      `${org}/ap-south-1/2024/08/02/`,
      `${org}/ap-south-1/2024/08/03/`
    ])
  })

  test('a bucket that does not exist fails with the S3 error', async () => {
    await expect(
      scanCloudTrail({ path: 's3://no-such-bucket/x', workers: 0 }, { s3Client: client })
    ).rejects.toThrow(
      /^cloudtrail-path: cannot list s3:\/\/no-such-bucket\/x: The specified bucket does not exist/
    )
  })
})
