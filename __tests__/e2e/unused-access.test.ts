/**
 * End to end: the committed dist/index.js with source unused-access and aws-recommendation, against the AWS
 * emulator's unused-access analyzer (credentials through OIDC), in report mode.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, readFileSync } from 'node:fs'
import type { JsonReportV1 } from '../../src/report/json.js'
import { awsInputs, expectSecretsMasked, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { outputFile, runAction } from '../support/run-action.js'

const DAY = 86_400_000

describe('dist/index.js with source unused-access', () => {
  let world: World
  let finding = ''
  beforeAll(async () => {
    if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run npm run bundle')
    world = await startWorld()
    const { aws } = world
    const role = aws.addRole({
      name: 'reporting',
      inline: {
        reporting: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['s3:GetObject', 's3:DeleteBucket', 'athena:*'], Resource: '*' },
            { Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*' }
          ]
        }
      }
    })
    const analyzerArn = aws.unusedAccess.addAnalyzer({ name: 'unused-access', unusedAccessAge: 60 })
    finding = aws.unusedAccess.addFinding({
      analyzerArn,
      resource: role,
      findingType: 'UnusedPermission',
      services: [
        {
          serviceNamespace: 's3',
          lastAccessed: new Date(Date.now() - 2 * DAY).toISOString(),
          actions: [{ action: 'DeleteBucket', lastAccessed: new Date(Date.now() - 120 * DAY).toISOString() }]
        },
        { serviceNamespace: 'athena' }
      ]
    })
    aws.unusedAccess.setRecommendation(finding, {
      steps: [
        {
          recommendedAction: 'CREATE_POLICY',
          existingPolicyId: 'reporting',
          recommendedPolicy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]
          }
        }
      ]
    })
  })
  afterAll(() => stopWorld(world))

  it('judges the findings, fetches AWS’s recommendation and shows both with "last used"', async () => {
    const { 'trail-arn': _trail, 'access-role-arn': _access, ...inputs } = awsInputs(world, ['reporting'])
    const run = await runAction({
      node: 'node20',
      inputs: { ...inputs, source: 'unused-access', 'aws-recommendation': 'true' },
      env: world.env
    })
    expect(run.code).toBe(0)
    expectSecretsMasked(run.stdout)
    expect(run.outputs).toMatchObject({ 'roles-analyzed': '1', 'roles-failed': '0' })
    expect(Number(run.outputs['excess-count'])).toBeGreaterThan(10)
    expect(world.aws.count('GenerateFindingRecommendation')).toBe(1)
    expect(world.aws.count('StartPolicyGeneration')).toBe(0)

    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
    expect(report.source).toBe('unused-access')
    const [role] = report.roles
    const excess = role?.excess.map(e => e.action) ?? []
    expect(excess).toContain('s3:DeleteBucket')
    expect(excess).toContain('athena:StartQueryExecution')
    expect(excess).not.toContain('s3:GetObject')
    expect(role?.unobservable.map(u => u.action)).toContain('s3:GetObject')
    expect(role?.awsRecommendation).toMatchObject({ findingId: finding, status: 'SUCCEEDED' })
    // Computed, not a fixed text: the same actions, and only ours carries the Deny over.
    expect(role?.awsRecommendation?.differences).toEqual([
      'Both grant the same actions.',
      "Ours has 1 Deny statement(s), AWS's has 0."
    ])

    expect(run.summary).toContain("**AWS's recommendation** (finding `" + finding + '`)')
    expect(run.summary).toContain("**How ours differs from AWS's**")
    expect(run.summary).toMatch(/s3\\:DeleteBucket \\\(last used 20\d\d\\-\d\d\\-\d\d\\\)/)
    expect(run.summary).toContain('athena unused as a whole \\(never used in the tracking period\\)')
  })

  it('analyzes an IAM user like a role, its proposal under users/', async () => {
    const { aws } = world
    const user = aws.users.addUser({
      name: 'build-user',
      inline: {
        build: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: ['ecr:PutImage', 'ecr:DeleteRepository'], Resource: '*' }]
        }
      }
    })
    aws.unusedAccess.addFinding({
      analyzerArn: aws.unusedAccess.analyzerArn('unused-access'),
      resource: user,
      resourceType: 'AWS::IAM::User',
      findingType: 'UnusedPermission',
      services: [
        {
          serviceNamespace: 'ecr',
          lastAccessed: new Date(Date.now() - DAY).toISOString(),
          actions: [{ action: 'DeleteRepository' }]
        }
      ]
    })
    const { 'trail-arn': _trail, 'access-role-arn': _access, ...inputs } = awsInputs(world, [])
    const run = await runAction({
      node: 'node20',
      inputs: { ...inputs, roles: '', users: 'build-*', source: 'unused-access' },
      env: world.env
    })
    expect(run.code).toBe(0)
    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
    expect(report.roles.map(r => [r.arn, r.status, r.policyFile])).toEqual([
      [user, 'analyzed', `iam/least-privilege/${aws.accountId}/users/build-user.json`]
    ])
    expect(report.roles[0]?.excess.map(e => e.action)).toEqual(['ecr:DeleteRepository'])
    expect(run.summary).toContain('build-user')
  })
})
