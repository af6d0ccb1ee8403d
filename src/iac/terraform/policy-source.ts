/**
 * A policy body as written: its statements with the written value of each field, and the document it grants read
 * conservatively (see IacPolicy.document): an unknown action or resource grants `*` in an Allow, a Deny with an
 * unknown part is dropped, an Allow's unknown condition is dropped.
 */
import type { PolicyDocumentJson } from '../../model.js'
import type { KeptStatement } from '../model.js'
import type { SourceValue } from './source-value.js'

/** `hcl-object`: jsonencode({...}); `json`: JSON text (heredoc, quoted string or file); `policy-document`: blocks. */
export type BodyStyle = 'hcl-object' | 'json' | 'policy-document'

export const EDITABLE_FIELDS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const
export type EditableField = (typeof EDITABLE_FIELDS)[number]

export interface StatementSource {
  start: number
  end: number
  /** JSON field name → its written value (a policy document's `actions` is `Action`). */
  fields: Map<string, SourceValue>
}

export interface PolicySource {
  style: BodyStyle
  /** The range a whole-body rewrite replaces. */
  start: number
  end: number
  statements: StatementSource[]
  /** `Statement = {...}`: the single statement written as an object. */
  statementObject: boolean
  document: PolicyDocumentJson
  /** The expression that keeps the whole body from being rewritten, as written. */
  blockedBy?: string
  /** Statements (by index in `statements`) that hold an expression: kept as written, the others rewritten. */
  kept: { statement: number; expression: string }[]
  /** For each statement of `document`, its index in `statements` (a Deny with an unknown part is left out). */
  decodedFrom: number[]
  /** Expressions read conservatively, as written. */
  unresolved: string[]
}

export const VERSION = '2012-10-17'
export const ALLOW_ALL: PolicyDocumentJson = {
  Version: VERSION,
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }]
}

/** The document of a body whose value cannot be read at all (a variable, a function of unknowns). */
export function unknownBody(style: BodyStyle, start: number, end: number, expression: string): PolicySource {
  return {
    style,
    start,
    end,
    statements: [],
    statementObject: false,
    document: structuredClone(ALLOW_ALL),
    blockedBy: expression,
    kept: [],
    decodedFrom: [],
    unresolved: [expression]
  }
}

/** The statements a rewrite keeps as written, as IacPolicy names them. */
export function keptStatements(source: PolicySource): KeptStatement[] {
  return source.kept.map(k => {
    const index = source.decodedFrom.indexOf(k.statement)
    return { statement: k.statement, ...(index >= 0 ? { index } : {}), expression: k.expression }
  })
}

/** Reads a policy document value (decoded from jsonencode or JSON text). */
export function policyFromValue(style: BodyStyle, value: SourceValue): PolicySource {
  if (value.type === 'unknown') return unknownBody(style, value.start, value.end, value.expression)
  if (value.type !== 'object')
    return unknownBody(style, value.start, value.end, 'a policy that is not an object')
  const version = value.members.find(m => m.key === 'Version')?.value
  const id = value.members.find(m => m.key === 'Id')?.value
  const statement = value.members.find(m => m.key === 'Statement')?.value
  if (!statement) return unknownBody(style, value.start, value.end, 'a policy without Statement')
  const written =
    statement.type === 'object' ? [statement] : statement.type === 'array' ? statement.items : []
  if (statement.type !== 'object' && statement.type !== 'array')
    return unknownBody(style, value.start, value.end, sourceText(statement))
  const statements: StatementSource[] = []
  for (const s of written) {
    if (s.type !== 'object') return unknownBody(style, value.start, value.end, sourceText(s))
    statements.push({ start: s.start, end: s.end, fields: new Map(s.members.map(m => [m.key, m.value])) })
  }
  const header: { Version: string; Id?: string } = { Version: VERSION }
  const extra: string[] = []
  if (version) {
    const v = literal(version)
    if (typeof v === 'string') header.Version = v
    else extra.push(sourceText(version))
  }
  if (id) {
    const v = literal(id)
    if (typeof v === 'string') header.Id = v
    else extra.push(sourceText(id))
  }
  const result = decodeStatements(style, value.start, value.end, statements, header)
  result.statementObject = statement.type === 'object'
  if (extra.length > 0) {
    result.blockedBy ??= extra.join(', ')
    result.unresolved.unshift(...extra)
  }
  return result
}

