/**
 * A policy document as far as a template says it statically, never granting less than the stack may: an unknown
 * Action or Resource becomes `*` in an Allow, an unknown NotAction/NotResource entry is left out (it excludes less),
 * an unknown condition operator is left out of an Allow, and a Deny with anything unknown is dropped.
 */
import type { PolicyDocumentJson } from '../../model.js'
import { Unresolved, unresolvedIn } from './intrinsics.js'
import type { StaticValue } from './intrinsics.js'

const ALLOW_ALL: Record<string, unknown> = { Effect: 'Allow', Action: '*', Resource: '*' }

export interface ConservativeDocument {
  document: PolicyDocumentJson
  /** The expressions that could not be read, as written. */
  unresolved: string[]
  /** The expression outside the statements (the document, its Version or Statement) that blocks any rewrite. */
  blocked?: string
  /** Statements (by index as written) that hold an expression: a rewrite keeps them as written. */
  kept: { statement: number; expression: string }[]
  /** For each statement of `document`, its index as written (a Deny with an unknown part is left out). */
  decodedFrom: number[]
}

export function conservativeDocument(value: StaticValue): ConservativeDocument {
  const unresolved = unresolvedIn(value)
  if (!isObject(value))
    return {
      document: { Version: '2012-10-17', Statement: [ALLOW_ALL] },
      unresolved,
      ...(unresolved[0] !== undefined ? { blocked: unresolved[0] } : {}),
      kept: [],
      decodedFrom: [0]
    }
  const version = typeof value.Version === 'string' ? value.Version : '2012-10-17'
  const raw = value.Statement
  const outside = [
    ...unresolvedIn({ ...value, Statement: null }),
    ...(raw instanceof Unresolved ? [raw.expression] : [])
  ]
  const statements: StaticValue[] = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]
  const out: Record<string, unknown>[] = []
  const kept: { statement: number; expression: string }[] = []
  const decodedFrom: number[] = []
  statements.forEach((s, index) => {
    const expression = unresolvedIn(s)[0]
    if (expression !== undefined) kept.push({ statement: index, expression })
    const statement = conservativeStatement(s)
    if (!statement) return
    decodedFrom.push(index)
    out.push(statement)
  })
  return {
    document: { Version: version, Statement: out },
    unresolved,
    ...(outside[0] !== undefined ? { blocked: outside[0] } : {}),
    kept,
    decodedFrom
  }
}

function isObject(value: StaticValue | undefined): value is { [key: string]: StaticValue } {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Unresolved)
  )
}

function conservativeStatement(s: StaticValue): Record<string, unknown> | undefined {
  if (!isObject(s)) return { ...ALLOW_ALL }
  const known = unresolvedIn(s).length === 0
  if (known) return s
  // A Deny that may not hold is dropped; an Effect that cannot be read is taken as the Allow it may be.
  if (s.Effect === 'Deny') return undefined
  const out: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(s)) {
    if (key === 'Effect') out.Effect = 'Allow'
    else if (key === 'Action' || key === 'Resource') out[key] = widened(value)
    else if (key === 'NotAction' || key === 'NotResource') {
      const left = narrowed(value)
      if (left.length > 0) out[key] = left
      else out[key === 'NotAction' ? 'Action' : 'Resource'] = '*'
    } else if (key === 'Condition') {
      const condition = knownOperators(value)
      if (condition) out.Condition = condition
    } else if (key === 'Sid') {
      if (typeof value === 'string') out.Sid = value
    } else out[key] = unresolvedIn(value).length === 0 ? value : '*'
  }
  return out
}

/** An Allow's Action/Resource with an unknown entry grants `*`. */
function widened(value: StaticValue): StaticValue {
  return unresolvedIn(value).length === 0 ? value : '*'
}

/** A NotAction/NotResource without its unknown entries. */
function narrowed(value: StaticValue): string[] {
  const list = Array.isArray(value) ? value : [value]
  return list.filter((v): v is string => typeof v === 'string')
}

/** The condition operators that are fully known; fewer conditions on an Allow grant more. */
function knownOperators(value: StaticValue): Record<string, unknown> | undefined {
  if (!isObject(value)) return undefined
  const out: Record<string, unknown> = {}
  for (const [operator, block] of Object.entries(value))
    if (unresolvedIn(block).length === 0) out[operator] = block
  return Object.keys(out).length > 0 ? out : undefined
}
