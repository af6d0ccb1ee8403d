/**
 * A small reference evaluator for IAM identity policies and permissions boundaries, written from the IAM policy
 * evaluation logic documentation and independent of src/policy: it answers one concrete request (action, resource,
 * request context) at a time, for the subset of IAM the differential tests generate.
 *
 * - An explicit Deny in any policy (identity or boundary) wins; otherwise an identity Allow is needed, and when a
 *   boundary is set, a boundary Allow as well.
 * - Action/NotAction match case-insensitively, Resource/NotResource case-sensitively; `*` matches any run of
 *   characters, `?` one character.
 * - Version 2012-10-17 replaces `${key}` in Resource with the request's value; a key the request lacks makes that
 *   pattern match nothing. Version 2008-10-17 (or none) reads `${...}` as text.
 * - Conditions: StringEquals, StringLike, Bool, each key ANDed, values ORed; a missing key fails the condition.
 */

export type RequestContext = Readonly<Record<string, string | undefined>>

export interface ReferencePolicy {
  Version?: string
  Statement: ReferenceStatement[]
}

export interface ReferenceStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Action?: string | string[]
  NotAction?: string | string[]
  Resource?: string | string[]
  NotResource?: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

const patternCache = new Map<string, RegExp>()

/** An IAM wildcard pattern as an anchored regular expression. */
export function wildcardRegExp(pattern: string, flags = ''): RegExp {
  const key = `${flags}/${pattern}`
  let re = patternCache.get(key)
  if (!re) {
    let source = ''
    for (const ch of pattern) {
      if (ch === '*') source += '[\\s\\S]*'
      else if (ch === '?') source += '[\\s\\S]'
      else source += ch.replace(/[\\^$.|+(){}[\]]/g, '\\$&')
    }
    re = new RegExp(`^${source}$`, flags)
    patternCache.set(key, re)
  }
  return re
}

const list = (value: string | string[] | undefined): string[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value]

function actionMatches(statement: ReferenceStatement, action: string): boolean {
  const hit = (patterns: string[]) => patterns.some(p => wildcardRegExp(p, 'i').test(action))
  return statement.Action !== undefined ? hit(list(statement.Action)) : !hit(list(statement.NotAction))
}

/** The pattern with its policy variables replaced, or undefined when the request lacks one of them. */
function substitute(pattern: string, context: RequestContext, variables: boolean): string | undefined {
  if (!variables) return pattern
  let missing = false
  const out = pattern.replace(/\$\{([^}]*)\}/g, (_, key: string) => {
    const value = context[key]
    if (value === undefined) missing = true
    return value ?? ''
  })
  return missing ? undefined : out
}

function resourceMatches(
  statement: ReferenceStatement,
  resource: string,
  context: RequestContext,
  variables: boolean
): boolean {
  const hit = (patterns: string[]) =>
    patterns.some(p => {
      const concrete = substitute(p, context, variables)
      return concrete !== undefined && wildcardRegExp(concrete).test(resource)
    })
  return statement.Resource !== undefined ? hit(list(statement.Resource)) : !hit(list(statement.NotResource))
}

function conditionHolds(statement: ReferenceStatement, context: RequestContext): boolean {
  for (const [operator, keys] of Object.entries(statement.Condition ?? {})) {
    for (const [key, expected] of Object.entries(keys)) {
      const actual = context[key]
      if (actual === undefined) return false
      const values = list(expected)
      const ok =
        operator === 'StringEquals'
          ? values.includes(actual)
          : operator === 'StringLike'
            ? values.some(v => wildcardRegExp(v).test(actual))
            : operator === 'Bool'
              ? values.some(v => v.toLowerCase() === actual.toLowerCase())
              : false
      if (!ok) return false
    }
  }
  return true
}

type Outcome = 'allow' | 'deny' | 'none'

function policyOutcome(
  policies: readonly ReferencePolicy[],
  action: string,
  resource: string,
  context: RequestContext
): Outcome {
  let allowed = false
  for (const policy of policies) {
    const variables = policy.Version === '2012-10-17'
    for (const statement of policy.Statement) {
      if (!actionMatches(statement, action)) continue
      if (!resourceMatches(statement, resource, context, variables)) continue
      if (!conditionHolds(statement, context)) continue
      if (statement.Effect === 'Deny') return 'deny'
      allowed = true
    }
  }
  return allowed ? 'allow' : 'none'
}

/** Whether IAM allows the request for a role with these identity policies and this boundary. */
export function referenceAllows(
  identity: readonly ReferencePolicy[],
  boundary: ReferencePolicy | undefined,
  action: string,
  resource: string,
  context: RequestContext
): boolean {
  const fromIdentity = policyOutcome(identity, action, resource, context)
  if (fromIdentity !== 'allow') return false
  if (!boundary) return true
  return policyOutcome([boundary], action, resource, context) === 'allow'
}
