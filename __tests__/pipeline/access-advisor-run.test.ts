/**
 * runAnalysis with access advisor, alone and as the prefilter of Access Analyzer: the real SDK against the AWS
 * emulator, counting the policy generations the prefilter saves.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { Config } from '../../src/config.js'
import type { RoleResult } from '../../src/model.js'
import { excessActions } from '../../src/policy/excess.js'
import { serializeReport } from '../../src/report/json.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { renderSarif } from '../../src/report/sarif.js'
import { runAnalysis } from '../../src/run.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { configOf, emulatedDeps } from '../support/analysis-in-process.js'
import { unobservableActionList } from '../../src/policy/action-groups.js'

const ACCOUNT = '111122223333'
const TRAIL = `arn:aws:cloudtrail:us-east-1:${ACCOUNT}:trail/management-events`
const ACCESS_ROLE = `arn:aws:iam::${ACCOUNT}:role/service-role/AccessAnalyzerMonitorServiceRole`
const DAY = 86_400_000
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString()

const allow = (...actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }]
})

function run(config: Config) {
  return runAnalysis(config, emulatedDeps(config))
}

const byName = (roles: RoleResult[]) => new Map(roles.map(r => [r.arn.slice(r.arn.lastIndexOf('/') + 1), r]))

describe('runAnalysis with access advisor', () => {
  const aws = new AwsEmulator({ pollsInProgress: 1, seed: false })
  const saved = { ...process.env }
  beforeAll(async () => {
    // Dormant: neither of its services was used in 400 days.
    const dormant = aws.addRole({
      name: 'dormant',
      inline: { p: allow('dynamodb:GetItem', 'sqs:SendMessage') }
    })
    aws.setLastAccessed(dormant, {
      services: [{ namespace: 'dynamodb' }, { namespace: 'sqs', lastAuthenticated: ago(380) }]
    })
    // Busy: uses S3 (tracked actions) and SQS (not tracked): needs policy generation for action-level data.
    const busy = aws.addRole({
      name: 'busy',
      inline: { p: allow('s3:ListAllMyBuckets', 's3:CreateBucket', 'sqs:SendMessage', 'sqs:DeleteQueue') },
      generation: { actions: [{ action: 'sqs:SendMessage' }, { action: 's3:ListAllMyBuckets' }] }
    })
    aws.setLastAccessed(busy, {
      services: [
        {
          namespace: 's3',
          lastAuthenticated: ago(2),
          tracked: [
            { action: 'ListAllMyBuckets', lastAccessed: ago(2) },
            { action: 'CreateBucket', lastAccessed: ago(350) }
          ]
        },
        { namespace: 'sqs', lastAuthenticated: ago(1) }
      ]
    })
    await aws.start()
    Object.assign(process.env, aws.env(), { AWS_EC2_METADATA_DISABLED: 'true' })
  })
  afterAll(async () => {
    process.env = saved
    await aws.stop()
  })

  it('alone, with no trail: judges tracked actions and unused services over 300 days, and says when each was last used', async () => {
    const report = await run(
      configOf({
        roles: 'dormant\nbusy',
        source: 'access-advisor',
        'lookback-days': '300',
        'no-validate': 'true'
      })
    )
    const roles = byName(report.roles)
    const dormant = roles.get('dormant')
    expect(dormant?.status).toBe('analyzed')
    // IAM reports use up to four hours late: the window ends four hours before the run, and says so.
    expect(Date.parse(dormant?.window.end ?? '')).toBeLessThanOrEqual(Date.now() - 4 * 3_600_000)
    expect(dormant?.evidence?.notes.join('\n')).toMatch(/up to 4 hours/)
    expect(excessActions(dormant?.excess ?? { count: 0, groups: [] }).map(e => e.action)).toEqual([
      'dynamodb:GetItem',
      'sqs:SendMessage'
    ])
    const busy = roles.get('busy')
    expect(busy?.used).toEqual(['s3:ListAllMyBuckets'])
    expect(excessActions(busy?.excess ?? { count: 0, groups: [] }).map(e => e.action)).toEqual([
      's3:CreateBucket'
    ])
    expect((busy ? unobservableActionList(busy.unobservable) : undefined)?.map(u => u.action)).toEqual([
      'sqs:DeleteQueue',
      'sqs:SendMessage'
    ])
    expect(aws.count('StartPolicyGeneration')).toBe(0)

    const json = JSON.parse(serializeReport(report)) as JsonReportV1
    const excess = json.roles.flatMap(r => r.excess) as { action: string; evidence?: string }[]
    expect(Object.fromEntries(excess.map(e => [e.action, e.evidence]))).toEqual({
      'dynamodb:GetItem': 'dynamodb never used in 300 days (access-advisor)',
      'sqs:SendMessage': `sqs last used ${ago(380).slice(0, 10)} (access-advisor)`,
      's3:CreateBucket': `last used ${ago(350).slice(0, 10)} (access-advisor)`
    })
    const markdown = renderMarkdown(report, { maxLength: 65_536 })
    expect(markdown).toContain('| Last used |')
    const sarif = renderSarif(report, { toolVersion: '1.0.0' })
    const messages = sarif.runs.flatMap(r => r.results.map(x => x.message.text)).join('\n')
    expect(messages).toContain(`Last used: s3 last used ${ago(2).slice(0, 10)} (access-advisor)`)
    expect(messages).toContain('dynamodb never used in 300 days (access-advisor)')
    expect(markdown).toContain(`last used ${ago(350).slice(0, 10)} (access-advisor)`)
  })

  it('as a prefilter: a role whose granted services all went unused costs no policy generation', async () => {
    const before = aws.count('StartPolicyGeneration')
    const report = await run(
      configOf({
        roles: 'dormant\nbusy',
        source: 'access-advisor, access-analyzer',
        'trail-arn': TRAIL,
        'access-role-arn': ACCESS_ROLE,
        'no-validate': 'true'
      })
    )
    // One generation, for busy only.
    expect(aws.count('StartPolicyGeneration') - before).toBe(1)
    const started = aws.requests.filter(r => r.operation === 'StartPolicyGeneration').at(-1)
    expect(JSON.stringify(started?.params)).toContain('role/busy')
    expect(report.sources).toEqual(['access-advisor', 'access-analyzer'])

    const roles = byName(report.roles)
    expect(roles.get('dormant')?.judgedBy).toMatch(/^access-advisor alone/)
    expect(roles.get('dormant')?.status).toBe('analyzed')
    expect(roles.get('busy')?.judgedBy).toMatch(/action-level data needed for s3, sqs/)
    const busy = roles.get('busy')
    // Access Analyzer saw sqs:SendMessage; sqs:DeleteQueue is excess by its evidence, which access advisor cannot judge.
    expect(busy?.used).toEqual(['s3:ListAllMyBuckets', 'sqs:SendMessage'])
    expect(excessActions(busy?.excess ?? { count: 0, groups: [] }).map(e => e.action)).toEqual([
      's3:CreateBucket',
      'sqs:DeleteQueue'
    ])
    expect(busy?.sources?.map(s => [s.source, s.judged])).toEqual([
      ['access-advisor', true],
      ['access-analyzer', true]
    ])
    expect(busy?.sources?.[0]?.blind).toEqual(['sqs:DeleteQueue'])
    const json = JSON.parse(serializeReport(report)) as JsonReportV1
    const evidence = Object.fromEntries(
      (json.roles.flatMap(r => r.excess) as { action: string; evidence?: string }[]).map(e => [
        e.action,
        e.evidence
      ])
    )
    expect(evidence['sqs:DeleteQueue']).toBe('never seen in 90 days (access-analyzer)')
    expect(evidence['s3:CreateBucket']).toBe(
      `last used ${ago(350).slice(0, 10)} (access-advisor); never seen in 90 days (access-analyzer)`
    )
    const markdown = renderMarkdown(report, { maxLength: 65_536 })
    // Markdown escapes what comes from AWS or the run (hyphens included).
    expect(markdown).toContain('judged by access\\-advisor alone')
    expect(markdown).toContain('source access\\-analyzer\\: ')
    expect(markdown).toContain('usage from IAM access advisor (last accessed) + IAM Access Analyzer')
  })

  it('reads 400 days of access advisor, but asks policy generation for 90 at most', async () => {
    await run(
      configOf({
        roles: 'busy',
        source: 'access-analyzer, access-advisor',
        'lookback-days': '400',
        'trail-arn': TRAIL,
        'access-role-arn': ACCESS_ROLE,
        'no-validate': 'true'
      })
    )
    const started = aws.requests.filter(r => r.operation === 'StartPolicyGeneration').at(-1)
    const details = started?.params.cloudTrailDetails as { startTime?: string } | undefined
    const days = (Date.now() - Date.parse(details?.startTime ?? '')) / DAY
    expect(days).toBeGreaterThan(89)
    expect(days).toBeLessThan(91)
  })
})
