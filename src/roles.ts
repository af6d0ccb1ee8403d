import type { RoleSelector } from './model.js'
import { globMatch } from './policy/glob.js'

/** A role known without asking IAM: from an authorization-details export or seen in CloudTrail records. */
export interface KnownRole {
  arn: string
  name: string
}

export interface SelectedRoles<T extends KnownRole> {
  roles: T[]
  /** Selectors that matched nothing, with the reason. */
  unmatched: { input: string; reason: string }[]
}

export function roleNameFromArn(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1)
}

export function accountFromArn(arn: string): string {
  return arn.split(':')[4] ?? ''
}

/** Role names are unique per account whatever the path: the account and the lower-cased name identify a role. */
export function roleKey(arn: string): string {
  return `${accountFromArn(arn)}:${roleNameFromArn(arn).toLowerCase()}`
}

/**
 * ARNs of one account and role name are one role: each maps to the ARN with the longest path (records without a
 * session issuer, and users, may name a role without its path).
 */
export function canonicalRoleArns(seen: Iterable<string>): Map<string, string> {
  const arns = [...seen]
  const best = new Map<string, string>()
  for (const arn of arns) {
    const current = best.get(roleKey(arn))
    if (!current || arn.length > current.length) best.set(roleKey(arn), arn)
  }
  return new Map(arns.map(arn => [arn, best.get(roleKey(arn)) ?? arn]))
}

/**
 * Whether a role name matches a pattern with `*`; role names are unique regardless of case in IAM, so matching
 * ignores case. Linear-time matching: a pattern with many stars must not backtrack (it is user input).
 */
export function rolePatternMatch(pattern: string, name: string): boolean {
  return globMatch(pattern.toLowerCase(), name.toLowerCase())
}

/**
 * Whether one selector names a role: an ARN by account and name (written without, or with another, path it still
 * names the role), a name or a pattern regardless of case (role names are unique per account regardless of case).
 */
export function selectorMatches(selector: RoleSelector, role: KnownRole): boolean {
  if (selector.kind === 'arn') return roleKey(role.arn) === roleKey(selector.input)
  if (selector.kind === 'name') return role.name.toLowerCase() === selector.input.toLowerCase()
  return rolePatternMatch(selector.input, role.name)
}

/**
 * Applies the user's selectors to a list of known roles. Role names are unique per account regardless of case
 * in IAM, so names and patterns match case-insensitively; an ARN matches exactly.
 */
export function selectRoles<T extends KnownRole>(
  selectors: readonly RoleSelector[],
  known: readonly T[],
  where: string
): SelectedRoles<T> {
  const chosen = new Map<string, T>()
  const unmatched: { input: string; reason: string }[] = []
  for (const selector of selectors) {
    const matches = known.filter(role => selectorMatches(selector, role))
    if (matches.length === 0) {
      unmatched.push({
        input: selector.input,
        reason:
          selector.kind === 'pattern'
            ? `no role in ${where} matches the pattern "${selector.input}"`
            : `role "${selector.input}" is not in ${where}`
      })
    }
    for (const role of matches) if (!chosen.has(role.arn)) chosen.set(role.arn, role)
  }
  return { roles: [...chosen.values()], unmatched }
}
