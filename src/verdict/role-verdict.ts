/**
 * The verdict on one role, from what is already known about it: its analysis, the evidence behind its usage, the
 * proposal and the results of the checks on it. Pure: no I/O, no clock.
 */
import type { ProposalChecks, PullRequestChange, RoleGrants, RoleResult, RoleUsage } from '../model.js'
import { readsLogRecords } from '../model.js'
import type { RoleAnalysis } from '../policy/analyze.js'
import { compactConditional, compactUnobservable } from '../policy/action-groups.js'
import { policyDiff } from '../policy/diff.js'
import { compactExcess } from '../policy/excess.js'
import type { EvidenceVerdict } from '../policy/evidence.js'
import type { Proposal } from '../policy/propose.js'

/** The Access Analyzer checks of a proposal: their results, or that they were left out for want of credentials. */
export type AwsChecks = ProposalChecks | 'no-credentials'

export interface RoleFindings {
  /** The role's report entry before any verdict: identity, editability, evidence, policy file. */
  entry: RoleResult
  grants: RoleGrants
  usage: RoleUsage
  analysis: RoleAnalysis
  evidence: EvidenceVerdict
  /** On a pull request: what it adds to the role's policy file. */
  change?: PullRequestChange
  /** Made when `wantsProposal` says so. */
  proposal?: Proposal
  /** Made when `wantsAwsChecks` says so and checks are on; absent, the proposal rests on our evaluator alone. */
  awsChecks?: AwsChecks
}

/** Whether a proposal is to be made: enough evidence, something to remove, and a role that can be edited. */
export function wantsProposal(f: Pick<RoleFindings, 'grants' | 'analysis' | 'evidence'>): boolean {
  return f.evidence.sufficient && f.analysis.excess.length > 0 && f.grants.editable
}

/** Whether Access Analyzer is to check the proposal: only policies our own evaluator proved safe are worth it. */
export function wantsAwsChecks(proposal: Proposal): boolean {
  return (
    proposal.outcome === 'proposed' && proposal.verification.usedCovered && proposal.verification.noNewAccess
  )
}

/** A role judged only by the risk of what it is granted (a new role, or one no selector lists). */
export function judgeUnverified(entry: RoleResult, reason: string, change?: PullRequestChange): RoleResult {
  return { ...entry, status: 'insufficient-evidence', reason, ...(change ? { change } : {}) }
}

/**
 * What the analysis says about the role, and the proposal when it stands. A proposal is withheld, never published,
 * when our evaluator cannot prove it, when the granted view is shown incomplete by the records, when it does not
 * fit IAM's limits, or when Access Analyzer finds new access or an error in it.
 */
export function judgeRole(f: RoleFindings): RoleResult {
  const facts = withFacts(f.entry, f.analysis)
  const change = f.change ? { change: f.change } : {}
  if (!f.evidence.sufficient)
    return {
      ...facts,
      status: 'insufficient-evidence',
      ...(f.evidence.reason !== undefined ? { reason: f.evidence.reason } : {}),
      ...change
    }
  const analyzed: RoleResult = {
    ...facts,
    status: 'analyzed',
    excess: compactExcess(f.analysis.excess),
    ...change
  }
  if (f.analysis.excess.length === 0) return analyzed
  if (!f.grants.editable)
    return {
      ...analyzed,
      proposalNotes: [`No proposal: ${f.grants.notEditableReason ?? 'the role cannot be edited'}.`]
    }
  const proposal = f.proposal
  if (!proposal) throw new Error('internal: no proposal for an editable role with excess')

  const notes = [...proposal.notes]
  const withheld = (why: string, checks?: ProposalChecks): RoleResult => ({
    ...analyzed,
    ...(checks ? { checks } : {}),
    proposalOutcome: 'withheld',
    proposalNotes: [...notes, `proposal withheld: ${why}`]
  })
  if (!proposal.verification.usedCovered || !proposal.verification.noNewAccess) {
    return withheld(
      proposal.verification.problems.join('; ') || 'our own evaluator could not prove the proposal safe',
      { validatePolicy: [], checkNoNewAccess: 'SKIPPED', evaluator: 'FAIL' }
    )
  }
  // CloudTrail shows only authorized calls: one the known policies do not grant means they are not the whole story.
  const unexplained = readsLogRecords(f.usage.source) ? f.analysis.usedNotGranted : []
  if (unexplained.length > 0) {
    notes.push(
      `the role made authorized calls its known policies do not grant (${unexplained.join(', ')}): some granted policy is missing from this analysis`
    )
  }
  if (proposal.outcome === 'detach-all') {
    if (unexplained.length > 0)
      return withheld('the granted view is incomplete, so detaching everything is not safe')
    return { ...analyzed, proposalOutcome: 'detach-all', proposalNotes: notes }
  }
  if (proposal.outcome === 'none')
    return withheld('no proposal fits IAM limits without changing what is granted')

  const evaluatorOnly: ProposalChecks = { validatePolicy: [], checkNoNewAccess: 'SKIPPED', evaluator: 'PASS' }
  const checks = f.awsChecks === undefined || f.awsChecks === 'no-credentials' ? evaluatorOnly : f.awsChecks
  if (f.awsChecks === 'no-credentials')
    notes.push(
      'Access Analyzer checks skipped: this run used no AWS credentials; our own evaluator proved the proposal'
    )
  if (checks.checkNoNewAccess === 'FAIL')
    return withheld('Access Analyzer CheckNoNewAccess found possible new access', checks)
  if (checks.validatePolicy.some(finding => finding.findingType === 'ERROR'))
    return withheld('Access Analyzer ValidatePolicy reported an error', checks)
  const current = f.grants.policies.map(p => ({ name: p.name, document: p.document }))
  return {
    ...analyzed,
    checks,
    proposed: proposal.policies,
    proposalOutcome: 'proposed',
    proposalNotes: notes,
    diff: policyDiff(current, proposal.policies)
  }
}

/** The entry with what the analysis found, whatever the verdict. */
function withFacts(entry: RoleResult, analysis: RoleAnalysis): RoleResult {
  const facts: RoleResult = {
    ...entry,
    used: analysis.used,
    unobservable: compactUnobservable(analysis.unobservable),
    conditional: compactConditional(analysis.conditional),
    ...(analysis.unknownActions.length ? { unknownActions: analysis.unknownActions } : {}),
    ...(analysis.kept.length || analysis.keptStatements.length
      ? { kept: { statements: analysis.keptStatements, actions: analysis.kept } }
      : {})
  }
  if (analysis.usedNotGranted.length === 0) return facts
  return {
    ...facts,
    evidence: {
      ...(facts.evidence ?? { notes: [] }),
      notes: [
        ...(facts.evidence?.notes ?? []),
        `observed but not granted by the current policies (not added to the proposal): ${analysis.usedNotGranted.join(', ')}`
      ]
    }
  }
}

/** Services whose calls CloudTrail records in us-east-1 whatever Region they were made from. */
const GLOBAL_SERVICES = [
  'iam',
  'sts',
  'cloudfront',
  'route53',
  'organizations',
  'waf',
  'globalaccelerator',
  'shield'
]

/** The global services a trail limited to `regions` cannot show: their actions are unobservable, never excess. */
export function globalServicesUnseen(regions: readonly string[]): { service: string; reason: string }[] {
  if (regions.length === 0 || regions.includes('us-east-1')) return []
  return GLOBAL_SERVICES.map(service => ({
    service,
    reason: `${service} records its events in us-east-1, which trail-regions leaves out`
  }))
}
