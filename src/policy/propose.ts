/**
 * The least-privilege proposal: each current Allow statement keeps only the actions that are used, unobservable,
 * conditional or kept (never one that is not granted today), with its resources and condition; Deny and keep-Sid
 * statements are carried verbatim. The result is split to IAM's size limits and proven with our own evaluator.
 */
import type { ProposedPolicy, RoleGrants, RoleUsage } from '../model.js'
import type { AnalyzeOptions, RoleAnalysis } from './analyze.js'
import { deriveStatements } from './derive-statements.js'
import type { Derived } from './derive-statements.js'
import { planKeeps } from './keep-plan.js'
import type { KeepPlan } from './keep-plan.js'
import { VERSION, sizePolicies } from './policy-size.js'
import { verifyProposal } from './verify.js'

export interface ProposeOptions extends AnalyzeOptions {
  /** Managed policies a role may have attached (IAM default quota 10). */
  maxManagedPolicies?: number
}

export interface Proposal {
  /**
   * `proposed`: `policies` replace the current ones. `detach-all`: nothing granted is used, unobservable, conditional
   * or kept, so the current policies can go (no document). `none`: no safe proposal (see notes); never "detach".
   */
  outcome: 'proposed' | 'detach-all' | 'none'
  /** Empty unless the outcome is `proposed`. */
  policies: ProposedPolicy[]
  /** What was split / compacted / narrowed, in plain words. */
  notes: string[]
  verification: { usedCovered: boolean; noNewAccess: boolean; problems: string[] }
}

/** What was carried, kept, narrowed and compacted, in plain words. */
function derivationNotes(
  derived: Derived,
  plan: KeepPlan,
  analysis: RoleAnalysis,
  options: AnalyzeOptions
): string[] {
  const notes: string[] = []
  if (derived.carriedDeny > 0) notes.push(`Carried ${derived.carriedDeny} Deny statement(s) unchanged.`)
  if (derived.carriedKeep > 0)
    notes.push(
      `Carried ${derived.carriedKeep} statement(s) verbatim because their Sid starts with "${options.keepSidPrefix}".`
    )
  if (plan.namedButNotGranted.length > 0) {
    notes.push(
      `Kept used action(s) that the catalog's resource types say no statement can grant, with their statements' ` +
        `resources: ${plan.namedButNotGranted.join(', ')}.`
    )
  }
  if (analysis.conditional.length > 0) {
    notes.push(`Kept ${analysis.conditional.length} conditionally granted action(s) with their Condition.`)
  }
  if (derived.narrowed > 0) {
    notes.push(
      `Narrowed ${derived.narrowed} used action(s) to the concrete resources observed (S3 object ARNs generalized to ` +
        `arn:aws:s3:::bucket/*).`
    )
  }
  if (derived.wildcards.size > 0) {
    notes.push(
      `Compacted with wildcards that match only kept actions and that the current policy already granted: ` +
        `${[...derived.wildcards].sort().join(', ')}.`
    )
  }
  if (derived.excluded > 0) {
    notes.push(
      `Wrote ${derived.excluded} statement(s) that grant every action as NotAction lists of what they no longer grant ` +
        '(shorter than listing what they keep; actions AWS adds later stay granted as they are today).'
    )
  }
  if (derived.unknownCarried.size > 0) {
    notes.push(
      `Carried actions the catalog does not know, unchanged: ${[...derived.unknownCarried].sort().join(', ')}.`
    )
  }
  return notes
}

const NOTHING_VERIFIED = { usedCovered: true, noNewAccess: true, problems: [] }

function noProposal(why: string, notes: string[] = []): Proposal {
  return {
    outcome: 'none',
    policies: [],
    notes: [...notes, `No proposal: ${why}.`],
    verification: NOTHING_VERIFIED
  }
}

/** The least-privilege proposal for one role, from its analysis (which holds the role's grant model). */
export function proposePolicies(
  grants: RoleGrants,
  usage: RoleUsage,
  analysis: RoleAnalysis,
  options: ProposeOptions
): Proposal {
  if (!grants.editable) return noProposal(grants.notEditableReason ?? 'the role cannot be edited')
  const { model } = analysis
  const plan = planKeeps(usage, analysis, options)
  const derived = deriveStatements(plan, options)
  const dollar = derived.literalDollar
  if (dollar) {
    const policy = model.policies.find(p => p.name === dollar.policy)
    return noProposal(
      `statement ${dollar.ref} (policy Version ${policy?.version ?? '2008-10-17'}) has \`\${...}\` text, which ` +
        `the proposal's Version ${VERSION} would read as a policy variable; move the policy to ${VERSION} ` +
        '(writing `${$}{` for a literal) first'
    )
  }
  if (!derived.statements.some(s => s.Effect === 'Allow')) {
    const notes = [
      'Nothing is used, unobservable, conditional or kept: every granted action is excess, so the least-privilege ' +
        'change is to detach the current policies (no document is proposed).'
    ]
    return {
      outcome: 'detach-all',
      policies: [],
      notes,
      verification: verifyProposal(model, usage, analysis, [])
    }
  }
  const notes = derivationNotes(derived, plan, analysis, options)
  const policies = sizePolicies(grants.name, derived.statements, options.maxManagedPolicies ?? 10, notes)
  if (!policies) return { outcome: 'none', policies: [], notes, verification: NOTHING_VERIFIED }
  const verification = verifyProposal(model, usage, analysis, policies)
  if (!verification.usedCovered || !verification.noNewAccess) {
    notes.push('No proposal: the own-evaluator proof failed (see problems); nothing is proposed.')
    return { outcome: 'none', policies: [], notes, verification }
  }
  return { outcome: 'proposed', policies, notes, verification }
}
