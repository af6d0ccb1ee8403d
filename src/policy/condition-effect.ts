/**
 * Whether a statement's Condition really restricts the role's requests. A condition that holds for every request
 * the role can make (an empty block, a pattern of only `*`, `aws:SecureTransport`, the role's own ARN or account)
 * leaves the grant as wide as it would be without it, so it must not make the grant "conditional"; a Deny under
 * it applies for certain.
 */
import { globMatch } from './glob.js'

export interface ConditionSubject {
  /** The role the statement is granted to: `aws:PrincipalArn` and `aws:PrincipalAccount` hold its values. */
  roleArn: string
  accountId: string
}

const LIKE_OPERATORS = /^(StringLike|ArnLike|StringEqualsIgnoreCase|StringEquals|ArnEquals)(IfExists)?$/
/**
 * Keys that every request of a role carries (the global condition keys documented as "always included in the
 * request context"). A test on any other key fails when the request lacks it, unless its operator ends in IfExists.
 */
const ALWAYS_PRESENT_KEYS = new Set([
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:userid',
  'aws:currenttime',
  'aws:epochtime',
  'aws:securetransport',
  'aws:requestedregion'
])

function values(value: unknown): string[] | undefined {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
    return [String(value)]
  if (Array.isArray(value) && value.every(v => typeof v === 'string' || typeof v === 'boolean'))
    return value.map(String)
  return undefined
}

/**
 * True when this one key/value test holds for every request of the role. It decides both ways: an Allow under
 * such a test is unconditional, and a Deny under it applies for certain, so a test that fails for some requests
 * (a key the request may lack, a set some requests leave) never counts.
 */
function holdsAlways(operator: string, key: string, value: unknown, subject: ConditionSubject): boolean {
  const lowerKey = key.toLowerCase()
  const list = values(value)
  if (list === undefined || list.length === 0) return false
  // SDKs call AWS over TLS: `aws:SecureTransport` is true on every request the role makes (never false).
  if (lowerKey === 'aws:securetransport')
    return /^Bool(IfExists)?$/.test(operator) && list.some(v => v.toLowerCase() === 'true')
  const forAll = operator.startsWith('ForAllValues:')
  const forAny = operator.startsWith('ForAnyValue:')
  const base = operator.replace(/^(ForAllValues|ForAnyValue):/, '')
  if (!LIKE_OPERATORS.test(base)) return false
  // ForAllValues holds for a request without the key; ForAnyValue and plain operators fail without it.
  const present = forAll || base.endsWith('IfExists') || ALWAYS_PRESENT_KEYS.has(lowerKey)
  const like = base.startsWith('StringLike') || base.startsWith('ArnLike')
  // Only a pattern of `*` matches every value the key may hold.
  if (like && list.some(v => /^\*+$/.test(v))) return present
  if (forAll || forAny) return false
  const roleValue =
    lowerKey === 'aws:principalarn'
      ? subject.roleArn
      : lowerKey === 'aws:principalaccount'
        ? subject.accountId
        : ''
  if (!roleValue) return false
  const ignoreCase = base.startsWith('StringEqualsIgnoreCase')
  return list.some(v =>
    like
      ? globMatch(v, roleValue)
      : ignoreCase
        ? v.toLowerCase() === roleValue.toLowerCase()
        : v === roleValue
  )
}

/**
 * The part of a Condition block that restricts requests, or undefined when none of it does. Operators with
 * several keys restrict when any key does (they are ANDed).
 */
export function restrictingCondition(
  condition: Record<string, unknown> | undefined,
  subject: ConditionSubject
): Record<string, unknown> | undefined {
  if (!condition) return undefined
  const kept: Record<string, unknown> = {}
  for (const [operator, block] of Object.entries(condition)) {
    if (typeof block !== 'object' || block === null || Array.isArray(block)) {
      kept[operator] = block
      continue
    }
    const restricting = Object.entries(block as Record<string, unknown>).filter(
      ([key, value]) => !holdsAlways(operator, key, value, subject)
    )
    if (restricting.length > 0) kept[operator] = Object.fromEntries(restricting)
  }
  return Object.keys(kept).length > 0 ? kept : undefined
}

/**
 * True when the Condition holds for no request of the role: a test that `aws:SecureTransport` is false (the role's
 * SDK requests all use TLS). Tests are ANDed, so one such test is enough. A Deny under it denies nothing.
 */
export function neverHolds(condition: Record<string, unknown> | undefined): boolean {
  return Object.entries(condition ?? {}).some(([operator, block]) => {
    if (!/^Bool(IfExists)?$/.test(operator) || typeof block !== 'object' || block === null) return false
    return Object.entries(block as Record<string, unknown>).some(([key, value]) => {
      const list = values(value)
      return (
        key.toLowerCase() === 'aws:securetransport' &&
        list !== undefined &&
        list.length > 0 &&
        list.every(v => v.toLowerCase() === 'false')
      )
    })
  })
}
