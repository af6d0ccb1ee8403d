/**
 * IAM users analyzed like roles: the `users` input and `user/` ARNs in `roles`, read from the emulator's IAM with the
 * real SDK (GetUser, ListUsers, ListAttachedUserPolicies, ListUserPolicies, GetUserPolicy), judged on unused-access
 * findings and on Access Analyzer policy generation, their proposals under `users/` in the policy-path layout.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildCliConfig, ConfigError } from '../../src/config.js'
import type { RoleResult } from '../../src/model.js'
import { excessActions } from '../../src/policy/excess.js'
import { roleKey } from '../../src/roles.js'
import { runAnalysis } from '../../src/run.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { emulatedDeps } from '../support/analysis-in-process.js'
import { unobservableActionList } from '../../src/policy/action-groups.js'

const NOW = Date.now()
const ACCOUNT = '111122223333'

describe('IAM users', () => {
  const aws = new AwsEmulator({ now: () => NOW, pageSize: 1 })
  const saved = { ...process.env }
  let alice = ''
  beforeAll(async () => {
    await aws.start()
    Object.assign(process.env, aws.env(), { AWS_EC2_METADATA_DISABLED: 'true' })
    const statement = (Action: string[]) => ({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action, Resource: '*' }]
    })
    alice = aws.users.addUser({
      name: 'alice',
      path: '/people/',
      inline: { deploy: statement(['s3:PutObject', 'sqs:SendMessage']), tools: statement(['kms:Decrypt']) }
    })
    aws.users.addUser({ name: 'ci-bot', inline: { ci: statement(['ecr:PutImage', 'ecr:DeleteRepository']) } })
    // A role with a user's name is another principal.
    aws.addRole({ name: 'alice', inline: { role: statement(['sns:Publish']) } })
    const analyzerArn = aws.unusedAccess.addAnalyzer({ name: 'unused' })
    aws.unusedAccess.addFinding({
      analyzerArn,
      resource: alice,
      resourceType: 'AWS::IAM::User',
      findingType: 'UnusedPermission',
      services: [{ serviceNamespace: 'sqs' }]
    })
  })
  afterAll(async () => {
    process.env = saved
    await aws.stop()
  })

  async function run(inputs: Record<string, string>): Promise<Map<string, RoleResult>> {
    const config = buildCliConfig(name => ({ 'min-observation-days': '30', ...inputs })[name], {})
    const report = await runAnalysis(
      config,
      emulatedDeps(config, () => new Date(NOW))
    )
    return new Map(report.roles.map(r => [r.arn, r]))
  }

  it('parses users by name, pattern and ARN, and user ARNs in roles; refuses a role ARN in users', () => {
    const config = buildCliConfig(
      name =>
        ({
          source: 'unused-access',
          roles: `arn:aws:iam::${ACCOUNT}:user/people/alice`,
          users: 'ci-*\nbob'
        })[name],
      {}
    )
    expect(config.roles).toEqual([
      {
        kind: 'arn',
        input: `arn:aws:iam::${ACCOUNT}:user/people/alice`,
        accountId: ACCOUNT,
        path: '/people/',
        name: 'alice',
        principal: 'user'
      },
      { kind: 'pattern', input: 'ci-*', principal: 'user' },
      { kind: 'name', input: 'bob', principal: 'user' }
    ])
    const parse = (users: string) => () =>
      buildCliConfig(name => ({ source: 'unused-access', users })[name], {})
    expect(parse(`arn:aws:iam::${ACCOUNT}:role/app`)).toThrow(ConfigError)
    expect(parse(`arn:aws:iam::${ACCOUNT}:role/app`)).toThrow(/^users: ".*" is not a valid IAM user ARN/)
    expect(roleKey(alice)).not.toBe(roleKey(aws.roleArn('alice')))
  })

  it('judges users on their findings like roles, with proposals under users/', async () => {
    const results = await run({
      source: 'unused-access',
      roles: 'alice',
      users: `${alice}\nci-*\nnobody`
    })
    const user = results.get(alice)
    expect(user?.status).toBe('analyzed')
    expect(user && excessActions(user.excess).map(e => e.action)).toEqual(['sqs:SendMessage'])
    expect(user?.policyFile).toBe(`iam/least-privilege/${ACCOUNT}/users/alice.json`)
    expect(JSON.stringify(user?.proposed)).toContain('s3:PutObject')
    expect(JSON.stringify(user?.proposed)).not.toContain('sqs:')

    const role = results.get(aws.roleArn('alice'))
    expect(role?.status).toBe('analyzed')
    expect(role?.policyFile).toBe(`iam/least-privilege/${ACCOUNT}/alice.json`)

    const bot = results.get(`arn:aws:iam::${ACCOUNT}:user/ci-bot`)
    expect(bot?.status).toBe('analyzed')
    expect((bot ? unobservableActionList(bot.unobservable) : undefined)?.map(u => u.action)).toEqual([
      'ecr:DeleteRepository',
      'ecr:PutImage'
    ])
    expect(results.get('nobody')?.reason).toBe(
      'user "nobody" does not exist in this account (IAM NoSuchEntity)'
    )
    expect(aws.count('ListUsers')).toBe(2)
  })

  it('asks Access Analyzer policy generation for a user', async () => {
    aws.setGeneration(alice, {
      actions: [{ action: 's3:PutObject' }, { action: 'kms:Decrypt' }],
      isComplete: true
    })
    const results = await run({
      source: 'access-analyzer',
      users: 'alice',
      'trail-arn': `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/management-events`,
      'access-role-arn': aws.roleArn('AccessAnalyzerMonitorServiceRole', '/service-role/')
    })
    const user = results.get(alice)
    expect(user?.reason).toBeUndefined()
    expect(user?.status).toBe('analyzed')
    expect(user?.used).toEqual(['kms:Decrypt', 's3:PutObject'])
    // Policy generation does not analyze SQS data events; the unused-access finding above did judge it.
    expect((user ? unobservableActionList(user.unobservable) : undefined)?.map(u => u.action)).toEqual([
      'sqs:SendMessage'
    ])
    const started = aws.requests.find(r => r.operation === 'StartPolicyGeneration')
    expect(started?.params.policyGenerationDetails).toEqual({ principalArn: alice })
  })

  it("attributes a user's own calls in local CloudTrail files to the user", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'users-trail-'))
    try {
      const record = {
        eventVersion: '1.08',
        userIdentity: { type: 'IAMUser', arn: alice, accountId: ACCOUNT, userName: 'alice' },
        eventTime: new Date(NOW - 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        eventSource: 's3.amazonaws.com',
        eventName: 'PutObject',
        awsRegion: 'us-east-1'
      }
      writeFileSync(join(dir, 'log.json'), JSON.stringify({ Records: [record] }))
      const results = await run({
        source: 'cloudtrail',
        'cloudtrail-path': dir,
        users: 'alice',
        'min-observation-days': '0'
      })
      expect(results.get(alice)).toMatchObject({ status: 'analyzed', used: ['s3:PutObject'] })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
