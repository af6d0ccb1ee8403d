/**
 * The own-evaluator proof of a proposal: every used and granted action stays allowed where it was used, and the
 * proposal allows nothing the current policies do not (over every catalog action, on `*` and on every resource a
 * statement names, comparing the conditions under which each allow holds).
 */
import type { ProposedPolicy, RoleUsage } from '../model.js'
import type { RoleAnalysis } from './analyze.js'
import { normalizePolicy } from './document.js'
import { compilePolicy, decide } from './evaluate.js'
import type { DetailedDecision } from './evaluate.js'
import { NOT_GRANTED } from './grants.js'
import type { GrantModel } from './grants.js'
import { statementActionMatch } from './match.js'
import type { CompiledStatement } from './match.js'
import { observedResources } from './resources.js'
import { at } from './at.js'

interface Verification {
  usedCovered: boolean
  noNewAccess: boolean
  problems: string[]
}

const MAX_PROBLEMS = 20

function withinCurrent(proposal: DetailedDecision, current: DetailedDecision): boolean {
  if (current.decision !== 'allow') return false
  const allowsCovered =
    current.allowQualifiers.has('') ||
    (!proposal.allowQualifiers.has('') &&
      [...proposal.allowQualifiers].every(q => current.allowQualifiers.has(q)))
  return allowsCovered && [...current.denyQualifiers].every(q => proposal.denyQualifiers.has(q))
}

function statementPatterns(c: CompiledStatement): string[] {
  return c.statement.resources ?? c.statement.notResources ?? []
}

export function verifyProposal(
  model: GrantModel,
  usage: RoleUsage,
  analysis: RoleAnalysis,
  proposed: ProposedPolicy[]
): Verification {
  const { catalog, granted } = model
  const current = model.statements
  const proposal = proposed.flatMap(p => compilePolicy(catalog, normalizePolicy(p.name, p.document)))
  const problems: string[] = []
  const report = (problem: string) => {
    if (problems.length < MAX_PROBLEMS) problems.push(problem)
    else if (problems.length === MAX_PROBLEMS) problems.push('... more problems not listed')
  }

  let usedCovered = true
  const observed = observedResources(catalog, usage)
  for (const name of analysis.used) {
    const id = catalog.idOf(name)
    if (id === undefined) {
      // Outside the catalog: it must stay granted by some Allow statement if one grants it today.
      const allows = (statements: CompiledStatement[]) =>
        statements.some(c => c.statement.effect === 'Allow' && statementActionMatch(catalog, c, name))
      if (allows(current) && !allows(proposal)) {
        usedCovered = false
        report(`used action ${name} (not in the catalog) is no longer granted by the proposal`)
      }
      continue
    }
    if (granted[id] === NOT_GRANTED) continue
    const applies = (c: CompiledStatement) => c.actionIds[id] === 1
    const concrete = observed.get(id)
    const probes =
      concrete ?? current.filter(c => c.statement.effect === 'Allow' && applies(c)).flatMap(statementPatterns)
    for (const resource of probes.length > 0 ? probes : ['*']) {
      const before = decide(current, applies, resource)
      if (before.decision !== 'allow') continue
      const after = decide(proposal, applies, resource)
      if (after.decision !== 'allow' || (before.allowQualifiers.has('') && !after.allowQualifiers.has(''))) {
        usedCovered = false
        report(`used action ${name} on ${resource} is not allowed by the proposal as it is today`)
      }
    }
  }

  // Actions to which the same statements apply get the same answer: compute it once per set of statements.
  let noNewAccess = true
  const answers = new Map<string, string[]>()
  const beyondCurrent = (applies: (c: CompiledStatement) => boolean): string[] => {
    const proposalApplying = proposal.filter(applies)
    if (!proposalApplying.some(c => c.statement.effect === 'Allow')) return []
    const currentApplying = current.filter(applies)
    const key = `${proposalApplying.map(c => proposal.indexOf(c)).join(',')}|${currentApplying.map(c => current.indexOf(c)).join(',')}`
    let failing = answers.get(key)
    if (!failing) {
      failing = []
      const probes = new Set([
        '*',
        ...proposalApplying.flatMap(statementPatterns),
        ...currentApplying.flatMap(statementPatterns)
      ])
      for (const resource of probes) {
        const after = decide(proposalApplying, () => true, resource)
        if (
          after.decision === 'allow' &&
          !withinCurrent(
            after,
            decide(currentApplying, () => true, resource)
          )
        ) {
          failing.push(resource)
        }
      }
      answers.set(key, failing)
    }
    return failing
  }
  const check = (action: string, applies: (c: CompiledStatement) => boolean) => {
    for (const resource of beyondCurrent(applies)) {
      noNewAccess = false
      report(`the proposal allows ${action} on ${resource} beyond what the current policies allow`)
    }
  }
  for (let id = 0; id < catalog.size; id++) check(at(catalog.names, id), c => c.actionIds[id] === 1)
  const outside = new Set(proposal.flatMap(c => c.unknownPatterns))
  for (const action of outside) check(action, c => statementActionMatch(catalog, c, action))

  return { usedCovered, noNewAccess, problems }
}
