/**
 * IAM last-accessed jobs (access advisor) through the real SDK IAM client against the emulator: job states, Marker
 * pagination, tracked actions at ACTION_LEVEL only, failures; then the report as usage, judged by the analysis.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { IAMClient } from '@aws-sdk/client-iam'
import { readLastAccessed } from '../../src/aws/last-accessed.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { judgeEvidence } from '../../src/policy/evidence.js'
import { excessActions, compactExcess } from '../../src/policy/excess.js'
import { excessEvidence, sourceEvidence } from '../../src/policy/action-evidence.js'
import { loadCatalogIndex } from '../../src/policy/catalog.js'
import { accessAdvisorUsage } from '../../src/usage/access-advisor.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import type { LastAccessedScript } from '../support/aws-emulator.js'
import { iamClient } from '../support/aws-test-clients.js'
import { OPTIONS, doc, inline, role } from '../policy/builders.js'

const emulator = new AwsEmulator({ pageSize: 2, seed: false })
let client: IAMClient
const noSleep = () => Promise.resolve()
const deadline = () => new Date(Date.now() + 60_000)

const NOW = Date.parse('2026-11-30T00:00:00Z')
const daysAgo = (days: number) => new Date(NOW - days * 86_400_000).toISOString()
const WINDOW = { start: daysAgo(400), end: daysAgo(0) }

const SCRIPT: LastAccessedScript = {
  pollsInProgress: 2,
  services: [
    {
      namespace: 's3',
      name: 'Amazon S3',
      lastAuthenticated: daysAgo(3),
      tracked: [
        { action: 'ListAllMyBuckets', lastAccessed: daysAgo(3) },
        { action: 'CreateBucket', lastAccessed: daysAgo(500) },
        { action: 'DeleteBucket' }
      ]
    },
    { namespace: 'sqs', name: 'Amazon SQS', lastAuthenticated: daysAgo(10) },
    { namespace: 'dynamodb', name: 'Amazon DynamoDB' },
    {
      namespace: 'ec2',
      name: 'Amazon EC2',
      lastAuthenticated: daysAgo(450),
      tracked: [{ action: 'RunInstances' }]
    }
  ]
}

beforeAll(async () => {
  const arn = emulator.addRole({ name: 'app' })
  emulator.setLastAccessed(arn, SCRIPT)
  emulator.setLastAccessed(emulator.roleArn('broken'), {
    services: [],
    failWith: { code: 'ReportGenerationFailed', message: 'internal error' }
  })
  await emulator.start()
  client = iamClient(emulator.url)
})

afterAll(() => emulator.stop())

describe('GenerateServiceLastAccessedDetails / GetServiceLastAccessedDetails', () => {
  it('polls while IN_PROGRESS, reads every Marker page and names tracked actions service:Action', async () => {
    const before = emulator.count('GetServiceLastAccessedDetails')
    const report = await readLastAccessed(client, emulator.roleArn('app'), 'ACTION_LEVEL', {
      sleep: noSleep,
      deadline: deadline()
    })
    // Two IN_PROGRESS answers, then two pages of two services.
    expect(emulator.count('GetServiceLastAccessedDetails') - before).toBe(4)
    expect(report.services.map(s => s.namespace)).toEqual(['s3', 'sqs', 'dynamodb', 'ec2'])
    const s3 = report.services[0]
    expect(s3?.lastAuthenticated?.toISOString()).toBe(daysAgo(3))
    expect(s3?.trackedActions?.map(t => t.action)).toEqual([
      's3:ListAllMyBuckets',
      's3:CreateBucket',
      's3:DeleteBucket'
    ])
    expect(s3?.trackedActions?.[2]?.lastAccessed).toBeUndefined()
    expect(report.services[1]?.trackedActions).toBeUndefined()
    const sent = emulator.requests.filter(r => r.operation === 'GenerateServiceLastAccessedDetails').at(-1)
    expect(sent?.params.Granularity).toBe('ACTION_LEVEL')
  })

  it('SERVICE_LEVEL reports no tracked actions', async () => {
    const report = await readLastAccessed(client, emulator.roleArn('app'), 'SERVICE_LEVEL', {
      sleep: noSleep,
      deadline: deadline()
    })
    expect(report.services.every(s => s.trackedActions === undefined)).toBe(true)
  })

  it('a FAILED job is an error naming its code, and an unknown role is NoSuchEntity', async () => {
    await expect(
      readLastAccessed(client, emulator.roleArn('broken'), 'ACTION_LEVEL', {
        sleep: noSleep,
        deadline: deadline()
      })
    ).rejects.toThrow(/failed: ReportGenerationFailed: internal error/)
    await expect(
      readLastAccessed(client, emulator.roleArn('nobody'), 'ACTION_LEVEL', {
        sleep: noSleep,
        deadline: deadline()
      })
    ).rejects.toMatchObject({ name: 'NoSuchEntityException' })
  })

  it('gives up at the deadline instead of polling for ever', async () => {
    emulator.setLastAccessed(emulator.roleArn('slow'), { services: [], pollsInProgress: 1000 })
    emulator.addRole({ name: 'slow' })
    await expect(
      readLastAccessed(client, emulator.roleArn('slow'), 'ACTION_LEVEL', {
        sleep: noSleep,
        deadline: new Date(Date.now() + 50),
        pollMs: 20
      })
    ).rejects.toThrow(/did not complete before timeout-minutes/)
  })
})

describe('access advisor as usage', () => {
  const grants = role('app', [
    inline(
      'app',
      doc({
        Effect: 'Allow',
        Action: [
          's3:ListAllMyBuckets',
          's3:CreateBucket',
          's3:DeleteBucket',
          's3:GetObject',
          'sqs:SendMessage',
          'dynamodb:GetItem',
          'ec2:RunInstances',
          'ec2:DescribeInstances',
          'lambda:InvokeFunction'
        ],
        Resource: '*'
      })
    )
  ])

  async function analysis() {
    const report = await readLastAccessed(client, emulator.roleArn('app'), 'ACTION_LEVEL', {
      sleep: noSleep,
      deadline: deadline()
    })
    const usage = accessAdvisorUsage(grants.arn, report, WINDOW)
    return { usage, result: analyzeRole(grants, usage, OPTIONS) }
  }

  it('judges tracked actions and unused services, and never makes a tracked action used from service-level data', async () => {
    const { result } = await analysis()
    expect(result.used).toEqual(['s3:ListAllMyBuckets'])
    expect(result.excess.map(e => e.action).sort()).toEqual([
      'dynamodb:GetItem',
      'ec2:DescribeInstances',
      'ec2:RunInstances',
      's3:CreateBucket',
      's3:DeleteBucket'
    ])
    const reason = (action: string) => result.unobservable.find(u => u.action === action)?.reason
    // Used services whose actions are not tracked: unobservable, and the reason says why.
    expect(reason('s3:GetObject')).toMatch(/s3 was used .* does not track s3:GetObject at action level/)
    expect(reason('sqs:SendMessage')).toMatch(/sqs was used/)
    // A service the report does not list at all cannot be judged.
    expect(reason('lambda:InvokeFunction')).toMatch(/no last-accessed data for lambda/)
  })

  it('says "last used DATE" or "never used in N days" for each excess action', async () => {
    const { usage, result } = await analysis()
    const sources = sourceEvidence(loadCatalogIndex(), usage, true, [])
    const evidence = (action: string) => excessEvidence(action, sources).evidence
    expect(evidence('s3:CreateBucket')).toBe(`last used ${daysAgo(500).slice(0, 10)} (access-advisor)`)
    expect(evidence('s3:DeleteBucket')).toBe('never used in 400 days (access-advisor)')
    expect(evidence('dynamodb:GetItem')).toBe('dynamodb never used in 400 days (access-advisor)')
    expect(evidence('ec2:DescribeInstances')).toBe(
      `ec2 last used ${daysAgo(450).slice(0, 10)} (access-advisor)`
    )
    expect(excessActions(compactExcess(result.excess)).length).toBe(5)
  })

  it('a role that used none of its services for the window is evidence, not the absence of it', () => {
    const usage = accessAdvisorUsage(
      grants.arn,
      { jobId: 'j', services: [{ namespace: 'dynamodb', name: 'DynamoDB' }] },
      WINDOW
    )
    expect(judgeEvidence(usage, { minObservationDays: 30, allowIncomplete: false }).sufficient).toBe(true)
    const empty = accessAdvisorUsage(grants.arn, { jobId: 'j', services: [] }, WINDOW)
    expect(judgeEvidence(empty, { minObservationDays: 30, allowIncomplete: false }).reason).toMatch(
      /no activity/
    )
  })
})
