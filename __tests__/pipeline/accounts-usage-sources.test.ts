/**
 * Usage sources over many accounts, in process. source: athena: runAnalysis with the real SDK against one emulated AWS account per
 * account id (member roles assumed from the hub) and the Athena emulator, whose SQL runs in DuckDB. The hub session asks
 * ONE query for the roles of every reachable account; each account's roles get their own usage from it. Sources that
 * ask AWS per role (access advisor, Access Analyzer) read each account with that account's own session.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { MemoryLogger } from '../../src/logger.js'
import type { ReportV1 } from '../../src/model.js'
import { evaluateGate } from '../../src/report/gate.js'
import { runAnalysis } from '../../src/run.js'
import { AthenaEmulator } from '../support/athena-emulator.js'
import type { AwsAccounts } from '../support/aws-accounts.js'
import {
  byAccount,
  denyAssumeRole,
  MEMBER_ROLE,
  memberAccounts,
  spendGenerationQuota
} from '../support/member-accounts.js'
import { configOf, emulatedDeps } from '../support/analysis-in-process.js'
import { roleSessionRecord } from '../support/role-session-record.js'

const HUB = '111111111111'
const A = '222222222222'
const B = '333333333333'
const DENIED = '444444444444'
const GRANT = ['ec2:DescribeInstances', 'ec2:TerminateInstances', 's3:ListAllMyBuckets']

let world: AwsAccounts
let athena: AthenaEmulator
const saved = { ...process.env }

function record(accountId: string, role: string, eventSource: string, eventName: string, day: string) {
  return roleSessionRecord(accountId, role, { eventSource, eventName, eventTime: `${day}T10:00:00Z` })
}

beforeAll(async () => {
  world = memberAccounts(HUB, [A, B, DENIED], { appRoles: ['app-api'], grant: GRANT })
  await world.start()
  athena = new AthenaEmulator()
  const { url } = await athena.start()
  await athena.loadCloudTrail('cloudtrail', 'org_trail', [
    record(A, 'app-api', 'ec2.amazonaws.com', 'DescribeInstances', '2026-03-01'),
    record(A, 'app-api', 'ec2.amazonaws.com', 'DescribeInstances', '2026-03-20'),
    record(B, 'app-api', 'ec2.amazonaws.com', 'TerminateInstances', '2026-03-02'),
    record(B, 'app-api', 's3.amazonaws.com', 'ListBuckets', '2026-03-21'),
    // Another account's role of the same name, outside the run: never anyone's usage.
    record('999999999999', 'app-api', 'ec2.amazonaws.com', 'TerminateInstances', '2026-03-03')
  ])
  Object.assign(process.env, world.env(), { AWS_ENDPOINT_URL_ATHENA: url, AWS_EC2_METADATA_DISABLED: 'true' })
})
afterAll(async () => {
  process.env = saved
  await athena.stop()
  await world.stop()
})

const BASE = {
  roles: 'app-*',
  source: 'athena',
  'athena-table': 'cloudtrail.org_trail',
  'athena-output-location': 's3://query-results-bucket/iam-least-privilege/',
  since: '2026-02-25',
  until: '2026-03-25',
  'min-observation-days': '0',
  validate: 'false',
  'member-role': `arn:aws:iam::{account}:role/${MEMBER_ROLE}`
}

async function analyze(
  inputs: Record<string, string>,
  pullRequest = false
): Promise<{ report: ReportV1; log: MemoryLogger }> {
  const config = configOf(inputs)
  const deps = emulatedDeps(config)
  const report = await runAnalysis(config, { ...deps, pullRequest })
  return { report, log: deps.log }
}

describe('source: athena across accounts', () => {
  it('asks one query for the roles of every reachable account; each account keeps its own usage; a denied account fails alone', async () => {
    denyAssumeRole(world.account(DENIED))
    const queriesBefore = athena.count('StartQueryExecution')
    // An account given twice (and again through a role ARN) is still one account, read once.
    const { report } = await analyze({
      ...BASE,
      roles: `app-*\narn:aws:iam::${A}:role/app-api`,
      accounts: `${A}\n${B}\n${DENIED}\n${A}`
    })
    world.account(DENIED).clearFaults()

    const starts = athena.requests.filter(r => r.operation === 'StartQueryExecution').slice(queriesBefore)
    expect(starts).toHaveLength(1)
    const sql = String(starts[0]?.params.QueryString)
    expect(sql).toMatch(new RegExp(`account IN \\('${A}', '${B}'\\)`))
    expect(sql).not.toContain(DENIED)

    expect(report.roles.map(r => r.arn).sort()).toEqual([
      `arn:aws:iam::${A}:role/app-api`,
      `arn:aws:iam::${B}:role/app-api`,
      `arn:aws:iam::${DENIED}:role/app-*`
    ])
    const roles = byAccount(report)
    expect(roles.get(A)).toMatchObject({ status: 'analyzed', used: ['ec2:DescribeInstances'] })
    expect(roles.get(A)?.excess.count).toBe(2)
    expect(roles.get(B)).toMatchObject({
      status: 'analyzed',
      used: ['ec2:TerminateInstances', 's3:ListAllMyBuckets']
    })
    expect(roles.get(B)?.excess.count).toBe(1)
    expect(roles.get(DENIED)?.status).toBe('failed')
    expect(roles.get(DENIED)?.reason).toMatch(new RegExp(`^account ${DENIED}: could not assume`))
    expect(world.account(A).requests.filter(r => r.operation === 'AssumeRole')).toHaveLength(1)
  })
})

describe('access-advisor and access-analyzer across accounts', () => {
  it("reads each account's last-accessed data and policy generations in that account, never in the hub", async () => {
    const ago = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString()
    const dormant = `arn:aws:iam::${A}:role/app-api`
    const busy = `arn:aws:iam::${B}:role/app-api`
    world.account(A).setLastAccessed(dormant, { services: [{ namespace: 'ec2' }, { namespace: 's3' }] })
    world.account(B).setLastAccessed(busy, {
      services: [{ namespace: 'ec2', lastAuthenticated: ago(2) }, { namespace: 's3' }]
    })
    world.account(B).setGeneration(busy, { actions: [{ action: 'ec2:DescribeInstances' }], isComplete: true })
    const count = (id: string, operation: string) => world.account(id).count(operation)
    const before = new Map(
      [HUB, A, B].flatMap(id =>
        ['GenerateServiceLastAccessedDetails', 'StartPolicyGeneration'].map(op => [
          `${id} ${op}`,
          count(id, op)
        ])
      )
    )
    const added = (id: string, operation: string) =>
      count(id, operation) - (before.get(`${id} ${operation}`) ?? 0)

    const { report } = await analyze({
      roles: 'app-api',
      source: 'access-advisor, access-analyzer',
      accounts: `${A}\n${B}`,
      'trail-arn': `arn:aws:cloudtrail:us-east-1:${HUB}:trail/organization`,
      'access-role-arn': 'arn:aws:iam::{account}:role/service-role/AccessAnalyzerMonitorServiceRole',
      'lookback-days': '90',
      'min-observation-days': '0',
      validate: 'false',
      'member-role': BASE['member-role']
    })

    const roles = byAccount(report)
    // A: every granted service unused, so access advisor judges it alone; B needs a policy generation, in B.
    expect(roles.get(A)).toMatchObject({ status: 'analyzed', used: [] })
    expect(roles.get(A)?.excess.count).toBe(3)
    expect(roles.get(B)).toMatchObject({ status: 'analyzed', used: ['ec2:DescribeInstances'] })
    expect(added(A, 'GenerateServiceLastAccessedDetails')).toBe(1)
    expect(added(B, 'GenerateServiceLastAccessedDetails')).toBe(1)
    expect(added(A, 'StartPolicyGeneration')).toBe(0)
    expect(added(B, 'StartPolicyGeneration')).toBe(1)
    expect(added(HUB, 'GenerateServiceLastAccessedDetails')).toBe(0)
    expect(added(HUB, 'StartPolicyGeneration')).toBe(0)
  })
})

describe('a role waiting for the quota on a pull-request run', () => {
  it('is not judged, so the gate does not pass on it, and the reason says so', async () => {
    // A role never analyzed before: no generation to reuse.
    const gated = world.account(B).addRole({
      name: 'app-gated',
      inline: {
        app: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: GRANT, Resource: '*' }] }
      },
      generation: { actions: [{ action: 'ec2:DescribeInstances' }], isComplete: true }
    })
    spendGenerationQuota(world.account(B), 5)
    const inputs = {
      roles: gated,
      source: 'access-analyzer',
      'trail-arn': `arn:aws:cloudtrail:us-east-1:${HUB}:trail/organization`,
      'access-role-arn': 'arn:aws:iam::{account}:role/service-role/AccessAnalyzerMonitorServiceRole',
      'min-observation-days': '0',
      validate: 'false',
      'member-role': BASE['member-role']
    }
    const { report } = await analyze(inputs, true)
    world.account(B).clearFaults()
    const role = report.roles[0]
    expect(role?.status).toBe('skipped')
    expect(role?.waiting).toBeUndefined()
    // It does not wait for a later run: this pull request's gate needs it now.
    expect(role?.reason).toMatch(
      /^not judged on this pull request \(the gate cannot pass on it\) \(never judged\): not started: the daily Access Analyzer policy-generation quota is spent/
    )
    const gate = evaluateGate(report, 'excess')
    expect(gate.tripped).toBe(true)
    expect(gate.message).toMatch(/could not be judged/)
  })
})
