import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { getGeneratedPolicy, startPolicyGeneration } from '../../src/aws/access-analyzer.js'
import type { GenerationRequest } from '../../src/aws/access-analyzer.js'
import { DENIED_CALLS_NOTE, describeJobError, parseGeneratedPolicy } from '../../src/usage/access-analyzer.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { INSTANCE, SSM_DOCUMENT, STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { analyzerClient } from '../support/aws-test-clients.js'

// Generated policies split at 300 characters: the parser must merge several `generatedPolicies` entries.
const emulator = new AwsEmulator({ pollsInProgress: 0, maxPolicyCharacters: 300 })
let client: AccessAnalyzerClient
const end = Math.floor(Date.now() / 1000) * 1000 - 3600_000
const window = { start: new Date(end - 30 * 24 * 3600_000).toISOString(), end: new Date(end).toISOString() }
const onTheWire = (iso: string): string => iso.replace('.000Z', 'Z')

beforeAll(async () => {
  client = analyzerClient((await emulator.start()).url)
})
afterAll(async () => {
  client.destroy()
  await emulator.stop()
})

async function generate(roleArn: string, regions: string[] = []) {
  const request: GenerationRequest = {
    roleArn,
    trailArn: 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management',
    regions,
    accessRoleArn: 'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole',
    window
  }
  const jobId = await startPolicyGeneration(client, request, `token-${roleArn}-${regions.join()}`)
  return getGeneratedPolicy(client, jobId)
}

describe('parseGeneratedPolicy (through the real client)', () => {
  it('merges split policies, keeps placeholders, and sends RFC 3339 times and the flags on the wire', async () => {
    const arn = emulator.roleArn(STRATUS_ROLES.stealCredentials)
    const output = await generate(arn, ['us-east-1', 'eu-west-1'])
    expect(output.generatedPolicyResult?.generatedPolicies?.length).toBeGreaterThan(1)
    const usage = parseGeneratedPolicy(output, arn, window)

    expect(usage.actions).toHaveLength(8)
    expect(usage.actions.find(a => a.action === 'ssm:GetDocument')?.resources).toEqual([SSM_DOCUMENT])
    expect(usage.actions.find(a => a.action === 'ssm:UpdateInstanceInformation')?.resources).toEqual([
      INSTANCE
    ])
    expect(usage.actions.find(a => a.action === 'ec2:DescribeInstances')?.resources).toEqual(['*'])
    expect(usage.window).toEqual(window)
    expect(usage).toMatchObject({ source: 'access-analyzer', complete: true, serviceLevelOnly: [] })
    const start = emulator.requests.find(r => r.operation === 'StartPolicyGeneration')
    expect(start?.params.cloudTrailDetails).toMatchObject({
      trails: [{ regions: ['us-east-1', 'eu-west-1'] }],
      startTime: onTheWire(window.start),
      endTime: onTheWire(window.end)
    })
    const get = emulator.requests.find(r => r.operation === 'GetGeneratedPolicy')
    expect(get?.params).toEqual({ includeResourcePlaceholders: 'true', includeServiceLevelTemplate: 'true' })
  })

  it('turns the service-level template into serviceLevelOnly and notes incompleteness', async () => {
    const arn = emulator.roleArn(STRATUS_ROLES.leaveOrg)
    emulator.setGeneration(arn, {
      actions: [{ action: 'organizations:LeaveOrganization' }],
      serviceLevel: ['bedrock', 'kms'],
      isComplete: false
    })
    const usage = parseGeneratedPolicy(await generate(arn), arn, window)

    expect(usage.actions.map(a => a.action)).toEqual(['organizations:LeaveOrganization'])
    expect(usage.serviceLevelOnly).toEqual(['bedrock', 'kms'])
    expect(usage.complete).toBe(false)
    expect(usage.evidence.notes).toEqual([
      DENIED_CALLS_NOTE,
      expect.stringMatching(/isComplete=false/),
      'Services seen only at service level (no action detail): bedrock, kms.'
    ])
  })
})

describe('parseGeneratedPolicy (shapes nobody documents)', () => {
  it('reads any Sid, string or array Action and Resource, and explains what it cannot interpret', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'Whatever',
          Effect: 'Allow',
          Action: 's3:GetObject',
          Resource: ['arn:aws:s3:::${BucketName}/${ObjectName}', 'arn:aws:s3:::x/*']
        },
        { Effect: 'Allow', Action: ['S3:*', 's3:List*'], Resource: '*' },
        { Effect: 'Allow', NotAction: 'iam:*', Resource: '*' }
      ]
    })
    const usage = parseGeneratedPolicy(
      {
        jobDetails: undefined,
        generatedPolicyResult: { generatedPolicies: [{ policy }], properties: undefined }
      },
      'arn:aws:iam::111122223333:role/x',
      window
    )
    expect(usage.actions).toEqual([
      { action: 's3:GetObject', resources: ['arn:aws:s3:::${BucketName}/${ObjectName}', 'arn:aws:s3:::x/*'] },
      { action: 's3:List*', resources: ['*'] }
    ])
    expect(usage.serviceLevelOnly).toEqual(['s3'])
    expect(usage.window).toEqual(window)
    expect(usage.evidence.notes).toEqual(
      expect.arrayContaining([
        'generated policy 1, statement 1: action pattern s3:List* counts every action it matches as used',
        'generated policy 1, statement 2: unexpected NotAction "iam:*"; usage marked incomplete'
      ])
    )
    // A statement it cannot read makes the usage incomplete, so nothing is proposed on it by default.
    expect(usage.complete).toBe(false)
  })

  it('counts the service of anything that is not an action name as seen at service level', () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: ['ec2:DescribeInstances', 'kms:${Action}'], Resource: '*' }]
    })
    const usage = parseGeneratedPolicy(
      {
        jobDetails: undefined,
        generatedPolicyResult: {
          generatedPolicies: [{ policy }],
          properties: { isComplete: true, principalArn: 'x' }
        }
      },
      'arn:aws:iam::111122223333:role/x',
      window
    )
    expect(usage.actions.map(a => a.action)).toEqual(['ec2:DescribeInstances'])
    expect(usage.serviceLevelOnly).toEqual(['kms'])
    expect(usage.complete).toBe(true)
  })

  it('names what to do for each jobError code', () => {
    expect(describeJobError({ code: 'SERVICE_QUOTA_EXCEEDED_ERROR', message: 'limit' })).toMatch(
      /limit; shorten lookback-days or limit trail-regions$/
    )
    expect(describeJobError({ code: 'AUTHORIZATION_ERROR', message: 'denied' })).toMatch(
      /access-role-arn: denied; the access role must trust access-analyzer/
    )
    expect(describeJobError({ code: 'RESOURCE_NOT_FOUND_ERROR', message: 'gone' })).toMatch(/check trail-arn/)
  })
})
