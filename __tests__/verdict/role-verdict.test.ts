/** The withholding rules on real analyses and proposals (no I/O: the verdict is pure). */
import { describe, expect, it } from '@jest/globals'
import type { RoleGrants, RoleResult, RoleUsage } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import { excessActions } from '../../src/policy/excess.js'
import { judgeEvidence } from '../../src/policy/evidence.js'
import { proposePolicies } from '../../src/policy/propose.js'
import type { Proposal } from '../../src/policy/propose.js'
import {
  globalServicesUnseen,
  judgeRole,
  judgeUnverified,
  wantsAwsChecks,
  wantsProposal
} from '../../src/verdict/role-verdict.js'
import type { AwsChecks, RoleFindings } from '../../src/verdict/role-verdict.js'
import { doc, inline, OPTIONS, role, usageOf } from '../policy/builders.js'
import { blankRole } from '../support/sample-reports.js'

/** A role's report entry before any verdict. */
const ENTRY: RoleResult = blankRole()
const WINDOW = { start: '2026-08-01T00:00:00Z', end: '2026-10-01T00:00:00Z' }

function findings(
  grants: RoleGrants,
  usage: RoleUsage,
  extra: { proposal?: (p: Proposal) => Proposal; awsChecks?: AwsChecks } = {}
): RoleFindings {
  const analysis = analyzeRole(grants, usage, OPTIONS)
  const evidence = judgeEvidence(usage, { minObservationDays: 30, allowIncomplete: false })
  const base = { entry: ENTRY, grants, usage, analysis, evidence }
  if (!wantsProposal(base)) return base
  const proposal = proposePolicies(grants, usage, analysis, OPTIONS)
  return {
    ...base,
    proposal: extra.proposal ? extra.proposal(proposal) : proposal,
    ...(extra.awsChecks ? { awsChecks: extra.awsChecks } : {})
  }
}

const ec2 = (...actions: string[]) =>
  role('app', [inline('app', doc({ Effect: 'Allow', Action: actions, Resource: '*' }))])
/** Usage over two months of a trail that logs every management event. */
const used = (actions: string[], source: RoleUsage['source'] = 'access-analyzer') =>
  usageOf(
    actions,
    {
      window: WINDOW,
      evidence: {
        notes: [],
        eventsMatched: actions.length,
        trailLogging: { origin: 'options', managementRead: true, managementWrite: true, excludedSources: [] }
      }
    },
    source
  )
const PASS: AwsChecks = { validatePolicy: [], checkNoNewAccess: 'PASS', evaluator: 'PASS' }

