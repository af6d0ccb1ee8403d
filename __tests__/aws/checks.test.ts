import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { checkNoNewAccess, mergeIdentityPolicies, validateProposedPolicies } from '../../src/aws/checks.js'
import type { PolicyDocumentJson } from '../../src/model.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { awsManagedDocument } from '../support/aws-emulator-seed.js'
import { analyzerClient } from '../support/aws-test-clients.js'

const emulator = new AwsEmulator({ pageSize: 1 })
let client: AccessAnalyzerClient

beforeAll(async () => {
  client = analyzerClient((await emulator.start()).url)
})
afterAll(async () => {
  client.destroy()
  await emulator.stop()
})

const doc = (...Statement: Record<string, unknown>[]): PolicyDocumentJson => ({
  Version: '2012-10-17',
  Statement
})
const ec2Describe = doc({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' })
const ssmCore = awsManagedDocument('AmazonSSMManagedInstanceCore')

describe('validateProposedPolicies', () => {
  it('collects the findings of every page for every proposed document', async () => {
    const findings = await validateProposedPolicies(client, [
      { name: 'clean', document: ec2Describe, characters: 0 },
      {
        name: 'risky',
        document: doc(
          { Effect: 'Allow', Action: [], Resource: '*' },
          { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' }
        ),
        characters: 0
      }
    ])
    expect(findings.map(f => [f.policy, f.findingType, f.issueCode])).toEqual([
      ['risky', 'SUGGESTION', 'EMPTY_ARRAY_ACTION'],
      ['risky', 'SECURITY_WARNING', 'PASS_ROLE_WITH_STAR_IN_RESOURCE']
    ])
    expect(findings[1]?.learnMoreLink).toMatch(/^https:\/\/docs\.aws\.amazon\.com\//)
    // One finding per page: the paginator followed nextToken.
    expect(
      emulator.requests.filter(r => r.operation === 'ValidatePolicy' && r.params.nextToken)
    ).toHaveLength(1)
  })
})

describe('checkNoNewAccess', () => {
  it('passes a proposal within the merged current policies (inline + managed)', async () => {
    const proposal = [
      doc({
        Sid: 'Used',
        Effect: 'Allow',
        Action: ['ec2:DescribeInstances', 'ssm:UpdateInstanceInformation'],
        Resource: '*'
      }),
      doc({ Effect: 'Allow', Action: 'ssmmessages:OpenDataChannel', Resource: '*' })
    ]
    await expect(checkNoNewAccess(client, proposal, [ec2Describe, ssmCore])).resolves.toBe('PASS')
    const call = emulator.requests.filter(r => r.operation === 'CheckNoNewAccess').at(-1)
    expect(
      (JSON.parse(call?.params.newPolicyDocument as string) as { Statement: unknown[] }).Statement
    ).toHaveLength(2)
    expect(
      (JSON.parse(call?.params.existingPolicyDocument as string) as { Statement: unknown[] }).Statement.length
    ).toBe(1 + (ssmCore as PolicyDocumentJson).Statement.length)
  })

  it('fails a proposal that grants something the role does not have today', async () => {
    const proposal = [
      doc({ Effect: 'Allow', Action: ['ec2:DescribeInstances', 's3:GetObject'], Resource: '*' })
    ]
    await expect(checkNoNewAccess(client, proposal, [ec2Describe, ssmCore])).resolves.toBe('FAIL')
  })

  it('merges statements given as an object and drops Sids that may collide', () => {
    const merged = mergeIdentityPolicies(
      [
        { Statement: { Sid: 'A', Effect: 'Allow', Action: 'a:b', Resource: '*' } },
        { Statement: [{ Sid: 'A', Effect: 'Deny', Action: 'c:d', Resource: '*' }] }
      ],
      'current policy'
    )
    expect(merged).toEqual(
      doc({ Effect: 'Allow', Action: 'a:b', Resource: '*' }, { Effect: 'Deny', Action: 'c:d', Resource: '*' })
    )
    expect(() => mergeIdentityPolicies([{}], 'current policy')).toThrow(
      'current policy 1: the policy document has no Statement'
    )
  })
})
