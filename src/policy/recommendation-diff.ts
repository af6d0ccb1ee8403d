/**
 * How AWS's recommended policy (unused-access findings) differs from our proposal: both are applied to the role's
 * current policies and compared action by action with the same grant model, and the actions only ours keeps are
 * explained by what our analysis found about them (unobservable, conditional, kept, used). Pure.
 */
import type { FetchedRecommendation, GrantedPolicy, RoleGrants, RoleResult } from '../model.js'
import { normalizePolicy } from './document.js'
import type { NormalizedStatement } from './document.js'
import { NOT_GRANTED, buildGrantModel } from './grants.js'
import { at } from './at.js'
import { conditionalActionList, unobservableActionList } from './action-groups.js'

const SHOWN = 8

function list(actions: readonly string[]): string {
  const shown = actions.slice(0, SHOWN).join(', ')
  return actions.length > SHOWN ? `${shown} and ${actions.length - SHOWN} more` : shown
}

/** The role's policies once AWS's steps are applied: replaced (CREATE_POLICY), detached, or left as they are. */
function applyRecommendation(
  policies: readonly GrantedPolicy[],
  recommendation: FetchedRecommendation,
  notes: string[]
): GrantedPolicy[] {
  const out: GrantedPolicy[] = []
  const matched = new Set<number>()
  for (const policy of policies) {
    const index = recommendation.steps.findIndex(
      s =>
        s.existingPolicyId !== undefined &&
        (s.existingPolicyId === policy.arn || s.existingPolicyId === policy.name)
    )
    const step = recommendation.steps[index]
    if (!step) {
      out.push(policy)
      continue
    }
    matched.add(index)
    if (step.action === 'CREATE_POLICY' && step.recommendedPolicy !== undefined)
      out.push({ ...policy, name: `${policy.name} (AWS)`, document: step.recommendedPolicy })
  }
  recommendation.steps.forEach((s, i) => {
    if (!matched.has(i))
      notes.push(
        `AWS's step ${s.action}${s.existingPolicyId ? ` for ${s.existingPolicyId}` : ''} names no policy this analysis read: it is left out of the comparison.`
      )
  })
  return out
}

/** The documents our verdict leaves the role with: the proposal, nothing (detach-all), or today's policies. */
function ourPolicies(grants: RoleGrants, result: RoleResult): GrantedPolicy[] {
  if (result.proposalOutcome === 'detach-all') return []
  if (result.proposalOutcome !== 'proposed') return grants.policies
  return result.proposed.map(p => ({
    name: p.name,
    kind: 'inline' as const,
    awsManaged: false,
    document: p.document,
    origin: 'proposal'
  }))
}

function statements(policies: readonly GrantedPolicy[]): NormalizedStatement[] {
  return policies.flatMap(p => {
    try {
      return normalizePolicy(p.name, p.document).statements
    } catch {
      return []
    }
  })
}

function grantedActions(grants: RoleGrants, policies: GrantedPolicy[]): Set<string> {
  const model = buildGrantModel({ ...grants, policies })
  const out = new Set<string>()
  model.granted.forEach((level, id) => {
    if (level !== NOT_GRANTED) out.add(at(model.catalog.names, id))
  })
  return out
}

/** The differences, each one line; empty when AWS's recommendation is not there to compare. */
export function recommendationDifferences(
  grants: RoleGrants,
  result: RoleResult,
  recommendation: FetchedRecommendation
): string[] {
  if (recommendation.status !== 'SUCCEEDED') return []
  const notes: string[] = []
  const theirs = applyRecommendation(grants.policies, recommendation, notes)
  let awsActions: Set<string>
  try {
    awsActions = grantedActions(grants, theirs)
  } catch (e) {
    return [`AWS's recommended policy could not be read: ${e instanceof Error ? e.message : String(e)}`]
  }
  const ours = ourPolicies(grants, result)
  const ourActions = grantedActions(grants, ours)
  const onlyAws = [...awsActions].filter(a => !ourActions.has(a)).sort()
  const onlyOurs = [...ourActions].filter(a => !awsActions.has(a)).sort()
  const out: string[] = []
  if (onlyAws.length > 0)
    out.push(
      `AWS's recommendation keeps ${onlyAws.length} action(s) ours removes (ours judged them not used in the window): ${list(onlyAws)}.`
    )
  const used = new Set(result.used)
  const unobservable = new Map(unobservableActionList(result.unobservable).map(u => [u.action, u.reason]))
  const conditional = new Set(conditionalActionList(result.conditional).map(c => c.action))
  const kept = new Set(result.kept?.actions ?? [])
  const groups: { label: string; actions: string[] }[] = [
    { label: 'used in the window', actions: onlyOurs.filter(a => used.has(a)) },
    {
      label: 'unobservable by the findings (their use cannot be shown, so ours keeps them)',
      actions: onlyOurs.filter(a => unobservable.has(a))
    },
    {
      label: 'granted only under a condition (ours keeps the condition)',
      actions: onlyOurs.filter(a => conditional.has(a))
    },
    { label: 'protected by keep-actions or a keep statement', actions: onlyOurs.filter(a => kept.has(a)) }
  ]
  const explained = new Set(groups.flatMap(g => g.actions))
  const other = onlyOurs.filter(a => !explained.has(a))
  for (const g of groups)
    if (g.actions.length > 0)
      out.push(`Ours keeps ${g.actions.length} action(s) AWS's removes, ${g.label}: ${list(g.actions)}.`)
  if (other.length > 0)
    out.push(
      `Ours keeps ${other.length} other action(s) AWS's removes (no excess was proposed for them, for example for want of evidence): ${list(other)}.`
    )
  if (onlyAws.length === 0 && onlyOurs.length === 0) out.push('Both grant the same actions.')

  const ourStatements = statements(ours)
  const awsStatements = statements(theirs)
  const count = (list: NormalizedStatement[], test: (s: NormalizedStatement) => boolean) =>
    list.filter(test).length
  const facts: { what: string; test: (s: NormalizedStatement) => boolean }[] = [
    { what: 'Deny statement(s)', test: s => s.effect === 'Deny' },
    {
      what: 'Allow statement(s) with a Condition',
      test: s => s.effect === 'Allow' && s.condition !== undefined
    },
    {
      what: 'Allow statement(s) limited to named resources',
      test: s => s.effect === 'Allow' && (s.notResources !== undefined || !(s.resources ?? []).includes('*'))
    }
  ]
  for (const { what, test } of facts) {
    const [mine, aws] = [count(ourStatements, test), count(awsStatements, test)]
    if (mine !== aws) out.push(`Ours has ${mine} ${what}, AWS's has ${aws}.`)
  }
  return [...out, ...notes]
}