describe('judgeRole', () => {
  it('proposes what the evaluator and Access Analyzer both passed, with the diff', () => {
    const f = findings(
      ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      used(['ec2:DescribeInstances']),
      {
        awsChecks: PASS
      }
    )
    expect(f.proposal && wantsAwsChecks(f.proposal)).toBe(true)
    const result = judgeRole(f)
    expect(result).toMatchObject({ status: 'analyzed', proposalOutcome: 'proposed', checks: PASS })
    expect(excessActions(result.excess).map(e => e.action)).toEqual(['ec2:TerminateInstances'])
    expect(result.proposed.length).toBe(1)
    expect(result.diff).toBeDefined()
  })

  it('withholds on weak evidence: insufficient-evidence with the reason, no proposal made', () => {
    const f = findings(
      ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      usageOf(['ec2:DescribeInstances'], {}, 'access-analyzer')
    )
    expect(f.proposal).toBeUndefined()
    const result = judgeRole(f)
    expect(result.status).toBe('insufficient-evidence')
    expect(result.reason).toMatch(/min-observation-days/)
    expect(result.proposalOutcome).toBeUndefined()
  })

  it('proposes nothing for a role that cannot be edited, and says why', () => {
    const grants = {
      ...ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      editable: false,
      notEditableReason: 'service-linked role: AWS owns and maintains its policies'
    }
    const f = findings(grants, used(['ec2:DescribeInstances']))
    expect(f.proposal).toBeUndefined()
    expect(judgeRole(f).proposalNotes).toEqual([
      'No proposal: service-linked role: AWS owns and maintains its policies.'
    ])
  })

  it('withholds what our own evaluator cannot prove, and records the failed check', () => {
    const f = findings(
      ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      used(['ec2:DescribeInstances']),
      {
        proposal: p => ({
          ...p,
          verification: { usedCovered: false, noNewAccess: true, problems: ['x is lost'] }
        })
      }
    )
    expect(f.proposal && wantsAwsChecks(f.proposal)).toBe(false)
    const result = judgeRole(f)
    expect(result).toMatchObject({
      proposalOutcome: 'withheld',
      proposed: [],
      checks: { checkNoNewAccess: 'SKIPPED', evaluator: 'FAIL' }
    })
    expect(result.proposalNotes?.at(-1)).toBe('proposal withheld: x is lost')
  })

  it('withholds detach-all when CloudTrail shows calls the known policies do not grant, not otherwise', () => {
    const grants = ec2('ec2:TerminateInstances')
    const incomplete = judgeRole(findings(grants, used(['ec2:DescribeInstances'], 'cloudtrail')))
    expect(incomplete.proposalOutcome).toBe('withheld')
    expect(incomplete.proposalNotes).toContain(
      'proposal withheld: the granted view is incomplete, so detaching everything is not safe'
    )
    // Access Analyzer counts denied calls as used: an ungranted action there says nothing about missing policies.
    expect(judgeRole(findings(grants, used(['ec2:DescribeInstances']))).proposalOutcome).toBe('detach-all')
  })

  it('withholds a proposal that fits no IAM limit', () => {
    const f = findings(
      ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      used(['ec2:DescribeInstances']),
      {
        proposal: p => ({ ...p, outcome: 'none', policies: [] })
      }
    )
    expect(judgeRole(f).proposalNotes?.at(-1)).toBe(
      'proposal withheld: no proposal fits IAM limits without changing what is granted'
    )
  })

  it('withholds on a CheckNoNewAccess FAIL or a ValidatePolicy error, keeping the checks', () => {
    const grants = ec2('ec2:DescribeInstances', 'ec2:TerminateInstances')
    const usage = used(['ec2:DescribeInstances'])
    const newAccess = judgeRole(findings(grants, usage, { awsChecks: { ...PASS, checkNoNewAccess: 'FAIL' } }))
    expect(newAccess).toMatchObject({ proposalOutcome: 'withheld', checks: { checkNoNewAccess: 'FAIL' } })
    const error = { policy: 'app', findingType: 'ERROR', issueCode: 'MISSING_VERSION', details: 'no Version' }
    const invalid = judgeRole(findings(grants, usage, { awsChecks: { ...PASS, validatePolicy: [error] } }))
    expect(invalid.proposalNotes?.at(-1)).toBe(
      'proposal withheld: Access Analyzer ValidatePolicy reported an error'
    )
  })

  it('says when the Access Analyzer checks were left out for want of credentials', () => {
    const f = findings(
      ec2('ec2:DescribeInstances', 'ec2:TerminateInstances'),
      used(['ec2:DescribeInstances']),
      {
        awsChecks: 'no-credentials'
      }
    )
    const result = judgeRole(f)
    expect(result).toMatchObject({
      proposalOutcome: 'proposed',
      checks: { validatePolicy: [], checkNoNewAccess: 'SKIPPED', evaluator: 'PASS' }
    })
    expect(result.proposalNotes).toContain(
      'Access Analyzer checks skipped: this run used no AWS credentials; our own evaluator proved the proposal'
    )
  })

  it('notes calls observed but not granted', () => {
    const result = judgeRole(
      findings(ec2('ec2:DescribeInstances'), used(['ec2:DescribeInstances', 's3:ListBucket']))
    )
    expect(result.evidence?.notes).toContain(
      'observed but not granted by the current policies (not added to the proposal): s3:ListBucket'
    )
  })
})

describe('judgeUnverified', () => {
  it('judges by risk only, with the change when there is one', () => {
    expect(judgeUnverified(ENTRY, 'new role: unverified')).toMatchObject({
      status: 'insufficient-evidence',
      reason: 'new role: unverified'
    })
    expect(judgeUnverified(ENTRY, 'r').change).toBeUndefined()
  })
})

describe('globalServicesUnseen', () => {
  it('lists the global services only when trail-regions leaves us-east-1 out', () => {
    expect(globalServicesUnseen([])).toEqual([])
    expect(globalServicesUnseen(['eu-west-1', 'us-east-1'])).toEqual([])
    const unseen = globalServicesUnseen(['eu-west-1'])
    expect(unseen.map(u => u.service)).toEqual(expect.arrayContaining(['iam', 'sts', 'route53']))
    expect(unseen[0]?.reason).toBe('iam records its events in us-east-1, which trail-regions leaves out')
  })
})
