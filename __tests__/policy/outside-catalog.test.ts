/**
 * Actions newer than the bundled catalog, wildcards in usage, and what "no proposal" means: the cases where a
 * proposal could silently drop something the role needs.
 */
import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { normalizePolicy } from '../../src/policy/document.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { proposePolicies } from '../../src/policy/propose.js'
import type { RoleGrants, RoleUsage } from '../../src/model.js'
import { OPTIONS, allowing, doc, inline, role, usageOf } from './builders.js'

function propose(grants: RoleGrants, usage: RoleUsage, options = OPTIONS) {
  const analysis = analyzeRole(grants, usage, options)
  const proposal = proposePolicies(grants, usage, analysis, options)
  const documents = proposal.policies.map(p => normalizePolicy(p.name, p.document))
  return {
    analysis,
    proposal,
    allows: (action: string) => evaluate(documents, action, '*').decision === 'allow'
  }
}

describe('actions the catalog does not know yet', () => {
  test('a used one stays granted when a wildcard granted it', () => {
    const grants = allowing(['ec2:Describe*', 's3:GetBucketLocation'])
    const { proposal, allows } = propose(
      grants,
      usageOf(['ec2:DescribeBrandNewThing', 's3:GetBucketLocation'])
    )
    expect(proposal.outcome).toBe('proposed')
    expect(proposal.verification.usedCovered).toBe(true)
    expect(allows('ec2:DescribeBrandNewThing')).toBe(true)
    expect(allows('s3:GetBucketLocation')).toBe(true)
    expect(allows('ec2:DescribeVolumes')).toBe(false)
  })

  test('a used one stays granted under a * statement (never hidden by a NotAction wildcard)', () => {
    const grants = role('r', [inline('admin', doc({ Effect: 'Allow', Action: '*', Resource: '*' }))])
    const { proposal, allows } = propose(
      grants,
      usageOf(['ec2:DescribeBrandNewThing', 'ec2:DescribeRegions'])
    )
    expect(proposal.outcome).toBe('proposed')
    expect(allows('ec2:DescribeBrandNewThing')).toBe(true)
    expect(allows('ec2:DescribeRegions')).toBe(true)
    expect(allows('iam:CreateUser')).toBe(false)
  })

  test('keep-actions naming one keeps it', () => {
    const grants = role('r', [inline('admin', doc({ Effect: 'Allow', Action: '*', Resource: '*' }))])
    const options = { ...OPTIONS, keepActions: ['bedrock:InvokeBrandNewModelApi'] }
    const { allows } = propose(grants, usageOf(['ec2:DescribeRegions']), options)
    expect(allows('bedrock:InvokeBrandNewModelApi')).toBe(true)
  })
})

describe('wildcards reported as usage', () => {
  test('every catalog action a used wildcard matches counts as used', () => {
    const grants = allowing(['ssm:GetParameter*', 'ec2:TerminateInstances'])
    const { analysis, allows } = propose(grants, usageOf(['ssm:GetParameter*'], {}, 'access-analyzer'))
    expect(analysis.used).toEqual(
      expect.arrayContaining(['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath'])
    )
    expect(analysis.excess.map(e => e.action)).toEqual(['ec2:TerminateInstances'])
    expect(allows('ssm:GetParametersByPath')).toBe(true)
  })
})

describe('what an empty proposal means', () => {
  test('detach-all only when nothing granted is used, unobservable, conditional or kept', () => {
    const grants = allowing('ec2:Describe*')
    expect(propose(grants, usageOf([])).proposal.outcome).toBe('detach-all')
  })

  test('a role that cannot be edited gets no proposal, and never "detach all"', () => {
    const grants = role(
      'AWSReservedSSO_admin_0123',
      [inline('p', doc({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }))],
      { editable: false, notEditableReason: 'IAM Identity Center role' }
    )
    const { proposal } = propose(grants, usageOf(['ec2:DescribeRegions']))
    expect(proposal).toMatchObject({ outcome: 'none', policies: [] })
  })

  test('a statement too large to carry gives no proposal, and never "detach all"', () => {
    const resources = Array.from({ length: 400 }, (_, i) => `arn:aws:s3:::bucket-with-a-long-name-${i}/*`)
    const grants = role('r', [
      inline('p', doc({ Sid: 'KeepBig', Effect: 'Allow', Action: 's3:GetObject', Resource: resources })),
      inline('q', doc({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }))
    ])
    const { proposal } = propose(grants, usageOf([]))
    expect(proposal.outcome).toBe('none')
    expect(proposal.notes.join(' ')).toMatch(/exceeds 6144 characters/)
  })
})

describe('policy versions', () => {
  test('no proposal rewrites 2008-10-17 `${...}` text into a 2012-10-17 policy variable', () => {
    const grants = role('r', [
      inline('old', {
        Version: '2008-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:PutObject'],
            Resource: 'arn:aws:s3:::shared/${aws:username}/*'
          }
        ]
      })
    ])
    const { proposal } = propose(
      grants,
      usageOf(['s3:GetObject'], { evidence: { notes: [], dataEventsSeen: ['s3'] } })
    )
    expect(proposal.outcome).toBe('none')
    expect(proposal.notes.join(' ')).toMatch(
      /statement old \(policy Version 2008-10-17\) has `\$\{...\}` text/
    )
  })

  test('2008-10-17 `${...}` text is literal, and a statement that is all excess does not withhold the proposal', () => {
    const old = {
      Version: '2008-10-17',
      Statement: [
        {
          Sid: 'Literal',
          Effect: 'Allow',
          Action: 's3:PutBucketTagging',
          Resource: 'arn:aws:s3:::shared-${x}'
        },
        { Sid: 'Read', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::shared/*' }
      ]
    }
    const grants = role('r', [inline('old', old)])
    const usage = usageOf(['s3:GetObject'], { evidence: { notes: [], dataEventsSeen: ['s3'] } })
    const { analysis, proposal } = propose(grants, usage)
    // Literal text grants for certain: the unused PutBucketTagging is excess, not conditional.
    expect(analysis.excess.map(e => e.action)).toEqual(['s3:PutBucketTagging'])
    expect(proposal.outcome).toBe('proposed')
    expect(proposal.policies[0]?.document.Statement).toEqual([old.Statement[1]])
  })
})
