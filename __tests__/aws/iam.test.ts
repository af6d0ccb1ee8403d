import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { IAMClient } from '@aws-sdk/client-iam'
import { GrantedPolicyReader, resolveRoles } from '../../src/aws/iam.js'
import type { ResolvedRole } from '../../src/aws/iam.js'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleSelector } from '../../src/model.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { STRATUS_ROLES, awsManagedDocument } from '../support/aws-emulator-seed.js'
import { iamClient } from '../support/aws-test-clients.js'
import { at } from '../../src/policy/at.js'

const ACCOUNT = '111122223333'
// Partial pages of one or two items: every list call crosses several Marker pages.
const emulator = new AwsEmulator({ pageSize: 2, partialPages: true })
let client: IAMClient
const log = new MemoryLogger()

const byName = (input: string): RoleSelector => ({ kind: 'name', input })
const byArn = (name: string, path = '/', account = ACCOUNT): RoleSelector => ({
  kind: 'arn',
  input: `arn:aws:iam::${account}:role${path}${name}`,
  accountId: account,
  name,
  path
})

const TRICKY = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'Odd', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bucket/a b+c%20&<d>/é*' },
    {
      Effect: 'Deny',
      NotAction: ['iam:*'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
    }
  ]
}

beforeAll(async () => {
  emulator.addRole({ name: 'tricky-role', inline: { tricky: JSON.stringify(TRICKY, null, 3) } })
  emulator.addRole({
    name: 'many-policies-role',
    inline: {
      a: { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'sqs:SendMessage', Resource: '*' } },
      b: TRICKY,
      c: TRICKY
    },
    attached: [
      'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
      `arn:aws:iam::${ACCOUNT}:policy/boundary`
    ],
    boundary: `arn:aws:iam::${ACCOUNT}:policy/boundary`
  })
  emulator.addManagedPolicy({
    arn: `arn:aws:iam::${ACCOUNT}:policy/boundary`,
    document: {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ec2:*', 'ssm:*'], Resource: '*' }]
    }
  })
  emulator.addRole({
    name: 'broken-role',
    inline: { 'half-written': '{"Version":"2012-10-17","Statement":[' }
  })
  const { url } = await emulator.start()
  client = iamClient(url)
})

afterAll(async () => {
  client.destroy()
  await emulator.stop()
})

describe('resolveRoles', () => {
  it('resolves ARNs, names and * patterns (paginated ListRoles); unknown roles fail alone', async () => {
    const { roles, failures } = await resolveRoles(
      client,
      [
        byArn(STRATUS_ROLES.stealCredentials),
        byName(STRATUS_ROLES.leaveOrg),
        { kind: 'pattern', input: 'stratus-red-team-ec2-*' },
        byName('no-such-role'),
        byArn(STRATUS_ROLES.leaveOrg, '/', '999999999999'),
        { kind: 'pattern', input: 'nothing-*' }
      ],
      log
    )
    expect(roles.map(r => r.name)).toEqual([
      STRATUS_ROLES.stealCredentials,
      STRATUS_ROLES.leaveOrg,
      STRATUS_ROLES.enumerate,
      STRATUS_ROLES.getPasswordData
    ])
    expect(roles[0]).toMatchObject({
      arn: `arn:aws:iam::${ACCOUNT}:role/${STRATUS_ROLES.stealCredentials}`,
      accountId: ACCOUNT,
      editable: true
    })
    expect(failures).toEqual([
      {
        input: 'no-such-role',
        reason: 'role "no-such-role" does not exist in this account (IAM NoSuchEntity)'
      },
      expect.objectContaining({
        input: `arn:aws:iam::999999999999:role/${STRATUS_ROLES.leaveOrg}`,
        reason: expect.stringMatching(/check the account id/)
      }),
      { input: 'nothing-*', reason: 'no role name matches the pattern "nothing-*"' }
    ])
    // The ListRoles pages were all read (several Marker pages) and only once for the pattern.
    expect(emulator.count('ListRoles')).toBeGreaterThan(3)
  })

  it('marks service-linked and IAM Identity Center roles as not editable, with the reason', async () => {
    const { roles } = await resolveRoles(client, [{ kind: 'pattern', input: 'AWS*' }], log)
    expect(roles.map(r => [r.name, r.editable, r.notEditableReason])).toEqual([
      [STRATUS_ROLES.rdsServiceLinked, false, 'service-linked role: AWS owns and maintains its policies'],
      [
        STRATUS_ROLES.sso,
        false,
        'IAM Identity Center role: edit its permission set in IAM Identity Center instead'
      ]
    ])
  })
})

