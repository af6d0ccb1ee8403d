/**
 * Our own evaluator for identity policies: explicit Deny wins, then Allow, else implicit deny.
 * A statement with a Condition, or whose resource only matches through a policy variable, applies "maybe": a maybe
 * Allow is reported as a conditional allow, a maybe Deny never denies for certain.
 */
import { loadCatalogIndex } from './catalog.js'
import type { CatalogIndex } from './catalog.js'
import type { NormalizedPolicy } from './document.js'
import { compileStatement, statementActionMatch, statementResourceMatch } from './match.js'
import type { CompiledStatement } from './match.js'

interface Decision {
  decision: 'allow' | 'deny' | 'implicit-deny'
  conditional: boolean
  matchedBy: string[]
}

/** What qualifies each matching statement: '' when it applies for certain, otherwise its condition and resource. */
export interface DetailedDecision extends Decision {
  allowQualifiers: Set<string>
  denyQualifiers: Set<string>
}

const compiledCache = new WeakMap<NormalizedPolicy, CompiledStatement[]>()

export function compilePolicy(catalog: CatalogIndex, policy: NormalizedPolicy): CompiledStatement[] {
  let compiled = compiledCache.get(policy)
  if (!compiled) {
    compiled = policy.statements.map(s => compileStatement(catalog, s))
    compiledCache.set(policy, compiled)
  }
  return compiled
}

function evaluateDetailed(documents: NormalizedPolicy[], action: string, resource: string): DetailedDecision {
  const catalog = loadCatalogIndex()
  const statements = documents.flatMap(policy => compilePolicy(catalog, policy))
  const id = catalog.idOf(action)
  return decide(
    statements,
    id === undefined ? c => statementActionMatch(catalog, c, action) : c => c.actionIds[id] === 1,
    resource
  )
}

/** The decision over compiled statements, given which of them apply to the action. */
export function decide(
  statements: readonly CompiledStatement[],
  appliesToAction: (compiled: CompiledStatement) => boolean,
  resource: string
): DetailedDecision {
  const matchedBy: string[] = []
  const allowQualifiers = new Set<string>()
  const denyQualifiers = new Set<string>()
  for (const compiled of statements) {
    if (!appliesToAction(compiled)) continue
    const resourceMatch = statementResourceMatch(compiled.statement, resource)
    if (resourceMatch === 'no') continue
    matchedBy.push(compiled.statement.ref)
    const { condition, resources, notResources } = compiled.statement
    const certain = resourceMatch === 'yes' && !condition
    const qualifier = certain
      ? ''
      : JSON.stringify([condition ?? null, resourceMatch === 'maybe' ? (resources ?? notResources) : null])
    if (compiled.statement.effect === 'Deny') denyQualifiers.add(qualifier)
    else allowQualifiers.add(qualifier)
  }
  let decision: Decision['decision'] = 'implicit-deny'
  let conditional = false
  if (denyQualifiers.has('')) decision = 'deny'
  else if (allowQualifiers.size > 0) {
    decision = 'allow'
    conditional = !allowQualifiers.has('') || denyQualifiers.size > 0
  }
  return { decision, conditional, matchedBy, allowQualifiers, denyQualifiers }
}

export function evaluate(
  documents: NormalizedPolicy[],
  action: string,
  resource: string
): { decision: 'allow' | 'deny' | 'implicit-deny'; conditional: boolean; matchedBy: string[] } {
  const { decision, conditional, matchedBy } = evaluateDetailed(documents, action, resource)
  return { decision, conditional, matchedBy }
}
