/**
 * Whether a statement's Condition really restricts the role's requests. A condition that holds for every request
 * the role can make (an empty block, a pattern of only `*`, `aws:SecureTransport`, the role's own ARN or account)
 * leaves the grant as wide as it would be without it, so it must not make the grant "conditional".
 */
import { globMatch } from './glob.js'

export interface ConditionSubject {
  /** The role the statement is granted to: `aws:PrincipalArn` and `aws:PrincipalAccount` hold its values. */
  roleArn: string
  accountId: string
}

const LIKE_OPERATORS = /^(StringLike|ArnLike|StringEqualsIgnoreCase|StringEquals|ArnEquals)(IfExists)?$/
/** Keys that say nothing about who asks for what: a test on them does not narrow a grant. */
const ALWAYS_SATISFIABLE_KEYS = new Set(['aws:securetransport'])

function values(value: unknown): string[] | undefined {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
    return [String(value)]
  if (Array.isArray(value) && value.every(v => typeof v === 'string' || typeof v === 'boolean'))
    return value.map(String)
  return undefined
}

/** True when this one key/value test holds for every request of the role. */
function holdsAlways(operator: string, key: string, value: unknown, subject: ConditionSubject): boolean {
  const lowerKey = key.toLowerCase()
  const list = values(value)
  if (list === undefined) return false
  if (list.length === 0) return false
  // ForAllValues is true when the request has no such key at all: it restricts nothing on requests without it.
  if (operator.startsWith('ForAllValues:')) return true
  const base = operator.replace(/^ForAnyValue:/, '')
  if (ALWAYS_SATISFIABLE_KEYS.has(lowerKey)) return true
  if (!LIKE_OPERATORS.test(base)) return false
  const like = base.startsWith('StringLike') || base.startsWith('ArnLike')
  if (like && list.some(v => /^\*+$/.test(v))) return true
  const roleValue =
    lowerKey === 'aws:principalarn'
      ? subject.roleArn
      : lowerKey === 'aws:principalaccount'
        ? subject.accountId
        : ''
  if (!roleValue) return false
  return list.some(v => (like ? globMatch(v, roleValue) : v === roleValue))
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