describe('GrantedPolicyReader', () => {
  async function resolve(name: string): Promise<ResolvedRole> {
    const { roles } = await resolveRoles(client, [byName(name)], log)
    return at(roles, 0)
  }

  it('reads inline and managed policies, URL-decoded, with provenance', async () => {
    const reader = new GrantedPolicyReader(client, log)
    const grants = await reader.readRoleGrants(await resolve(STRATUS_ROLES.stealCredentials))
    expect(grants.policies).toEqual([
      {
        name: 'AmazonSSMManagedInstanceCore',
        arn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
        kind: 'managed',
        awsManaged: true,
        document: awsManagedDocument('AmazonSSMManagedInstanceCore'),
        origin: 'iam'
      },
      {
        name: 'ec2-describe',
        kind: 'inline',
        awsManaged: false,
        document: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }]
        },
        origin: 'iam'
      }
    ])
    expect(grants).toMatchObject({ editable: true, accountId: ACCOUNT, path: '/' })
    expect(grants.boundary).toBeUndefined()
  })

  it('decodes documents with reserved and non-ASCII characters exactly', async () => {
    const grants = await new GrantedPolicyReader(client, log).readRoleGrants(await resolve('tricky-role'))
    expect(grants.policies[0]?.document).toEqual(TRICKY)
  })

  it('reads every page, the boundary, and each managed document once across roles', async () => {
    const reader = new GrantedPolicyReader(client, log)
    const before = emulator.count('GetPolicyVersion')
    const many = await reader.readRoleGrants(await resolve('many-policies-role'))
    await reader.readRoleGrants(await resolve(STRATUS_ROLES.enumerate))
    await reader.readRoleGrants(await resolve(STRATUS_ROLES.stealCredentials))

    expect(many.policies.map(p => `${p.kind}:${p.name}`)).toEqual([
      'managed:AmazonSSMManagedInstanceCore',
      'managed:boundary',
      'inline:a',
      'inline:b',
      'inline:c'
    ])
    expect(many.boundary).toMatchObject({ kind: 'boundary', name: 'boundary', awsManaged: false })
    // Two distinct managed policies (SSM core shared by three roles, the boundary used twice): two reads.
    expect(emulator.count('GetPolicyVersion') - before).toBe(2)
  })

  it('fails only the role whose document is malformed, naming the policy', async () => {
    const reader = new GrantedPolicyReader(client, log)
    await expect(reader.readRoleGrants(await resolve('broken-role'))).rejects.toThrow(
      /^role arn:aws:iam::111122223333:role\/broken-role: inline policy half-written: the document is not valid JSON/
    )
    const other = await reader.readRoleGrants(await resolve(STRATUS_ROLES.leaveOrg))
    expect(other.name).toBe(STRATUS_ROLES.leaveOrg)
  })

  it('reports the service-linked role with its real granted policy as not editable', async () => {
    const { roles } = await resolveRoles(
      client,
      [byArn(STRATUS_ROLES.rdsServiceLinked, '/aws-service-role/rds.amazonaws.com/')],
      log
    )
    const role = at(roles, 0)
    const grants = await new GrantedPolicyReader(client, log).readRoleGrants(role)
    expect(grants).toMatchObject({
      editable: false,
      notEditableReason: 'service-linked role: AWS owns and maintains its policies',
      path: '/aws-service-role/rds.amazonaws.com/'
    })
    expect(grants.policies[0]).toMatchObject({ name: 'AmazonRDSServiceRolePolicy', awsManaged: true })
  })
})
