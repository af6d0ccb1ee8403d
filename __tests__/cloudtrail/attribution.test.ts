/**
 * Records whose outcome or resources are easy to misread. Each variant is derived in code from a real record of the
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
import type { TrailRecord } from './trail-fixtures.js'

describe('outcomes and resources that are easy to misread', () => {
  const files = tempDir()
  let scan: CloudTrailScan
  beforeAll(async () => {
    const records = [
      // Denied, but for another service's action: this call itself was authorized.
      variant({
        eventName: 'UpdateInstanceInformation',
        errorCode: 'KMSAccessDeniedException',
        errorMessage: `User: x is not authorized to perform: kms:Decrypt on resource: key/1`
      }),
      // Denied for its own action: not usage.
      variant({
        eventName: 'PutInventory',
        errorCode: 'AccessDeniedException',
        errorMessage: `User: x is not authorized to perform: ssm:PutInventory on resource: instance/i-1`
      }),
      // A VPC endpoint refusing a call is a network activity event, not an API call by the role.
      variant({ eventName: 'ListAssociations', eventType: 'AwsVpceEvent', errorCode: 'VpceAccessDenied' }),
      // A copy names its destination; the source it reads is unknown.
      variant({
        eventSource: 's3.amazonaws.com',
        eventName: 'CopyObject',
        requestParameters: { bucketName: 'destination', key: 'k', 'x-amz-copy-source': 'source/k' },
        resources: [{ type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::destination/k' }]
      }),
      // An event source no IAM service matches.
      variant({ eventSource: 'brand-new-service.amazonaws.com', eventName: 'DoSomething' })
    ]
    files.write(
      'AWSLogs/123837392027/CloudTrail/us-east-1/2023/07/10/variants.json',
      JSON.stringify({ Records: records })
    )
    scan = await scanCloudTrail({ path: files.dir })
  })
  afterAll(() => files.remove())

  test('a denial that names another service still proves the call; one that names its own does not', () => {
    const usage = scan.roles.get(ROLE)
    const used = usage?.actions.map(a => a.action)
    expect(used).toContain('ssm:UpdateInstanceInformation')
    expect(used).not.toContain('ssm:PutInventory')
    expect(usage?.evidence.deniedCalls).toBe(1)
  })

  test('VPC endpoint network activity is not a call of the role', () => {
    expect(scan.roles.get(ROLE)?.actions.map(a => a.action)).not.toContain('ssm:ListAssociations')
  })

  test('the source of a copy is unknown, so the read it needs is never narrowed to the destination', () => {
    const actions = scan.roles.get(ROLE)?.actions ?? []
    expect(actions.find(a => a.action === 's3:GetObject')?.resources).toEqual(['*'])
    expect(actions.find(a => a.action === 's3:PutObject')?.resources).toEqual(['arn:aws:s3:::destination/k'])
  })

  test('calls from an event source no IAM service matches make the usage incomplete', () => {
    const usage = scan.roles.get(ROLE)
    expect(usage?.complete).toBe(false)
    expect(usage?.evidence.notes.join(' ')).toMatch(/brand-new-service\.amazonaws\.com/)
  })
})

describe('records of an assumed role without a session issuer', () => {
  const files = tempDir()
  afterAll(() => files.remove())

  test('count for the role the session ARN names, joining the ARN with the path from the other records', async () => {
    const pathed = 'arn:aws:iam::123837392027:role/service-role/stratus-red-team-ec2-steal-credentials-role'
    const withPath = variant() as TrailRecord & {
      userIdentity: { sessionContext: { sessionIssuer: { arn: string } } }
    }
    withPath.userIdentity.sessionContext.sessionIssuer.arn = pathed
    // Derived in code: the same call recorded without its session context, as some records of assumed roles are.
    const withoutIssuer = variant() as TrailRecord & { userIdentity: Record<string, unknown> }
    delete withoutIssuer.userIdentity.sessionContext
    withoutIssuer.eventName = 'PutInventory'
    files.write('issuer.json', JSON.stringify({ Records: [withPath, withoutIssuer] }))
    const scan = await scanCloudTrail({ path: files.dir })
    expect(scan.rolesSeen).toEqual([pathed])
    expect(scan.roles.get(pathed)?.actions.map(a => a.action)).toEqual([
      'ssm:PutInventory',
      'ssm:UpdateInstanceInformation'
    ])
  })
})
