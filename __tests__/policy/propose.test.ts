import { describe, expect, test } from '@jest/globals'
import type { ProposedPolicy } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { policyDiff } from '../../src/policy/diff.js'
import { normalizePolicy } from '../../src/policy/document.js'
import { evaluate } from '../../src/policy/evaluate.js'
import { buildGrantModel } from '../../src/policy/grants.js'
import { MAX_POLICY_CHARACTERS, STATEMENT_ROOM, policyCharacters } from '../../src/policy/policy-size.js'
import { proposePolicies } from '../../src/policy/propose.js'
import type { ProposeOptions } from '../../src/policy/propose.js'
import { verifyProposal } from '../../src/policy/verify.js'
import { OPTIONS, allowing, doc, inline, managed, role, usageOf } from './builders.js'
import type { RoleGrants, RoleUsage } from '../../src/model.js'
import { STEAL_CREDENTIALS_SSM_CALLS } from '../support/stratus-facts.js'

const catalog = loadCatalog()

function propose(grants: RoleGrants, usage: RoleUsage, options: ProposeOptions = OPTIONS) {
  const analysis = analyzeRole(grants, usage, options)
  return { analysis, proposal: proposePolicies(grants, usage, analysis, options) }
}

function statements(policies: ProposedPolicy[]): Record<string, unknown>[] {
  return policies.flatMap(p => p.document.Statement)
}

describe('proposePolicies on the real ec2-steal-credentials role', () => {
  const grants = role('stratus-red-team-ec2-steal-credentials-role', [
    inline('ec2-describe', doc({ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' })),
    managed('AmazonSSMManagedInstanceCore')
  ])
  const agent = STEAL_CREDENTIALS_SSM_CALLS
  const usage = usageOf(['ec2:DescribeInstances', ...agent, 'sts:GetCallerIdentity'])

  test('keeps exactly the used actions, proven by the own evaluator', () => {
    const { proposal } = propose(grants, usage)
    expect(proposal.verification).toEqual({ usedCovered: true, noNewAccess: true, problems: [] })
    expect(proposal.policies).toEqual([
      {
        name: 'stratus-red-team-ec2-steal-credentials-role-least-privilege',
        document: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: ['ec2:DescribeInstances'], Resource: '*' },
            { Effect: 'Allow', Action: agent, Resource: '*' },
            // The agent's message channels are unobservable: their statements lose nothing and stay as they are.
            {
              Effect: 'Allow',
              Action: [
                'ssmmessages:CreateControlChannel',
                'ssmmessages:CreateDataChannel',
                'ssmmessages:OpenControlChannel',
                'ssmmessages:OpenDataChannel'
              ],
              Resource: '*'
            },
            {
              Effect: 'Allow',
              Action: [
                'ec2messages:AcknowledgeMessage',
                'ec2messages:DeleteMessage',
                'ec2messages:FailMessage',
                'ec2messages:GetEndpoint',
                'ec2messages:GetMessages',
                'ec2messages:SendReply'
              ],
              Resource: '*'
            }
          ]
        },
        characters: expect.any(Number)
      }
    ])
    const documents = proposal.policies.map(p => normalizePolicy(p.name, p.document))
    expect(evaluate(documents, 'ssm:GetParameter', '*').decision).toBe('implicit-deny')
    expect(evaluate(documents, 'ssm:PutInventory', '*').decision).toBe('allow')
  })

  test('the diff shows the removed statements and actions', () => {
    const { proposal } = propose(grants, usage)
    const diff = policyDiff(grants.policies, proposal.policies)
    expect(diff).toContain('--- current')
    expect(diff).toContain('+++ proposed')
    expect(diff).toContain('-        "ec2:Describe*"')
    expect(diff).toContain('+        "ec2:DescribeInstances"')
    expect(diff).toContain('-        "ssm:GetParameter",')
    expect(diff).not.toMatch(/^-\s+"ec2messages:GetMessages"/m)
    expect(diff).not.toMatch(/^-\s+"ssm:PutInventory"/m)
  })
})

