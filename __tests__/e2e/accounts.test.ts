/**
 * End to end, many accounts: the committed dist/index.js against one emulated AWS account per id behind one
 * endpoint, the GitHub emulator and the OIDC token endpoint. Three member accounts: one analyzed, one whose role
 * cannot be assumed, one out of its daily Access Analyzer quota; the next run picks up the roles that waited.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import type { JsonReportV1 } from '../../src/report/json.js'
import { expectSecretsMasked } from '../support/action-world.js'
import type { AwsAccounts } from '../support/aws-accounts.js'
import type { GitHubEmulator } from '../support/github-emulator.js'
import {
  denyAssumeRole,
  MEMBER_ROLE,
  memberAccounts,
  spendGenerationQuota,
  startGitHubWithOidc
} from '../support/member-accounts.js'
import type { OidcTokenServer } from '../support/oidc-token-server.js'
import { outputFile, runAction } from '../support/run-action.js'

const HUB = '111111111111'
const OK = '222222222222'
const DENIED = '333333333333'
const NO_QUOTA = '444444444444'
const BRANCH = 'iam-least-privilege/proposals'

let aws: AwsAccounts
let github: GitHubEmulator
let oidc: OidcTokenServer
let env: Record<string, string>

beforeAll(async () => {
  if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run npm run bundle')
  aws = memberAccounts(HUB, [OK, DENIED, NO_QUOTA], {
    otherRoles: ['github-member'],
    appRoles: ['app-api', 'app-worker'],
    grant: ['ec2:DescribeInstances', 'ec2:TerminateInstances'],
    used: ['ec2:DescribeInstances'],
    emulator: { pollsInProgress: 1 }
  })
  aws.hub.addRole({ name: 'github-hub' })
  aws.hub.addRole({ name: MEMBER_ROLE })
  aws.hub.addTrail({ name: 'organization', region: 'us-east-1' })
  for (const id of [HUB, OK, DENIED, NO_QUOTA]) aws.account(id).oidc.subject = 'repo:octo-org/infra:*'
  await aws.start()
  const started = await startGitHubWithOidc(aws)
  github = started.github
  oidc = started.oidc
  env = { ...started.env, GITHUB_RUN_ID: '777' }
})
afterAll(async () => {
  await aws.stop()
  await github.close()
  await oidc.stop()
})

const common = {
  roles: 'app-*',
  'aws-region': 'us-east-1',
  'trail-arn': `arn:aws:cloudtrail:us-east-1:${HUB}:trail/organization`,
  'access-role-arn': 'arn:aws:iam::{account}:role/service-role/AccessAnalyzerMonitorServiceRole',
  'min-observation-days': '0',
  'github-token': 'ghs_emulated_token',
  mode: 'pull-request'
}

function report(run: { outputs: Record<string, string> }): JsonReportV1 {
  return JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
}

describe('dist/index.js with many accounts', () => {
  it('hub and members: one pull request for every account; a denied account fails alone; the quota-less one waits, then is picked up', async () => {
    denyAssumeRole(aws.account(DENIED))
    spendGenerationQuota(aws.account(NO_QUOTA), 10)
    const inputs = {
      ...common,
      'role-to-assume': `arn:aws:iam::${HUB}:role/github-hub`,
      'member-role': 'arn:aws:iam::{account}:role/iam-least-privilege-member',
      accounts: 'organization'
    }
    const first = await runAction({ node: 'node20', inputs, env })
    expectSecretsMasked(first.stdout)
    expect(first.code).toBe(1)
    expect(first.stdout).toMatch(
      new RegExp(
        `::error::.*account ${DENIED}: could not assume arn:aws:iam::${DENIED}:role/iam-least-privilege-member`
      )
    )
    const one = report(first)
    const status = (id: string) =>
      one.roles.filter(r => r.arn.includes(`::${id}:`)).map(r => `${r.status}${r.waiting ? ' waiting' : ''}`)
    expect(status(OK)).toEqual(['analyzed', 'analyzed'])
    expect(status(DENIED)).toEqual(['failed'])
    expect(status(NO_QUOTA)).toEqual(['skipped waiting', 'skipped waiting'])
    // The hub account has no app-* role: a pattern that matches in other accounts is no failure there.
    expect(status(HUB)).toEqual([])
    expect(github.pullRequests()).toHaveLength(1)
    expect(github.readFile(BRANCH, `iam/least-privilege/${OK}/app-api.json`)).toBeDefined()
    expect(github.readFile(BRANCH, `iam/least-privilege/${NO_QUOTA}/app-api.json`)).toBeUndefined()

    // The next run: the quota is back; the waiting roles are judged, the others reuse their generations.
    aws.account(NO_QUOTA).clearFaults()
    const startsBefore = aws.account(OK).count('StartPolicyGeneration')
    const second = await runAction({ node: 'node20', inputs, env })
    const two = report(second)
    expect(two.roles.filter(r => r.arn.includes(`::${NO_QUOTA}:`)).map(r => r.status)).toEqual([
      'analyzed',
      'analyzed'
    ])
    expect(aws.account(OK).count('StartPolicyGeneration')).toBe(startsBefore)
    expect(github.pullRequests()).toHaveLength(1)
    for (const id of [OK, NO_QUOTA])
      for (const role of ['app-api', 'app-worker'])
        expect(github.readFile(BRANCH, `iam/least-privilege/${id}/${role}.json`)).toContain(
          'ec2:DescribeInstances'
        )
    aws.account(DENIED).clearFaults()
  })

  it('one OIDC exchange per account', async () => {
    const inputs = {
      ...common,
      mode: 'report',
      roles: `arn:aws:iam::${OK}:role/app-api\narn:aws:iam::${DENIED}:role/app-api`,
      'role-to-assume': 'arn:aws:iam::{account}:role/github-member'
    }
    aws.account(DENIED).oidc.subject = 'repo:octo-org/other:*'
    const run = await runAction({ node: 'node20', inputs, env })
    aws.account(DENIED).oidc.subject = 'repo:octo-org/infra:*'
    expectSecretsMasked(run.stdout)
    const result = report(run)
    expect(result.roles.map(r => r.status)).toEqual(['analyzed', 'failed'])
    expect(result.roles[1]?.reason).toMatch(
      /^account 333333333333: Could not assume .*its trust policy does not admit this workflow/
    )
    expect(aws.account(OK).count('AssumeRoleWithWebIdentity')).toBeGreaterThanOrEqual(1)
  })
})
