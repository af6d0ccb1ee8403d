/**
 * Calls made with an IAM user's own credentials (userIdentity.type IAMUser) are that user's usage, judged as a role's
 * calls are. The records are derived in code from a real record of the sample's user bert-jan (a kms:Decrypt); the
 * sample files themselves are never edited.
 */
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'
import { INVICTUS, invictusRecords, tempDir } from './trail-fixtures.js'
import type { TrailRecord } from './trail-fixtures.js'

const ACCOUNT = '123837392027'
const USER = `arn:aws:iam::${ACCOUNT}:user/bert-jan`
const PATH_USER = `arn:aws:iam::${ACCOUNT}:user/engineering/alice`
/** A role with the user's name: another principal. */
const ROLE = `arn:aws:iam::${ACCOUNT}:role/bert-jan`

const userArn = (r: TrailRecord) => (r.userIdentity as { arn?: unknown } | undefined)?.arn
const real = invictusRecords().find(
  r => userArn(r) === USER && r.eventName === 'Decrypt' && r.errorCode === undefined
)
if (!real) throw new Error('the sample has no authorized kms:Decrypt of the user bert-jan')
const realIdentity = real.userIdentity as Record<string, unknown>
const variant = (changes: Record<string, unknown>, identity: Record<string, unknown> = {}): TrailRecord => ({
  ...structuredClone(real),
  ...changes,
  userIdentity: { ...structuredClone(realIdentity), ...identity }
})

describe('IAM users in CloudTrail records', () => {
  const files = tempDir()
  let scan: CloudTrailScan
  beforeAll(async () => {
    const records = [
      variant({ eventTime: '2023-07-10T10:00:00Z' }),
      variant({ eventTime: '2023-07-10T11:00:00Z', eventName: 'Encrypt' }),
      // Denied for its own action: not usage.
      variant({
        eventName: 'GenerateDataKey',
        errorCode: 'AccessDeniedException',
        errorMessage: `User: ${USER} is not authorized to perform: kms:GenerateDataKey`
      }),
      // A user with a path: its ARN in the record has the path, as IAM writes it.
      variant(
        { eventTime: '2023-07-11T09:30:00Z', eventName: 'ListKeys' },
        { arn: PATH_USER, userName: 'alice', principalId: 'AIDAEXAMPLEALICE' }
      ),
      // A federated session issued by the user (GetFederationToken) is another principal.
      variant(
        { eventName: 'ListAliases' },
        {
          type: 'FederatedUser',
          arn: `arn:aws:sts::${ACCOUNT}:federated-user/bert`,
          sessionContext: { sessionIssuer: { type: 'IAMUser', arn: USER } }
        }
      ),
      // A role of the same name is not the user.
      variant(
        { eventName: 'DescribeKey' },
        {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/bert-jan/session`,
          sessionContext: { sessionIssuer: { type: 'Role', arn: ROLE } }
        }
      ),
      // Hostile: an IAMUser record whose ARN is not a user's attributes nothing.
      variant({ eventName: 'ListGrants' }, { arn: `arn:aws:iam::${ACCOUNT}:role/not-a-user` })
    ]
    files.write(
      `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2023/07/10/users.json`,
      JSON.stringify({ Records: records })
    )
    scan = await scanCloudTrail({ path: files.dir, workers: 0 })
  })
  afterAll(() => files.remove())

  test('are attributed to the user ARN, path included, next to roles', () => {
    expect(scan.rolesSeen).toEqual([ROLE, PATH_USER, USER].sort())
    expect([...scan.roles.keys()].sort()).toEqual([ROLE, PATH_USER, USER].sort())
  })

  test('are classified as a role’s calls are: authorized calls used and dated, denied ones not', () => {
    const usage = scan.roles.get(USER)
    expect(usage?.source).toBe('cloudtrail')
    expect(usage?.actions).toEqual([
      {
        action: 'kms:Decrypt',
        resources: expect.any(Array) as unknown,
        count: 1,
        firstSeen: '2023-07-10T10:00:00.000Z',
        lastSeen: '2023-07-10T10:00:00.000Z'
      },
      {
        action: 'kms:Encrypt',
        resources: expect.any(Array) as unknown,
        count: 1,
        firstSeen: '2023-07-10T11:00:00.000Z',
        lastSeen: '2023-07-10T11:00:00.000Z'
      }
    ])
    expect(usage?.evidence.deniedCalls).toBe(1)
    expect(scan.roles.get(PATH_USER)?.actions.map(a => a.action)).toEqual(['kms:ListKeys'])
  })

  test('federated sessions, a role of the same name and a malformed user ARN are not the user', () => {
    const used = scan.roles.get(USER)?.actions.map(a => a.action)
    expect(used).not.toContain('kms:ListAliases')
    expect(used).not.toContain('kms:DescribeKey')
    expect(used).not.toContain('kms:ListGrants')
    expect(scan.roles.get(ROLE)?.actions.map(a => a.action)).toEqual(['kms:DescribeKey'])
  })
})

describe('IAM users in the real records', () => {
  test('every IAMUser record of the sample names its user, who is seen with the calls it made', async () => {
    const scan = await scanCloudTrail({ path: INVICTUS, workers: 0 })
    expect(scan.rolesSeen).toContain(USER)
    const usage = scan.roles.get(USER)
    const used = usage?.actions.map(a => a.action) ?? []
    expect(used).toEqual(expect.arrayContaining(['kms:Decrypt', 'ec2:DescribeRouteTables', 'iam:GetUser']))
    for (const a of usage?.actions ?? [])
      expect(a.firstSeen && a.lastSeen && a.firstSeen <= a.lastSeen).toBe(true)
  })
})
