/**
 * End to end through the committed dist/index.js: access advisor alone (no trail), and access advisor as the
 * prefilter of Access Analyzer, which spends policy generations only on the roles that need action-level data.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import type { JsonReportV1 } from '../../src/report/json.js'
import { awsInputs, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { outputFile, runAction } from '../support/run-action.js'

const DAY = 86_400_000
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString()
const allow = (...actions: string[]) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: actions, Resource: '*' }]
})

describe('dist/index.js with access advisor', () => {
  let world: World
  beforeAll(async () => {
    if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run npm run bundle')
    world = await startWorld()
    const dormant = world.aws.addRole({
      name: 'dormant-app',
      inline: { p: allow('dynamodb:GetItem', 'dynamodb:PutItem', 'sqs:SendMessage') }
    })
    world.aws.setLastAccessed(dormant, {
      services: [{ namespace: 'dynamodb' }, { namespace: 'sqs', lastAuthenticated: ago(300) }]
    })
    const busy = world.aws.addRole({
      name: 'busy-app',
      inline: { p: allow('s3:ListAllMyBuckets', 's3:CreateBucket', 'sqs:SendMessage') },
      generation: { actions: [{ action: 'sqs:SendMessage' }, { action: 's3:ListAllMyBuckets' }] }
    })
    world.aws.setLastAccessed(busy, {
      services: [
        {
          namespace: 's3',
          lastAuthenticated: ago(1),
          tracked: [
            { action: 'ListAllMyBuckets', lastAccessed: ago(1) },
            { action: 'CreateBucket', lastAccessed: ago(200) }
          ]
        },
        { namespace: 'sqs', lastAuthenticated: ago(1) }
      ]
    })
  })
  afterAll(() => stopWorld(world))

  it('judges from IAM last-accessed data alone, with no trail, and the summary says when each service was last used', async () => {
    const {
      'trail-arn': _trail,
      'access-role-arn': _role,
      ...inputs
    } = awsInputs(world, ['dormant-app', 'busy-app'])
    const run = await runAction({
      node: 'node20',
      inputs: { ...inputs, source: 'access-advisor', 'lookback-days': '150', validate: 'false' },
      env: world.env
    })
    expect(run.code).toBe(0)
    expect(world.aws.count('StartPolicyGeneration')).toBe(0)
    expect(world.aws.count('GenerateServiceLastAccessedDetails')).toBe(2)
    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
    expect(report.roles.map(r => [r.arn.split('/')[1], r.excess.map(e => e.action)])).toEqual([
      ['busy-app', ['s3:CreateBucket']],
      ['dormant-app', ['dynamodb:GetItem', 'dynamodb:PutItem', 'sqs:SendMessage']]
    ])
    expect(run.outputs).toMatchObject({ 'roles-analyzed': '2', 'roles-failed': '0', 'excess-count': '4' })
    expect(run.summary).toContain('usage from IAM access advisor (last accessed)')
    expect(run.summary).toContain('| Last used |')
    // The per-action list (a code block): the service's last use when its actions are not tracked.
    expect(run.summary).toMatch(
      new RegExp(`sqs:SendMessage +sqs last used ${ago(300).slice(0, 10)} \\(access-advisor\\)`)
    )
    expect(run.summary).toMatch(/dynamodb:GetItem +dynamodb never used in 150 days \(access-advisor\)/)
    // The table (escaped Markdown): the last use per service.
    expect(run.summary).toContain('| never used in 150 days \\(access\\-advisor\\) |')
    const busy = report.roles.find(r => r.arn.endsWith('/busy-app'))
    expect(busy?.used).toEqual(['s3:ListAllMyBuckets'])
    expect(busy?.unobservable.map(u => u.action)).toEqual(['sqs:SendMessage'])
    expect(busy?.excess).toEqual([
      expect.objectContaining({
        action: 's3:CreateBucket',
        evidence: `last used ${ago(200).slice(0, 10)} (access-advisor)`,
        lastUsed: expect.stringMatching(/^\d{4}-/)
      })
    ])
  })

  it('with access-analyzer, spends a policy generation only on the role that needs action-level data', async () => {
    const before = world.aws.count('StartPolicyGeneration')
    const run = await runAction({
      node: 'node20',
      inputs: {
        ...awsInputs(world, ['dormant-app', 'busy-app']),
        source: 'access-advisor, access-analyzer',
        validate: 'false'
      },
      env: world.env
    })
    expect(run.code).toBe(0)
    expect(world.aws.count('StartPolicyGeneration') - before).toBe(1)
    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
    expect(report.source).toBe('access-advisor')
    expect(report.sources).toEqual(['access-advisor', 'access-analyzer'])
    const dormant = report.roles.find(r => r.arn.endsWith('/dormant-app'))
    expect(dormant?.judgedBy).toMatch(/^access-advisor alone/)
    const busy = report.roles.find(r => r.arn.endsWith('/busy-app'))
    expect(busy?.used).toEqual(['s3:ListAllMyBuckets', 'sqs:SendMessage'])
    expect(busy?.usedEvidence?.find(u => u.action === 's3:ListAllMyBuckets')?.sources).toEqual([
      'access-advisor',
      'access-analyzer'
    ])
    expect(run.summary).toContain('judged by access\\-advisor alone')
    // The per-action list (a code block, so not escaped) names every source that judged each action.
    expect(run.summary).toContain(
      `s3:CreateBucket  last used ${ago(200).slice(0, 10)} (access-advisor); never seen in 90 days (access-analyzer)`
    )
  })
})
