/**
 * Many accounts in one run, in process: runAnalysis with the real SDK against one emulated AWS account per account
 * id behind one endpoint (requests go to the account their credentials belong to), and Organizations.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { createAwsSession } from '../../src/aws/session.js'
import { buildActionConfig, buildCliConfig, ConfigError } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleResult } from '../../src/model.js'
import { evaluateGate } from '../../src/report/gate.js'
import { judgeRun } from '../../src/report/run-verdict.js'
import { runAnalysis } from '../../src/run.js'
import type { AwsAccounts } from '../support/aws-accounts.js'
import {
  byAccount,
  denyAssumeRole,
  MEMBER_ROLE,
  memberAccounts,
  spendGenerationQuota
} from '../support/member-accounts.js'
import { encodeJwt, GITHUB_OIDC_ISSUER } from '../support/oidc-token-server.js'

const HUB = '111111111111'
const OK = '222222222222'
const DENIED = '333333333333'
const NO_QUOTA = '444444444444'
const OIDC_ROLE = 'github-iam-least-privilege'
const TRAIL = `arn:aws:cloudtrail:us-east-1:${HUB}:trail/organization`
const GITHUB_ENV = { GITHUB_REPOSITORY: 'octo-org/infra', GITHUB_RUN_ID: '4242' }

let world: AwsAccounts
const saved = { ...process.env }

beforeAll(async () => {
  world = memberAccounts(HUB, [OK, DENIED, NO_QUOTA], {
    otherRoles: [OIDC_ROLE],
    appRoles: ['app-api'],
    grant: ['ec2:DescribeInstances', 'ec2:TerminateInstances'],
    used: ['ec2:DescribeInstances'],
    emulator: { pollsInProgress: 1 }
  })
  await world.start()
  Object.assign(process.env, world.env(), { AWS_EC2_METADATA_DISABLED: 'true' })
})
afterAll(async () => {
  process.env = saved
  await world.stop()
})

function cliConfig(inputs: Record<string, string>): Config {
  return buildCliConfig(name => inputs[name], {})
}

const BASE = {
  roles: 'app-*',
  'trail-arn': TRAIL,
  'access-role-arn': 'arn:aws:iam::{account}:role/service-role/AccessAnalyzerMonitorServiceRole',
  'min-observation-days': '0',
  validate: 'false'
}

async function analyze(config: Config, getIdToken?: (audience: string) => Promise<string>) {
  const log = new MemoryLogger()
  const env = { ...process.env, ...GITHUB_ENV, ACTIONS_ID_TOKEN_REQUEST_URL: 'http://127.0.0.1:1/token' }
  const aws = createAwsSession(config, { log, env, ...(getIdToken ? { getIdToken } : {}) })
  const report = await runAnalysis(config, { log, aws, sleep: () => Promise.resolve() })
  return { report, log }
}

describe('many accounts from a hub session (member-role)', () => {
  it('judges each account on its own: one analyzed, one denied, one waiting for the quota', async () => {
    denyAssumeRole(world.account(DENIED))
    spendGenerationQuota(world.account(NO_QUOTA), 5)
    const config = cliConfig({
      ...BASE,
      accounts: `${OK}\n${DENIED}\n${NO_QUOTA}`,
      'member-role': `arn:aws:iam::{account}:role/${MEMBER_ROLE}`
    })
    const { report, log } = await analyze(config)
    const roles = byAccount(report)
    expect([...roles.keys()].sort()).toEqual([OK, DENIED, NO_QUOTA])

    const ok = roles.get(OK)
    expect(ok?.status).toBe('analyzed')
    expect(ok?.used).toEqual(['ec2:DescribeInstances'])
    expect(ok?.excess.count).toBe(1)
    expect(ok?.policyFile).toBe(`iam/least-privilege/${OK}/app-api.json`)
    expect(ok?.lastJudged).toBeDefined()

    const denied = roles.get(DENIED)
    expect(denied?.status).toBe('failed')
    expect(denied?.reason).toMatch(
      new RegExp(
        `^account ${DENIED}: could not assume arn:aws:iam::${DENIED}:role/${MEMBER_ROLE} from the hub session \\(AccessDenied: not trusted\\)`
      )
    )

    const waiting = roles.get(NO_QUOTA)
    expect(waiting).toMatchObject({ status: 'skipped', waiting: true })
    expect(waiting?.reason).toMatch(/^waits for a later run \(never judged\)/)

    // Each member session is named and tagged after the repository and the run, and every key is masked.
    const assumed = world.account(OK).requests.filter(r => r.operation === 'AssumeRole')
    expect(assumed).toHaveLength(1)
    expect(assumed[0]?.params).toMatchObject({
      RoleArn: `arn:aws:iam::${OK}:role/${MEMBER_ROLE}`,
      RoleSessionName: 'iam-least-privilege@octo-org+infra@4242',
      'Tags.member.1.Key': 'repository',
      'Tags.member.1.Value': 'octo-org/infra',
      'Tags.member.2.Key': 'run-id',
      'Tags.member.2.Value': '4242'
    })
    expect(log.secrets.filter(s => s.startsWith('ASIA'))).toHaveLength(2)
    // Each account's Access Analyzer was asked with that account's access role.
    const started = world.account(OK).requests.find(r => r.operation === 'StartPolicyGeneration')
    expect(JSON.stringify(started?.params)).toContain(
      `arn:aws:iam::${OK}:role/service-role/AccessAnalyzerMonitorServiceRole`
    )

    // The denied account fails the run; the waiting one does not, nor does it trip the gate.
    expect(judgeRun(report, 'never').exitCode).toBe(1)
    const withoutDenied = { ...report, roles: report.roles.filter(r => r !== denied) }
    expect(judgeRun(withoutDenied, 'excess').message).toMatch(
      /^fail-on excess: 1 role grants 1 excess action/
    )
    expect(evaluateGate({ ...withoutDenied, roles: [waiting as RoleResult] }, 'excess').tripped).toBe(false)
    world.account(NO_QUOTA).clearFaults()
  })

  it('lists every active account of the organization, across pages', async () => {
    world.otherAccounts.push({ id: '555555555555', state: 'SUSPENDED' })
    const config = cliConfig({
      ...BASE,
      accounts: 'organization',
      'member-role': `arn:aws:iam::{account}:role/${MEMBER_ROLE}`
    })
    const { report } = await analyze(config)
    expect(world.organizationRequests.filter(r => r.operation === 'ListAccounts').length).toBeGreaterThan(1)
    const roles = byAccount(report)
    // The hub account has no member role: it is reported, the others analyzed; the suspended one is left out.
    expect([...roles.keys()].sort()).toEqual([HUB, OK, DENIED, NO_QUOTA])
    expect(roles.get(HUB)?.reason).toMatch(/^account 111111111111: could not assume/)
    expect(roles.get(OK)?.status).toBe('analyzed')
    world.otherAccounts.length = 0
  })
})

describe('one OIDC exchange per account (role-to-assume with {account})', () => {
  it('exchanges the GitHub token in each account; an account without the provider fails alone', async () => {
    world.account(DENIED).oidc.providerExists = false
    const config = buildActionConfig(
      name =>
        ({
          ...BASE,
          roles: `arn:aws:iam::${OK}:role/app-api\narn:aws:iam::${DENIED}:role/app-api`,
          'role-to-assume': `arn:aws:iam::{account}:role/${OIDC_ROLE}`
        })[name],
      {}
    )
    const token = encodeJwt({
      iss: GITHUB_OIDC_ISSUER,
      aud: 'sts.amazonaws.com',
      sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
      exp: Math.floor(Date.now() / 1000) + 600,
      iat: Math.floor(Date.now() / 1000)
    })
    const { report } = await analyze(config, () => Promise.resolve(token))
    world.account(DENIED).oidc.providerExists = true
    const roles = byAccount(report)
    expect(roles.get(OK)?.status).toBe('analyzed')
    expect(roles.get(DENIED)?.reason).toMatch(
      /^account 333333333333: Could not assume .*STS rejected the GitHub OIDC token/
    )
    expect(world.account(OK).count('AssumeRoleWithWebIdentity')).toBe(1)
  })
})

describe('configuration of many accounts', () => {
  const refuse = (inputs: Record<string, string>, input: string, message: RegExp) => {
    let error: unknown
    try {
      cliConfig({ ...BASE, ...inputs })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).input).toBe(input)
    expect((error as ConfigError).message).toMatch(message)
  }

  it('refuses bad ids, {account} with nothing to fill it, member-role without {account}, and accounts without a way in', () => {
    refuse(
      { accounts: '12345', 'member-role': 'arn:aws:iam::{account}:role/x' },
      'accounts',
      /^accounts: "12345" is not a 12-digit AWS account id/
    )
    refuse(
      { accounts: `organization\n${OK}`, 'member-role': 'arn:aws:iam::{account}:role/x' },
      'accounts',
      /organization already means every active account/
    )
    refuse(
      { 'member-role': 'arn:aws:iam::{account}:role/x' },
      'member-role',
      /\{account\} needs accounts to fill it in/
    )
    refuse({ accounts: OK, 'member-role': `arn:aws:iam::${OK}:role/x` }, 'member-role', /has no \{account\}/)
    refuse({ accounts: OK }, 'accounts', /each account needs its own credentials; set member-role/)
    refuse(
      { accounts: OK, 'member-role': 'arn:aws:iam::{acount}:role/x' },
      'member-role',
      /is not a role ARN/
    )
    refuse(
      { 'access-role-arn': 'arn:aws:iam::{account}:role/x' },
      'access-role-arn',
      /only applies with many accounts/
    )
  })
})