describe('proposal rules', () => {
  test('used but not granted actions are never added', () => {
    const grants = allowing('ec2:DescribeInstances')
    const { analysis, proposal } = propose(grants, usageOf(['ec2:DescribeInstances', 'ec2:RunInstances']))
    expect(analysis.usedNotGranted).toEqual(['ec2:RunInstances'])
    // The statement keeps everything it grants, so it is carried unchanged.
    expect(statements(proposal.policies)).toEqual([
      { Effect: 'Allow', Action: 'ec2:DescribeInstances', Resource: '*' }
    ])
  })

  test('Access Analyzer placeholders never reach the proposal; the current resources are kept', () => {
    const grants = role('r', [
      inline('p', doc({ Effect: 'Allow', Action: 's3:*', Resource: 'arn:aws:s3:::app-*' }))
    ])
    const usage = usageOf(
      [{ action: 's3:GetBucketPolicy', resources: ['arn:aws:s3:::${BucketName}'] }],
      {},
      'access-analyzer'
    )
    const { proposal } = propose(grants, usage)
    expect(JSON.stringify(proposal.policies)).not.toContain('${')
    expect(statements(proposal.policies)[0]).toEqual({
      Effect: 'Allow',
      Action: expect.arrayContaining(['s3:GetBucketPolicy']),
      Resource: 'arn:aws:s3:::app-*'
    })
  })

  test('narrows to concrete observed resources; S3 object ARNs become bucket/*', () => {
    const grants = role('r', [
      inline(
        'p',
        doc({ Sid: 'Data', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetBucketPolicy'], Resource: '*' })
      )
    ])
    const usage = usageOf(
      [
        {
          action: 's3:GetObject',
          resources: ['arn:aws:s3:::reports/2024/a.csv', 'arn:aws:s3:::reports/b.csv']
        },
        { action: 's3:GetBucketPolicy', resources: ['arn:aws:s3:::reports'] }
      ],
      { evidence: { notes: [], dataEventsSeen: ['s3'] } }
    )
    const { proposal } = propose(grants, usage)
    expect(statements(proposal.policies)).toEqual([
      { Effect: 'Allow', Action: ['s3:GetBucketPolicy'], Resource: ['arn:aws:s3:::reports'] },
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::reports/*'] }
    ])
    expect(proposal.notes.join(' ')).toMatch(/Narrowed 2 used action/)
    expect(proposal.verification.noNewAccess).toBe(true)
  })

  test('does not narrow when a resource is unknown or when bucket/* would grant more than today', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/2024/*' },
          { Effect: 'Allow', Action: 's3:GetBucketPolicy', Resource: '*' }
        )
      )
    ])
    const usage = usageOf(
      [
        { action: 's3:GetObject', resources: ['arn:aws:s3:::reports/2024/a.csv'] },
        { action: 's3:GetBucketPolicy', resources: ['arn:aws:s3:::reports', '*'] }
      ],
      { evidence: { notes: [], dataEventsSeen: ['s3'] } }
    )
    const { proposal } = propose(grants, usage)
    expect(statements(proposal.policies)).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::reports/2024/*' },
      { Effect: 'Allow', Action: 's3:GetBucketPolicy', Resource: '*' }
    ])
  })

  test('never narrows to short-lived resources such as instances (they are replaced on every deployment)', () => {
    const grants = allowing(['ssm:UpdateInstanceInformation', 'ssm:GetParameter'])
    // The resources the real steal-credentials role's SSM agent named in the sample records.
    const usage = usageOf([
      {
        action: 'ssm:UpdateInstanceInformation',
        resources: ['arn:aws:ec2:us-east-1:123837392027:instance/i-0dbc91f429e48eeed']
      },
      { action: 'ssm:GetParameter', resources: ['arn:aws:ssm:us-east-1:123837392027:parameter/app/db-host'] }
    ])
    const { proposal } = propose(grants, usage)
    expect(statements(proposal.policies)).toEqual([
      { Effect: 'Allow', Action: ['ssm:UpdateInstanceInformation'], Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['ssm:GetParameter'],
        Resource: ['arn:aws:ssm:us-east-1:123837392027:parameter/app/db-host']
      }
    ])
  })

  test('never narrows to a resource the current policies deny', () => {
    const grants = role('r', [
      inline(
        'p',
        doc(
          { Effect: 'Allow', Action: ['sqs:PurgeQueue', 'sqs:GetQueueUrl'], Resource: '*' },
          { Effect: 'Deny', Action: 'sqs:PurgeQueue', Resource: 'arn:aws:sqs:eu-west-1:111122223333:prod-*' }
        )
      )
    ])
    const usage = usageOf([
      { action: 'sqs:PurgeQueue', resources: ['arn:aws:sqs:eu-west-1:111122223333:prod-jobs'] }
    ])
    const { proposal } = propose(grants, usage)
    expect(statements(proposal.policies)[0]).toEqual({
      Effect: 'Allow',
      Action: ['sqs:PurgeQueue'],
      Resource: '*'
    })
  })

  test('wildcard compaction only under a wildcard the current statement grants', () => {
    const used = catalog.expand('ssm:Get*')
    const wide = allowing('ssm:*')
    const { proposal } = propose(wide, usageOf(used))
    expect(statements(proposal.policies)).toEqual([{ Effect: 'Allow', Action: ['ssm:Get*'], Resource: '*' }])
    expect(proposal.notes.join(' ')).toContain('ssm:Get*')
    const explicit = allowing([...used, 'ssm:PutParameter'])
    const { proposal: second } = propose(explicit, usageOf(used))
    expect(statements(second.policies)[0]?.Action).toEqual(used)
  })

  test('Deny and keep-Sid statements are carried verbatim; conditional grants keep their Condition', () => {
    const deny = { Sid: 'NoIam', Effect: 'Deny', Action: 'iam:*', Resource: '*' }
    const keep = {
      Sid: 'KeepBreakGlass',
      Effect: 'Allow',
      Action: ['iam:CreateUser', 'iam:DeleteUser'],
      Resource: '*'
    }
    const conditionalStatement = {
      Sid: 'Ec2InRegion',
      Effect: 'Allow',
      Action: ['ec2:StartInstances', 'ec2:StopInstances'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
    }
    const grants = role('r', [
      inline('p', doc({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, deny, keep, conditionalStatement))
    ])
    // Read and write S3 data events were both seen, so unused object-level actions can be judged.
    const usage = usageOf(['s3:ListAllMyBuckets', 's3:ListBucket', 's3:RestoreObject'], {
      evidence: { notes: [], dataEventsSeen: ['s3'] }
    })
    const { analysis, proposal } = propose(grants, usage)
    expect(analysis.conditional.map(c => c.action)).toEqual(['ec2:StartInstances', 'ec2:StopInstances'])
    expect(statements(proposal.policies)).toEqual([
      {
        Effect: 'Allow',
        Action: ['s3:ListAllMyBuckets', 's3:ListBucket', 's3:RestoreObject'],
        Resource: '*'
      },
      deny,
      keep,
      conditionalStatement
    ])
    expect(proposal.verification.noNewAccess).toBe(true)
  })

  test('splits into documents of at most 6,144 characters and respects the managed-policy count', () => {
    const used = catalog.expand('ec2:*').slice(0, 400)
    const grants = allowing(used)
    const { proposal } = propose(grants, usageOf(used))
    expect(proposal.policies.length).toBeGreaterThan(1)
    for (const policy of proposal.policies) {
      expect(policy.characters).toBe(policyCharacters(policy.document))
      expect(policy.characters).toBeLessThanOrEqual(MAX_POLICY_CHARACTERS)
    }
    expect(statements(proposal.policies).flatMap(s => s.Action as string[])).toEqual(used)
    // Each split statement is as full as it may be: the next action would not have fitted in one policy.
    const parts = statements(proposal.policies)
    for (const [i, part] of parts.slice(0, -1).entries()) {
      const next = (parts[i + 1]?.Action as string[])[0]
      expect(policyCharacters(part)).toBeLessThanOrEqual(STATEMENT_ROOM)
      expect(policyCharacters({ ...part, Action: [...(part.Action as string[]), next] })).toBeGreaterThan(
        STATEMENT_ROOM
      )
    }
    expect(proposal.verification.usedCovered).toBe(true)
    const limited = propose(grants, usageOf(used), { ...OPTIONS, maxManagedPolicies: 1 })
    expect(limited.proposal.policies).toEqual([])
    expect(limited.proposal.notes.join(' ')).toMatch(/needs \d+ managed policies .* more than the 1/)
  })

  test('service-linked roles get no proposal', () => {
    const grants = role('AWSServiceRoleForRDS', [managed('AmazonSSMManagedInstanceCore')], {
      editable: false,
      notEditableReason: 'service-linked roles cannot be edited'
    })
    const { proposal } = propose(grants, usageOf(['ssm:PutInventory']))
    expect(proposal.policies).toEqual([])
    expect(proposal.notes).toEqual(['No proposal: service-linked roles cannot be edited.'])
  })

  test('nothing used: no document, a plain note', () => {
    const grants = allowing('ec2:Describe*')
    const { proposal } = propose(grants, usageOf([]))
    expect(proposal.policies).toEqual([])
    expect(proposal.notes[0]).toMatch(/every granted action is excess/)
  })
})

describe('statement shapes', () => {
  test('a statement granting every action keeps its shape as NotAction when that is shorter', () => {
    const grants = role('r', [inline('p', doc({ Sid: 'All', Effect: 'Allow', Action: '*', Resource: '*' }))])
    const keepActions = catalog
      .services()
      .filter(s => s !== 'acm')
      .map(s => `${s}:*`)
    const options = { ...OPTIONS, keepActions }
    const { analysis, proposal } = propose(grants, usageOf([]), options)
    expect(analysis.excess.map(e => e.action).sort()).toEqual([...catalog.expand('acm:*')].sort())
    expect(statements(proposal.policies)).toEqual([
      { Sid: 'All', Effect: 'Allow', NotAction: ['acm:*'], Resource: '*' }
    ])
    expect(proposal.notes.join(' ')).toMatch(/as NotAction lists/)
    expect(proposal.verification.noNewAccess).toBe(true)
  })

  test('a statement that grants under a Condition is carried verbatim; only unconditional excess is dropped', () => {
    const region = {
      Sid: 'Region',
      Effect: 'Allow',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
    }
    const grants = role('r', [
      inline('p', doc({ Sid: 'Iam', Effect: 'Allow', Action: 'iam:*', Resource: '*' }, region))
    ])
    const { analysis, proposal } = propose(grants, usageOf(['iam:ListRoles']))
    expect(analysis.conditional.length).toBe(catalog.expand('*').length - catalog.expand('iam:*').length)
    expect(statements(proposal.policies)).toEqual([
      { Sid: 'Iam', Effect: 'Allow', Action: ['iam:ListRoles', 'iam:PassRole'], Resource: '*' },
      region
    ])
    expect(proposal.verification.noNewAccess).toBe(true)
  })

  test('a NotAction rewrite too long for one policy becomes a split Action list, not a withheld proposal', () => {
    // Every other action of every service kept: the NotAction list of what is dropped is far past 6,144 characters.
    const grants = allowing('*')
    const dropped = catalog
      .services()
      .flatMap(s => catalog.actionsOf(s).filter((_, i) => i % 2 === 1))
      .slice(0, 900)
    const keptOnes = catalog
      .services()
      .flatMap(s => catalog.actionsOf(s).filter((_, i) => i % 2 === 0))
      .slice(0, 400)
    const keepActions = catalog
      .services()
      .flatMap(s => catalog.actionsOf(s))
      .filter(a => !dropped.includes(a) && !keptOnes.includes(a))
    const { proposal } = propose(grants, usageOf(keptOnes), {
      ...OPTIONS,
      keepActions,
      maxManagedPolicies: 100
    })
    expect(proposal.notes.join(' ')).not.toMatch(/carried verbatim/)
    expect(proposal.outcome).toBe('proposed')
    expect(statements(proposal.policies).every(s => s.NotAction === undefined)).toBe(true)
  })

  test('PowerUserAccess with little used becomes an explicit list; unknown catalog names in ReadOnlyAccess are carried', () => {
    const power = propose(
      role('r', [managed('PowerUserAccess')]),
      usageOf(['ec2:DescribeInstances', 'iam:ListRoles'])
    )
    const actions = statements(power.proposal.policies).flatMap(s => s.Action as string[])
    expect(actions).toEqual(expect.arrayContaining(['ec2:DescribeInstances', 'iam:ListRoles']))
    expect(actions).not.toContain('ec2:RunInstances')
    expect(power.proposal.verification).toEqual({ usedCovered: true, noNewAccess: true, problems: [] })
    const readOnly = propose(role('r', [managed('ReadOnlyAccess')]), usageOf(['ec2:DescribeInstances']))
    expect(readOnly.proposal.notes.join(' ')).toMatch(
      /Carried actions the catalog does not know, unchanged: deepcomposer:/
    )
    expect(readOnly.proposal.verification.noNewAccess).toBe(true)
  })

  test('an action granted on * by one statement is not repeated in narrower ones', () => {
    const grants = role('r', [
      inline('wide', doc({ Effect: 'Allow', Action: ['sqs:PurgeQueue', 'sqs:GetQueueUrl'], Resource: '*' })),
      inline(
        'narrow',
        doc({
          Effect: 'Allow',
          Action: ['sqs:GetQueueUrl', 'sqs:DeleteQueue'],
          Resource: 'arn:aws:sqs:*:*:jobs'
        })
      )
    ])
    const { proposal } = propose(grants, usageOf(['sqs:GetQueueUrl']))
    expect(statements(proposal.policies)).toEqual([
      { Effect: 'Allow', Action: ['sqs:GetQueueUrl'], Resource: '*' }
    ])
  })

  test('equal Sids from different policies never share a document', () => {
    const grants = role('r', [
      inline('a', doc({ Sid: 'Main', Effect: 'Allow', Action: 'sqs:GetQueueUrl', Resource: '*' })),
      inline('b', doc({ Sid: 'Main', Effect: 'Allow', Action: 'sns:ListTopics', Resource: '*' }))
    ])
    const { proposal } = propose(grants, usageOf(['sqs:GetQueueUrl', 'sns:ListTopics']))
    expect(proposal.policies.map(p => p.name)).toEqual(['r-least-privilege-1', 'r-least-privilege-2'])
    expect(proposal.policies.map(p => p.document.Statement.map(s => s.Sid))).toEqual([['Main'], ['Main']])
  })
})

describe('verifyProposal catches unsafe proposals', () => {
  const grants = role('r', [
    inline(
      'p',
      doc({ Effect: 'Allow', Action: ['s3:GetObject', 's3:ListBucket'], Resource: 'arn:aws:s3:::b/*' })
    )
  ])
  const usage = usageOf([{ action: 's3:GetObject', resources: ['arn:aws:s3:::b/k'] }], {
    evidence: { notes: [], dataEventsSeen: ['s3'] }
  })
  const analysis = analyzeRole(grants, usage, OPTIONS)
  const model = buildGrantModel(grants)
  const as = (...statement: Record<string, unknown>[]): ProposedPolicy[] => [
    { name: 'x', document: { Version: '2012-10-17', Statement: statement }, characters: 0 }
  ]
  /** The proposal of these statements checked against the role's grants and use. */
  const verify = (...statement: Record<string, unknown>[]) =>
    verifyProposal(model, usage, analysis, as(...statement))

  test('new access: a wider action or resource', () => {
    const wider = verify({ Effect: 'Allow', Action: 's3:Get*', Resource: 'arn:aws:s3:::b/*' })
    expect(wider.noNewAccess).toBe(false)
    expect(wider.problems[0]).toMatch(/allows s3:\w+ on arn:aws:s3:::b\/\* beyond/)
    const elsewhere = verify({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })
    expect(elsewhere.noNewAccess).toBe(false)
    const conditionDropped = verifyProposal(
      buildGrantModel(
        role('c', [
          inline(
            'p',
            doc({
              Effect: 'Allow',
              Action: 's3:GetObject',
              Resource: '*',
              Condition: { Bool: { 'aws:SecureTransport': 'true' } }
            })
          )
        ])
      ),
      usage,
      analysis,
      as({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' })
    )
    expect(conditionDropped.noNewAccess).toBe(false)
  })

  test('a used action dropped', () => {
    const result = verify({ Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b/*' })
    expect(result.usedCovered).toBe(false)
    expect(result.noNewAccess).toBe(true)
    expect(result.problems).toEqual([
      'used action s3:GetObject on arn:aws:s3:::b/k is not allowed by the proposal as it is today'
    ])
  })

  test('the exact current document passes', () => {
    const same = verify({
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:ListBucket'],
      Resource: 'arn:aws:s3:::b/*'
    })
    expect(same).toEqual({ usedCovered: true, noNewAccess: true, problems: [] })
  })
})
