/**
 * First and last seen per role and action: the exact eventTime of the earliest and latest authorized call, whichever
 * file, thread or flush the calls were counted in. The records are derived in code from a real record of the
 * steal-credentials role (an SSM agent call); the sample files themselves are never edited.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'
import {
  STEAL_CREDENTIALS_ROLE as ROLE,
  stealCredentialsVariant as variant,
  tempDir
} from './trail-fixtures.js'

const FIRST = '2023-07-10T08:01:02Z'
const MIDDLE = '2023-07-11T13:14:15Z'
const LAST = '2023-07-12T23:59:59Z'

describe('first and last seen per action', () => {
  const files = tempDir()
  const scans: Record<string, CloudTrailScan> = {}
  beforeAll(async () => {
    // The latest call comes first and the earliest in another file: only min/max across files gets them right.
    files.write(
      'AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/12/a.json',
      JSON.stringify({
        Records: [
          variant({ eventTime: LAST }),
          variant({ eventTime: MIDDLE }),
          // Denied after the last authorized call: not a use, so not a date of one.
          variant({
            eventTime: '2023-07-13T00:00:00Z',
            errorCode: 'AccessDeniedException',
            errorMessage: 'User: x is not authorized to perform: ssm:UpdateInstanceInformation'
          }),
          // A copy proves two actions: both get its time.
          variant({
            eventTime: MIDDLE,
            eventSource: 's3.amazonaws.com',
            eventName: 'CopyObject',
            requestParameters: { bucketName: 'destination', key: 'k' }
          })
        ]
      })
    )
    files.write(
      'AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/10/b.json',
      JSON.stringify({ Records: [variant({ eventTime: FIRST }), variant({ eventTime: 'not a time' })] })
    )
    scans.workers = await scanCloudTrail({ path: files.dir, workers: 2 })
    scans.inThread = await scanCloudTrail({ path: files.dir, workers: 0 })
    scans.flushing = await scanCloudTrail({ path: files.dir, workers: 2 }, { flushTallyAt: 0 })
    scans.since = await scanCloudTrail({
      path: files.dir,
      workers: 0,
      since: new Date('2023-07-11T00:00:00Z')
    })
  })
  afterAll(() => files.remove())

  const action = (scan: CloudTrailScan | undefined, name: string) =>
    scan?.roles.get(ROLE)?.actions.find(a => a.action === name)

  test.each(['workers', 'inThread', 'flushing'])(
    'are the exact times of the earliest and latest authorized call (%s)',
    mode => {
      expect(action(scans[mode], 'ssm:UpdateInstanceInformation')).toMatchObject({
        count: 4,
        firstSeen: '2023-07-10T08:01:02.000Z',
        lastSeen: '2023-07-12T23:59:59.000Z'
      })
    }
  )

  test('every action a call proves gets its time', () => {
    for (const name of ['s3:PutObject', 's3:GetObject'])
      expect(action(scans.workers, name)).toMatchObject({
        firstSeen: '2023-07-11T13:14:15.000Z',
        lastSeen: '2023-07-11T13:14:15.000Z'
      })
  })

  test('calls outside since/until are no dates', () => {
    expect(action(scans.since, 'ssm:UpdateInstanceInformation')).toMatchObject({
      firstSeen: '2023-07-11T13:14:15.000Z',
      lastSeen: '2023-07-12T23:59:59.000Z'
    })
  })
})
