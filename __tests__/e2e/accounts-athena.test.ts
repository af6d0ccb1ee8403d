/**
 * End to end, source: athena over many accounts: the committed dist/index.js with a hub role from OIDC and member roles
 * assumed from it (one emulated AWS account per id behind one endpoint), the Athena emulator (SQL run in DuckDB) and
 * the GitHub emulator. One query for every account, one report and one pull request; a denied account fails alone.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import type { JsonReportV1 } from '../../src/report/json.js'
import { expectSecretsMasked } from '../support/action-world.js'
import { AthenaEmulator } from '../support/athena-emulator.js'
import type { AwsAccounts } from '../support/aws-accounts.js'
import type { GitHubEmulator } from '../support/github-emulator.js'
import { denyAssumeRole, memberAccounts, startGitHubWithOidc } from '../support/member-accounts.js'
import type { OidcTokenServer } from '../support/oidc-token-server.js'
import { roleSessionRecord } from '../support/role-session-record.js'
import { outputFile, runAction } from '../support/run-action.js'

const HUB = '111111111111'
const A = '222222222222'
const B = '333333333333'
const DENIED = '444444444444'
const BRANCH = 'iam-least-privilege/proposals'
const GRANT = ['ec2:DescribeInstances', 'ec2:TerminateInstances', 's3:ListAllMyBuckets']

let aws: AwsAccounts
let athena: AthenaEmulator
let github: GitHubEmulator
let oidc: OidcTokenServer
let env: Record<string, string>

/** A day of the last lookback window, whenever the test runs. */
function daysAgo(days: number): string {
  return new Date(Date.now() - days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z')
}

beforeAll(async () => {
  if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run npm run bundle')
  aws = memberAccounts(HUB, [A, B, DENIED], { appRoles: ['app-api'], grant: GRANT })
  aws.hub.addRole({ name: 'github-hub' })
  aws.hub.oidc.subject = 'repo:octo-org/infra:*'
  await aws.start()
  athena = new AthenaEmulator()
  const { url: athenaUrl } = await athena.start()
  await athena.loadCloudTrail('cloudtrail', 'org_trail', [
    roleSessionRecord(A, 'app-api', {
      eventSource: 'ec2.amazonaws.com',
      eventName: 'DescribeInstances',
      eventTime: daysAgo(20)
    }),
    roleSessionRecord(B, 'app-api', {
      eventSource: 'ec2.amazonaws.com',
      eventName: 'TerminateInstances',
      eventTime: daysAgo(10)
    }),
    roleSessionRecord(DENIED, 'app-api', {
      eventSource: 's3.amazonaws.com',
      eventName: 'ListBuckets',
      eventTime: daysAgo(5)
    })
  ])
  const started = await startGitHubWithOidc(aws)
  github = started.github
  oidc = started.oidc
  // Athena is asked with the hub's credentials too.
  env = { ...started.env, AWS_ENDPOINT_URL_ATHENA: athenaUrl, GITHUB_RUN_ID: '778' }
})
afterAll(async () => {
  await aws.stop()
  await athena.stop()
  await github.close()
  await oidc.stop()
})

describe('dist/index.js with source: athena across accounts', () => {
  it('one query, one report and one pull request for every account; a denied account fails alone', async () => {
    denyAssumeRole(aws.account(DENIED))
    const run = await runAction({
      node: 'node20',
      env,
      inputs: {
        roles: 'app-*',
        'aws-region': 'us-east-1',
        source: 'athena',
        'athena-table': 'cloudtrail.org_trail',
        'athena-output-location': 's3://query-results-bucket/iam-least-privilege/',
        'role-to-assume': `arn:aws:iam::${HUB}:role/github-hub`,
        'member-role': 'arn:aws:iam::{account}:role/iam-least-privilege-member',
        accounts: `${A}\n${B}\n${DENIED}`,
        'min-observation-days': '0',
        validate: 'false',
        'github-token': 'ghs_emulated_token',
        mode: 'pull-request'
      }
    })
    aws.account(DENIED).clearFaults()
    expectSecretsMasked(run.stdout)
    expect(run.code).toBe(1)
    expect(run.stdout).toMatch(new RegExp(`::error::.*account ${DENIED}: could not assume`))

    const starts = athena.requests.filter(r => r.operation === 'StartQueryExecution')
    expect(starts).toHaveLength(1)
    expect(String(starts[0]?.params.QueryString)).toContain(`account IN ('${A}', '${B}')`)

    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
    const of = (id: string) => report.roles.filter(r => r.arn.includes(`::${id}:`))
    expect(of(A).map(r => [r.status, r.used])).toEqual([['analyzed', ['ec2:DescribeInstances']]])
    expect(of(B).map(r => [r.status, r.used])).toEqual([['analyzed', ['ec2:TerminateInstances']]])
    expect(of(DENIED).map(r => r.status)).toEqual(['failed'])

    expect(github.pullRequests()).toHaveLength(1)
    expect(github.readFile(BRANCH, `iam/least-privilege/${A}/app-api.json`)).toContain(
      'ec2:DescribeInstances'
    )
    expect(github.readFile(BRANCH, `iam/least-privilege/${A}/app-api.json`)).not.toContain(
      'ec2:TerminateInstances'
    )
    expect(github.readFile(BRANCH, `iam/least-privilege/${B}/app-api.json`)).toContain(
      'ec2:TerminateInstances'
    )
    expect(github.readFile(BRANCH, `iam/least-privilege/${B}/app-api.json`)).not.toContain(
      'ec2:DescribeInstances'
    )
    expect(github.readFile(BRANCH, `iam/least-privilege/${DENIED}/app-api.json`)).toBeUndefined()
  })
})
