/** Records whose operation is authorized under other names, and what the records show the trail logs. */
import { afterAll, describe, expect, test } from '@jest/globals'
import { loadCatalog } from '../../src/policy/catalog.js'
import { RENAMED_EVENTS, classifyEvent } from '../../src/usage/cloudtrail/map-event.js'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import { tempDir } from './trail-fixtures.js'

const APP = 'arn:aws:iam::111122223333:role/app'
const OTHER = 'arn:aws:iam::111122223333:role/other'

function record(role: string, eventSource: string, eventName: string, readOnly: boolean, extra = {}) {
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      arn: `${role.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/')}/s`,
      sessionContext: { sessionIssuer: { type: 'Role', arn: role, userName: role.split('/').pop() } }
    },
    eventTime: '2026-11-01T10:00:00Z',
    eventSource,
    eventName,
    eventType: 'AwsApiCall',
    readOnly,
    managementEvent: true,
    eventCategory: 'Management',
    ...extra
  }
}

describe('operations authorized as other actions', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  test('Glue column statistics and S3 copies prove the permissions their API references name', async () => {
    tmp.write(
      'a/trail.json',
      JSON.stringify({
        Records: [
          record(APP, 'glue.amazonaws.com', 'GetColumnStatisticsForTable', true),
          record(APP, 'glue.amazonaws.com', 'UpdateColumnStatisticsForPartition', false),
          record(APP, 's3.amazonaws.com', 'CopyObject', false, {
            managementEvent: false,
            eventCategory: 'Data',
            requestParameters: { bucketName: 'dst', key: 'k' }
          }),
          record(OTHER, 'kms.amazonaws.com', 'Decrypt', true)
        ]
      })
    )
    const scan = await scanCloudTrail({ path: `${tmp.dir}/a`, workers: 0 })
    const app = scan.roles.get(APP)!
    const used = app.actions.map(a => a.action)
    expect(used).toEqual(
      expect.arrayContaining([
        'glue:GetColumnStatisticsForTable',
        'glue:GetTable',
        'glue:UpdateColumnStatisticsForPartition',
        'glue:UpdatePartition'
      ])
    )
    expect(app.actions.find(a => a.action === 's3:PutObject')?.operations).toEqual(['s3:CopyObject'])
    // Another principal's KMS event shows the trail logs KMS events.
    expect(app.evidence.managementEventsSeen).toEqual(['kms.amazonaws.com', 'read', 'write'])
  })
})

describe('renames found by the mapping audit', () => {
  const catalog = loadCatalog()
  const used = (eventSource: string, eventName: string) => {
    const cls = classifyEvent(catalog, {
      eventSource,
      eventName,
      eventType: 'AwsApiCall',
      errorCode: '',
      deniedByMessage: false
    })
    return cls.kind === 'used' ? cls.actions : cls.kind
  }

  test('operations without an action of their own map to the permission their API reference names', () => {
    expect(used('bedrock.amazonaws.com', 'Converse')).toEqual(['bedrock:InvokeModel'])
    expect(used('bedrock.amazonaws.com', 'ConverseStream')).toEqual(['bedrock:InvokeModelWithResponseStream'])
    expect(used('dms.amazonaws.com', 'DescribeDataProviders')).toEqual(['dms:ListDataProviders'])
    expect(used('securityhub.amazonaws.com', 'GetFindingsV2')).toEqual(['securityhub:GetFindings'])
  })

  test('every renamed event names catalog actions', () => {
    for (const [service, events] of Object.entries(RENAMED_EVENTS)) {
      for (const [event, actions] of Object.entries(events)) {
        for (const action of actions) {
          const name = `${service}:${action}`
          expect({ event, name, known: catalog.action(name) !== undefined }).toEqual({
            event,
            name,
            known: true
          })
        }
      }
    }
  })
})