/** Builds the conservative document of written statements. */
export function decodeStatements(
  style: BodyStyle,
  start: number,
  end: number,
  statements: StatementSource[],
  header: { Version: string; Id?: string }
): PolicySource {
  const unresolved: string[] = []
  const kept: { statement: number; expression: string }[] = []
  const decodedFrom: number[] = []
  const decoded: Record<string, unknown>[] = []
  for (const [index, s] of statements.entries()) {
    let blocked: string | undefined
    const block = (expression: string): void => {
      blocked ??= expression
    }
    const out: Record<string, unknown> = {}
    const effectValue = s.fields.get('Effect')
    const effect = effectValue ? literal(effectValue) : 'Allow'
    if (effectValue && typeof effect !== 'string') {
      unresolved.push(sourceText(effectValue))
      block(sourceText(effectValue))
    }
    const deny = effect === 'Deny'
    let drop = false
    for (const [key, value] of s.fields) {
      const expressions = expressionsIn(value)
      const editable = (EDITABLE_FIELDS as readonly string[]).includes(key)
      if (expressions.length > 0) {
        unresolved.push(...expressions)
        // An interpolated resource of an Allow is kept as written by a rewrite; anything else blocks it.
        if (deny || !(key === 'Resource' || key === 'NotResource') || value.type === 'unknown')
          block(expressions[0] ?? '')
        if (deny) drop = true
      }
      if (key === 'Effect') out.Effect = typeof effect === 'string' ? effect : 'Allow'
      else if (editable) out[key] = conservativeList(key as EditableField, value)
      else if (key === 'Condition' && expressions.length > 0) continue
      else out[key] = plain(value)
    }
    if (blocked !== undefined) kept.push({ statement: index, expression: blocked })
    if (drop) continue
    normaliseNegations(out)
    decodedFrom.push(index)
    decoded.push(out)
  }
  return {
    style,
    start,
    end,
    statements,
    statementObject: false,
    document: { ...header, Statement: decoded },
    kept,
    decodedFrom,
    unresolved
  }
}

/** Action/Resource value read conservatively; `undefined` entries of a Not* list are dropped by the caller. */
function conservativeList(key: EditableField, value: SourceValue): unknown {
  const negated = key.startsWith('Not')
  const one = (v: SourceValue): string | undefined => {
    if (v.type === 'string') return negated && v.expression !== undefined ? undefined : v.value
    if (v.type === 'literal') return String(v.value)
    return negated ? undefined : '*'
  }
  if (value.type === 'array') {
    const items = value.items.map(one).filter((v): v is string => v !== undefined)
    return negated && items.length < value.items.length ? { unknownNegation: items } : items
  }
  const single = one(value)
  return single === undefined ? { unknownNegation: [] } : single
}

/** A Not* list with unknown entries excludes less than written: an empty one becomes the positive `*`. */
function normaliseNegations(out: Record<string, unknown>): void {
  for (const [negated, positive] of [
    ['NotAction', 'Action'],
    ['NotResource', 'Resource']
  ] as const) {
    const v = out[negated]
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue
    const kept = (v as { unknownNegation: string[] }).unknownNegation
    if (kept.length === 0) {
      delete out[negated]
      out[positive] = '*'
    } else out[negated] = kept
  }
}

export function expressionsIn(value: SourceValue): string[] {
  if (value.type === 'unknown') return [value.expression]
  if (value.type === 'string') return value.expression === undefined ? [] : [value.expression]
  if (value.type === 'array') return value.items.flatMap(expressionsIn)
  if (value.type === 'object') return value.members.flatMap(m => expressionsIn(m.value))
  return []
}

export function plain(value: SourceValue): unknown {
  switch (value.type) {
    case 'object':
      return Object.fromEntries(value.members.map(m => [m.key, plain(m.value)]))
    case 'array':
      return value.items.map(plain)
    case 'string':
      return value.value
    case 'literal':
      return value.value
    case 'unknown':
      return '*'
  }
}

function literal(value: SourceValue): unknown {
  return expressionsIn(value).length > 0 ? undefined : plain(value)
}

function sourceText(value: SourceValue): string {
  return value.type === 'unknown'
    ? value.expression
    : value.type === 'string' && value.expression
      ? value.expression
      : value.type
}

/** A document as a policy document data source renders it: one-element lists as strings. */
export function singletonsAsStrings(document: PolicyDocumentJson): PolicyDocumentJson {
  const one = (v: unknown): unknown => (Array.isArray(v) && v.length === 1 ? v[0] : v)
  return {
    ...document,
    Statement: document.Statement.map(s => {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(s)) {
        if (Array.isArray(v)) out[k] = one(v)
        else if (typeof v === 'object' && v !== null && k === 'Condition')
          out[k] = Object.fromEntries(
            Object.entries(v as Record<string, Record<string, unknown>>).map(([t, vars]) => [
              t,
              Object.fromEntries(Object.entries(vars).map(([n, x]) => [n, one(x)]))
            ])
          )
        else if (typeof v === 'object' && v !== null)
          out[k] = Object.fromEntries(Object.entries(v).map(([t, x]) => [t, one(x)]))
        else out[k] = v
      }
      return out
    })
  }
}
