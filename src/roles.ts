/**
 * Role identity: the one reader of IAM role ARNs (`arn:<partition>:iam::<12-digit account>:role<path><name>`), and
 * role selection. Every layer that needs a role's account, path or name asks here. Pure.
 */
import type { RoleSelector } from './model.js'
import { globMatch } from './policy/glob.js'

/** A role ARN's parts, as IAM spells them. */
interface RoleArn {
  partition: string
  accountId: string
  /** `/` or `/segment/.../`, as IAM returns a role's Path. */
  path: string
  name: string
}

export const ROLE_ARN_FORM = 'arn:aws:iam::<12-digit account>:role/<optional path/><name>'

/**
 * IAM's limits: a path of printable ASCII between slashes, a name of 1 to 64 of letters, digits and +=,.@_-. The
 * partitions are the ones AWS has (its SDKs' partition list): a misspelt one is refused here, not reported as a role
 * that does not exist.
 */
const ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[bef]|aws-eusc):iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/

/** An IAM user's ARN: the same partitions, account, path and name rules as a role's. */
const USER_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-[bef]|aws-eusc):iam::(\d{12}):user(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/

export const USER_ARN_FORM = 'arn:aws:iam::<12-digit account>:user/<optional path/><name>'

/** The parts of a well-formed IAM user ARN; undefined for anything else. */
export function parseUserArn(value: string): RoleArn | undefined {
  const match = USER_ARN.exec(value)
  if (!match) return undefined
  const [, partition = '', accountId = '', path = '/', name = ''] = match
  return { partition, accountId, path, name }
}

export function isUserArn(value: string): boolean {
  return USER_ARN.test(value)
}

/** The parts of a well-formed role ARN; undefined for anything else (ARNs read from logs and exports are data). */
export function parseRoleArn(value: string): RoleArn | undefined {
  const match = ROLE_ARN.exec(value)
  if (!match) return undefined
  const [, partition = '', accountId = '', path = '/', name = ''] = match
  return { partition, accountId, path, name }
}

export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value)
}

/** The parts of `value`, or an error naming `what` (an input, a file) and the expected form. */
export function requireRoleArn(value: string, what: string): RoleArn {
  const parsed = parseRoleArn(value)
  if (!parsed) throw new Error(`${what}: "${value}" is not a role ARN; expected ${ROLE_ARN_FORM}`)
  return parsed
}

/** A role's name; anything that is not a role ARN (a selector that found no role) names itself. */
export function roleNameFromArn(arn: string): string {
  return (parseRoleArn(arn) ?? parseUserArn(arn))?.name ?? arn
}

/** A role's account; empty when `arn` is not a role ARN. */
export function accountFromArn(arn: string): string {
  return (parseRoleArn(arn) ?? parseUserArn(arn))?.accountId ?? ''
}

/**
 * Role names are unique per account regardless of case and whatever the path: the account and the lower-cased name
 * identify a role. Anything that is not a role ARN identifies only itself.
 */
export function roleKey(arn: string): string {
  const role = parseRoleArn(arn)
  if (role) return `${role.accountId}:${role.name.toLowerCase()}`
  // A user may have the name of a role: its key says it is a user.
  const user = parseUserArn(arn)
  return user ? `${user.accountId}:user:${user.name.toLowerCase()}` : arn
}

/** A role known without asking IAM: from an authorization-details export or seen in CloudTrail records. */
export interface KnownRole {
  arn: string
  name: string
}

interface SelectedRoles<T extends KnownRole> {
  roles: T[]
  /** Selectors that matched nothing, with the reason. */
  unmatched: { input: string; reason: string }[]
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
  // A user selector names users only, a role selector roles only.
  if ((selector.principal === 'user') !== isUserArn(role.arn)) return false
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
            : `${selector.principal === 'user' ? 'user' : 'role'} "${selector.input}" is not in ${where}`
      })
    }
    for (const role of matches) if (!chosen.has(role.arn)) chosen.set(role.arn, role)
  }
  return { roles: [...chosen.values()], unmatched }
}
