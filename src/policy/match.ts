/**
 * Action/NotAction matching over the catalog and Resource/NotResource matching against ARNs.
 * Policy variables (`${aws:username}`, ...) depend on the request, so a pattern holding one can only "maybe" match:
 * callers treat a maybe-Allow as conditional and a maybe-Deny as not certain.
 */
import type { CatalogIndex } from './catalog.js'
import type { NormalizedStatement } from './document.js'
import { globMatch } from './glob.js'

type Match = 'yes' | 'maybe' | 'no'

export interface CompiledStatement {
  statement: NormalizedStatement
  /** 1 for each catalog action id the Action/NotAction element applies to. */
  actionIds: Uint8Array
  /** Action patterns (of Action or NotAction) that match no catalog action. */
  unknownPatterns: string[]
  /** Lower-cased Action or NotAction patterns, for names outside the catalog. */
  lowerPatterns: string[]
}

const VARIABLE = /\$\{[^}]*\}/g

export function hasPolicyVariable(pattern: string): boolean {
  return pattern.includes('${')
}

/** Whether a statement's pattern holds a policy variable (Version 2008-10-17 reads `${...}` as text). */
export function patternHasVariable(statement: NormalizedStatement, pattern: string): boolean {
  return !statement.literalDollar && hasPolicyVariable(pattern)
}

/** The pattern with every policy variable widened to what it may expand to: a superset of where it matches. */
export function loosenPattern(pattern: string): string {
  // `${*}`, `${?}`, `${$}` are escapes for a literal character; other variables may expand to anything.
  return pattern.replace(VARIABLE, v => (v === '${*}' || v === '${?}' || v === '${$}' ? '?' : '*'))
}

/**
 * Whether an ARN (or any resource string) matches a Resource pattern; case-sensitive like IAM. `literal`: the
 * pattern comes from a Version 2008-10-17 policy, where `${...}` is text.
 */
export function resourcePatternMatch(pattern: string, resource: string, literal = false): Match {
  if (literal || !hasPolicyVariable(pattern)) return globMatch(pattern, resource) ? 'yes' : 'no'
  return globMatch(loosenPattern(pattern), resource) ? 'maybe' : 'no'
}

export function statementResourceMatch(statement: NormalizedStatement, resource: string): Match {
  const patterns = statement.resources ?? statement.notResources ?? []
  let best: Match = 'no'
  for (const pattern of patterns) {
    const m = resourcePatternMatch(pattern, resource, statement.literalDollar)
    if (m === 'yes') {
      best = 'yes'
      break
    }
    if (m === 'maybe') best = 'maybe'
  }
  if (statement.resources) return best
  return best === 'yes' ? 'no' : best === 'maybe' ? 'maybe' : 'yes'
}

export function compileStatement(catalog: CatalogIndex, statement: NormalizedStatement): CompiledStatement {
  const patterns = statement.actions ?? statement.notActions ?? []
  const matched = new Uint8Array(catalog.size)
  const unknownPatterns: string[] = []
  for (const pattern of patterns) {
    if (pattern === '*') {
      matched.fill(1)
      continue
    }
    const ids = catalog.expandIds(pattern)
    if (ids.length === 0) unknownPatterns.push(pattern)
    for (const id of ids) matched[id] = 1
  }
  if (statement.notActions) matched.forEach((m, id) => (matched[id] = m ^ 1))
  return { statement, actionIds: matched, unknownPatterns, lowerPatterns: patterns.map(p => p.toLowerCase()) }
}

/** Whether the statement's Action/NotAction applies to an action name (catalog or not), case-insensitively. */
export function statementActionMatch(
  catalog: CatalogIndex,
  compiled: CompiledStatement,
  action: string
): boolean {
  const id = catalog.idOf(action)
  if (id !== undefined) return compiled.actionIds[id] === 1
  const lower = action.toLowerCase()
  const listed = compiled.lowerPatterns.some(p => globMatch(p, lower))
  return compiled.statement.notActions ? !listed : listed
}
