/**
 * source unused-access: the analyzer, the findings and AWS's recommendation read with the real SDK client from the
 * emulator (restJson1, the SDK model's paths and shapes), and whole runs through runAnalysis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import {
  fetchRecommendation,
  findUnusedAccessAnalyzer,
  getFinding,
  listResourceFindings
} from '../../src/aws/unused-access.js'
import { buildCliConfig } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import type { RoleResult } from '../../src/model.js'
import { excessActions } from '../../src/policy/excess.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { serializeReport } from '../../src/report/json.js'
import { runAnalysis } from '../../src/run.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { emulatedDeps } from '../support/analysis-in-process.js'
import { analyzerClient } from '../support/aws-test-clients.js'
import { unobservableActionList } from '../../src/policy/action-groups.js'

const NOW = Date.parse('2026-11-30T09:00:00Z')
const DAY = 86_400_000
const daysAgo = (n: number) => new Date(NOW - n * DAY).toISOString()

describe('unused-access client against the emulator', () => {
  const aws = new AwsEmulator({ seed: false, pageSize: 2, now: () => NOW })
  beforeAll(() => aws.start())
  afterAll(() => aws.stop())

  it('explains that there is no analyzer, then discovers the account one with its tracking period', async () => {
    const client = analyzerClient(aws.url)
    await expect(findUnusedAccessAnalyzer(client, undefined)).rejects.toThrow(
      /^unused-access-analyzer: this account and Region have no active unused-access analyzer/
    )
    aws.unusedAccess.addAnalyzer({ name: 'external', type: 'ACCOUNT' })
    aws.unusedAccess.addAnalyzer({ name: 'org', type: 'ORGANIZATION_UNUSED_ACCESS', unusedAccessAge: 180 })
    aws.unusedAccess.addAnalyzer({ name: 'off', status: 'DISABLED' })
    const account = aws.unusedAccess.addAnalyzer({ name: 'account', unusedAccessAge: 60 })
    expect(await findUnusedAccessAnalyzer(client, undefined)).toEqual({
      arn: account,
      unusedAccessAgeDays: 60
    })
    expect(await findUnusedAccessAnalyzer(client, aws.unusedAccess.analyzerArn('org'))).toEqual({
      arn: aws.unusedAccess.analyzerArn('org'),
      unusedAccessAgeDays: 180
    })
    await expect(findUnusedAccessAnalyzer(client, aws.unusedAccess.analyzerArn('off'))).rejects.toThrow(
      /is DISABLED, not ACTIVE/
    )
    await expect(findUnusedAccessAnalyzer(client, aws.unusedAccess.analyzerArn('external'))).rejects.toThrow(
      /is not an unused-access analyzer of this account/
    )
    const request = aws.requests.find(r => r.operation === 'ListAnalyzers')
    expect(request?.params.type).toBe('ACCOUNT_UNUSED_ACCESS')
  })

  it('lists a resource’s findings across pages and reads every page of a finding’s details', async () => {
    const client = analyzerClient(aws.url)
    const analyzerArn = aws.unusedAccess.analyzerArn('account')
    const role = 'arn:aws:iam::111122223333:role/paged'
    const services = ['s3', 'ec2', 'sqs', 'sns', 'kms'].map(serviceNamespace => ({ serviceNamespace }))
    const ids = [
      aws.unusedAccess.addFinding({ analyzerArn, resource: role, findingType: 'UnusedPermission', services }),
      aws.unusedAccess.addFinding({
        analyzerArn,
        resource: role,
        findingType: 'UnusedIAMRole',
        status: 'RESOLVED'
      }),
      aws.unusedAccess.addFinding({
        analyzerArn,
        resource: role,
        findingType: 'UnusedPermission',
        status: 'ARCHIVED'
      })
    ]
    aws.unusedAccess.addFinding({ analyzerArn, resource: `${role}-other`, findingType: 'UnusedIAMRole' })
    const found = await listResourceFindings(client, analyzerArn, role)
    expect(found.map(f => f.id).sort()).toEqual([...ids].sort())
    expect(aws.requests.filter(r => r.operation === 'ListFindingsV2').length).toBe(2)
    const { finding, details } = await getFinding(client, analyzerArn, ids[0] ?? '')
    expect(finding.findingType).toBe('UnusedPermission')
    expect(details.map(d => d.unusedPermissionDetails?.serviceNamespace)).toEqual([
      's3',
      'ec2',
      'sqs',
      'sns',
      'kms'
    ])
  })

  it('polls the recommendation until it succeeds, and reports a failed one with AWS’s error', async () => {
    const client = analyzerClient(aws.url)
    const analyzerArn = aws.unusedAccess.analyzerArn('account')
    const role = 'arn:aws:iam::111122223333:role/recommended'
    const id = aws.unusedAccess.addFinding({ analyzerArn, resource: role, findingType: 'UnusedPermission' })
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]
    }
    aws.unusedAccess.setRecommendation(id, {
      pollsInProgress: 2,
      steps: [
        { recommendedAction: 'CREATE_POLICY', existingPolicyId: 'app', recommendedPolicy: policy },
        { recommendedAction: 'DETACH_POLICY', existingPolicyId: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }
      ]
    })
    const slept: number[] = []
    const polling = {
      sleep: (ms: number) => {
        slept.push(ms)
        return Promise.resolve()
      },
      deadline: new Date(NOW + 3_600_000),
      now: () => new Date(NOW)
    }
    const result = await fetchRecommendation(client, analyzerArn, id, polling)
    expect(result.status).toBe('SUCCEEDED')
    expect(result.steps.map(s => s.unusedPermissionsRecommendedStep?.recommendedAction)).toEqual([
      'CREATE_POLICY',
      'DETACH_POLICY'
    ])
    expect(JSON.parse(result.steps[0]?.unusedPermissionsRecommendedStep?.recommendedPolicy ?? '')).toEqual(
      policy
    )
    expect(slept).toEqual([2000, 4000])
    const generate = aws.requests.find(r => r.operation === 'GenerateFindingRecommendation')
    expect(generate?.params.analyzerArn).toBe(analyzerArn)

    const failing = aws.unusedAccess.addFinding({
      analyzerArn,
      resource: role,
      findingType: 'UnusedPermission'
    })
    aws.unusedAccess.setRecommendation(failing, { failWith: { code: 'SERVICE_ERROR', message: 'try later' } })
    expect(await fetchRecommendation(client, analyzerArn, failing, polling)).toEqual({
      status: 'FAILED',
      steps: [],
      error: 'SERVICE_ERROR: try later'
    })
    // Out of time: IN_PROGRESS, never a wait past the deadline.
    const slow = aws.unusedAccess.addFinding({ analyzerArn, resource: role, findingType: 'UnusedPermission' })
    aws.unusedAccess.setRecommendation(slow, { pollsInProgress: 100 })
    const late = await fetchRecommendation(client, analyzerArn, slow, {
      ...polling,
      deadline: new Date(NOW + 1000)
    })
    expect(late.status).toBe('IN_PROGRESS')
  })
})

describe('source unused-access through runAnalysis', () => {
  const aws = new AwsEmulator({ now: () => NOW })
  const saved = { ...process.env }
  const APP = aws.roleArn('app')
  const IDLE = aws.roleArn('idle')
  let analyzerArn = ''
  let permissionFinding = ''
  beforeAll(async () => {
    await aws.start()
    Object.assign(process.env, aws.env(), { AWS_EC2_METADATA_DISABLED: 'true' })
    analyzerArn = aws.unusedAccess.addAnalyzer({ name: 'unused', unusedAccessAge: 90 })
    aws.addRole({
      name: 'app',
      inline: {
        app: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Storage',
              Effect: 'Allow',
              Action: ['s3:GetObject', 's3:PutObject', 's3:DeleteBucket'],
              Resource: '*'
            },
            { Sid: 'Queues', Effect: 'Allow', Action: ['sqs:SendMessage', 'sqs:DeleteQueue'], Resource: '*' },
            { Sid: 'Dynamo', Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' },
            { Sid: 'Pass', Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' },
            { Sid: 'NoDelete', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }
          ]
        }
      }
    })
    aws.addRole({
      name: 'idle',
      inline: {
        idle: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }]
        }
      }
    })
    aws.addRole({
      name: 'quiet',
      inline: {
        quiet: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'sns:Publish', Resource: '*' }]
        }
      }
    })
    permissionFinding = aws.unusedAccess.addFinding({
      analyzerArn,
      resource: APP,
      findingType: 'UnusedPermission',
      analyzedAt: daysAgo(1),
      services: [
        // S3 used in the window; two of its tracked actions were not.
        { serviceNamespace: 's3', lastAccessed: daysAgo(3), actions: [{ action: 'DeleteBucket' }] },
        // SQS never used at all: the whole service is unused, whatever is tracked.
        { serviceNamespace: 'sqs' }
      ]
    })
    aws.unusedAccess.setRecommendation(permissionFinding, {
      steps: [
        {
          recommendedAction: 'CREATE_POLICY',
          existingPolicyId: 'app',
          recommendedPolicy: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject', 'dynamodb:*'], Resource: '*' }
            ]
          }
        }
      ]
    })
    // A resolved finding is history: it never makes an action excess.
    aws.unusedAccess.addFinding({
      analyzerArn,
      resource: APP,
      findingType: 'UnusedPermission',
      status: 'RESOLVED',
      services: [{ serviceNamespace: 'dynamodb' }]
    })
    aws.unusedAccess.addFinding({
      analyzerArn,
      resource: IDLE,
      findingType: 'UnusedIAMRole',
      analyzedAt: daysAgo(1),
      roleLastAccessed: daysAgo(200)
    })
  })
  afterAll(async () => {
    process.env = saved
    await aws.stop()
  })

  const configOf = (inputs: Record<string, string>): Config =>
    buildCliConfig(
      name => ({ 'min-observation-days': '30', 'aws-recommendation': 'true', ...inputs })[name],
      {}
    )

  async function run(inputs: Record<string, string>): Promise<Map<string, RoleResult>> {
    const config = configOf({ source: 'unused-access', roles: 'app\nidle\nquiet', ...inputs })
    const report = await runAnalysis(
      config,
      emulatedDeps(config, () => new Date(NOW))
    )
    expect(report.source).toBe('unused-access')
    return new Map(report.roles.map(r => [r.arn.slice(r.arn.lastIndexOf('/') + 1), r]))
  }

  it('judges what the findings list as unused, and keeps what they do not list as unobservable', async () => {
    const roles = await run({})
    const app = roles.get('app')
    expect(app?.status).toBe('analyzed')
    expect(app?.window).toEqual({ start: daysAgo(91), end: daysAgo(1) })
    expect(app && excessActions(app.excess).map(e => e.action)).toEqual(
      expect.arrayContaining(['s3:DeleteBucket', 'sqs:DeleteQueue', 'sqs:SendMessage'])
    )
    expect(app?.excess.count).toBe(3)
    const unobservable = new Map(
      (app ? unobservableActionList(app.unobservable) : undefined)?.map(u => [u.action, u.reason])
    )
    expect(unobservable.get('s3:GetObject')).toMatch(
      /^s3 was last used 2026-11-27 \(unused-access, service level\)/
    )
    expect(unobservable.get('dynamodb:GetItem')).toMatch(/not listed as unused by the unused-access findings/)
    expect(unobservable.has('iam:PassRole')).toBe(true)
    expect(app?.evidence?.notes.join('\n')).toMatch(/1 resolved finding\(s\) ignored/)
    // The proposal keeps the Deny and the unobservable actions; AWS's drops PassRole and the Deny.
    const proposed = JSON.stringify(app?.proposed)
    expect(proposed).toContain('s3:DeleteObject')
    expect(proposed).not.toContain('sqs:')
    const rec = app?.awsRecommendation
    expect(rec?.status).toBe('SUCCEEDED')
    expect(rec?.findingId).toBe(permissionFinding)
    expect(rec?.differences.join('\n')).toMatch(
      /Ours keeps 1 action\(s\) AWS's removes, unobservable by the findings .*iam:PassRole/
    )
    expect(rec?.differences).toContain("Ours has 1 Deny statement(s), AWS's has 0.")

    // The JSON report reads AWS's document as IAM documents read: Version, then Statement.
    const json = serializeReport({
      version: 1,
      generatedAt: daysAgo(0),
      source: 'unused-access',
      roles: app ? [app] : [],
      summary: { roles: 1, analyzed: 1, failed: 0, excess: 3 }
    })
    expect(json).toMatch(/"awsRecommendation": \{\s*"findingId": "[^"]+",\s*"status": "SUCCEEDED",\s*"steps"/)
    expect(json).toMatch(/"recommendedPolicy": \{\s*"Version": "2012-10-17",\s*"Statement"/)

    const idle = roles.get('idle')
    expect(idle?.status).toBe('analyzed')
    expect(idle?.proposalOutcome).toBe('detach-all')
    expect(idle?.evidence?.notes.join('\n')).toMatch(/not used at all in the tracking period \(last used/)

    const quiet = roles.get('quiet')
    expect(quiet?.status).toBe('analyzed')
    expect(quiet?.excess.count).toBe(0)
    expect((quiet ? unobservableActionList(quiet.unobservable) : undefined)?.map(u => u.action)).toEqual([
      'sns:Publish'
    ])
    expect(quiet?.evidence?.notes.join('\n')).toMatch(/No active or archived unused-access finding/)
    expect(quiet?.awsRecommendation).toBeUndefined()

    const markdown = renderMarkdown(
      {
        version: 1,
        generatedAt: daysAgo(0),
        source: 'unused-access',
        roles: [...roles.values()],
        summary: { roles: 3, analyzed: 3, failed: 0, excess: 3 }
      },
      { title: 'IAM least privilege', maxLength: 1_000_000 }
    )
    expect(markdown).toContain("**AWS's recommendation** (finding `" + permissionFinding + '`)')
    expect(markdown).toContain("**How ours differs from AWS's**")
    expect(markdown).toContain(
      'Unused in s3 \\(s3 last used 2026\\-11\\-27\\)\\: s3\\:DeleteBucket \\(never used in the tracking period\\)'
    )
    expect(markdown).toContain('sqs unused as a whole \\(never used in the tracking period\\)')
  })

  it('fails every role with one clear line when the analyzer named does not exist', async () => {
    const roles = await run({ 'unused-access-analyzer': aws.unusedAccess.analyzerArn('missing') })
    for (const r of roles.values()) {
      expect(r.status).toBe('failed')
      expect(r.reason).toMatch(
        /^unused-access-analyzer: arn:aws:access-analyzer:us-east-1:111122223333:analyzer\/missing is not an unused-access analyzer/
      )
    }
  })

  it('refuses trail inputs and lookback-days with this source, and its own inputs with the others', () => {
    expect(() =>
      configOf({
        source: 'unused-access',
        roles: 'app',
        'trail-arn': 'arn:aws:cloudtrail:us-east-1:111122223333:trail/t'
      })
    ).toThrow(/^trail-arn: does not apply to source: unused-access/)
    expect(() => configOf({ source: 'unused-access', roles: 'app', 'lookback-days': '30' })).toThrow(
      /tracking period/
    )
    expect(() =>
      buildCliConfig(
        name =>
          ({ source: 'cloudtrail', 'cloudtrail-path': 'logs', roles: 'app', 'aws-recommendation': 'true' })[
            name
          ],
        {}
      )
    ).toThrow(/^aws-recommendation: only applies to source: unused-access/)
    expect(() =>
      configOf({ source: 'unused-access', roles: 'app', 'unused-access-analyzer': 'arn:aws:iam::1:role/x' })
    ).toThrow(/^unused-access-analyzer: "arn:aws:iam::1:role\/x" is not an analyzer ARN/)
  })
})
