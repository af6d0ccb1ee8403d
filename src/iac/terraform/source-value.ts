/**
 * Values as written in a file, with their offsets: what a policy body (an HCL object inside `jsonencode`, or JSON
 * text in a heredoc or file) decodes to, and where each part is, so that a rewrite can replace one value in place.
 * A part that cannot be evaluated statically is `unknown`, and a string with interpolations keeps the expression
 * as written (its `value` has a `*` for each interpolation: every value the string can take matches it).
 */
import type { HclNode } from './grammar.js'

export type SourceValue =
  | { type: 'object'; start: number; end: number; members: SourceMember[] }
  | { type: 'array'; start: number; end: number; items: SourceValue[] }
  | { type: 'string'; start: number; end: number; value: string; expression?: string }
  | { type: 'literal'; start: number; end: number; value: number | boolean | null }
  | { type: 'unknown'; start: number; end: number; expression: string }

export interface SourceMember {
  key: string
  start: number
  value: SourceValue
}

export class JsonSyntaxError extends Error {}

/**
 * Parses JSON text into positioned values; offsets are relative to `text` plus `base`. `interpolations` are the
 * absolute ranges of `${...}` in a heredoc: each must lie inside one JSON string, which then becomes an expression.
 */
export function parseJsonSource(
  text: string,
  base = 0,
  interpolations: readonly (readonly [number, number])[] = []
): SourceValue {
  let i = 0
  const fail = (what: string): never => {
    const line = text.slice(0, i).split('\n').length
    throw new JsonSyntaxError(`${what} at line ${line}`)
  }
  const space = (): void => {
    while (i < text.length && ' \t\r\n'.includes(text.charAt(i))) i++
  }
  const stringToken = (): { start: number; end: number; value: string; expression?: string } => {
    const start = i
    i++
    while (i < text.length && text.charAt(i) !== '"') {
      const inside = interpolations.find(([s]) => s === base + i)
      if (inside) i = inside[1] - base
      else i += text.charAt(i) === '\\' ? 2 : 1
    }
    if (i >= text.length) fail('unterminated string')
    i++
    const raw = text.slice(start + 1, i - 1)
    const within = interpolations.filter(([s, e]) => s >= base + start && e <= base + i)
    if (within.length === 0) return { start: base + start, end: base + i, value: unescapeJson(raw, fail) }
    let value = ''
    let from = start + 1
    for (const [s, e] of within) {
      value += unescapeJson(text.slice(from, s - base), fail) + '*'
      from = e - base
    }
    value += unescapeJson(text.slice(from, i - 1), fail)
    return { start: base + start, end: base + i, value, expression: text.slice(start, i) }
  }
  const value = (): SourceValue => {
    space()
    const start = i
    const c = text.charAt(i)
    if (c === '{') {
      i++
      const members: SourceMember[] = []
      space()
      if (text.charAt(i) === '}') i++
      else
        for (;;) {
          space()
          if (text.charAt(i) !== '"') fail('expected a key')
          const key = stringToken()
          if (key.expression !== undefined) fail('an interpolated key')
          space()
          if (text.charAt(i) !== ':') fail('expected ":"')
          i++
          members.push({ key: key.value, start: key.start, value: value() })
          space()
          if (text.charAt(i) === ',') i++
          else if (text.charAt(i) === '}') {
            i++
            break
          } else fail('expected "," or "}"')
        }
      return { type: 'object', start: base + start, end: base + i, members }
    }
    if (c === '[') {
      i++
      const items: SourceValue[] = []
      space()
      if (text.charAt(i) === ']') i++
      else
        for (;;) {
          items.push(value())
          space()
          if (text.charAt(i) === ',') i++
          else if (text.charAt(i) === ']') {
            i++
            break
          } else fail('expected "," or "]"')
        }
      return { type: 'array', start: base + start, end: base + i, items }
    }
    if (c === '"') return { type: 'string', ...stringToken() }
    const word = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i))?.[0]
    if (word === undefined) return fail('unexpected character')
    i += word.length
    return {
      type: 'literal',
      start: base + start,
      end: base + i,
      value: JSON.parse(word) as number | boolean | null
    }
  }
  const result = value()
  space()
  if (i < text.length) fail('unexpected text after the document')
  for (const [s] of interpolations)
    if (!insideString(result, s)) throw new JsonSyntaxError('an interpolation outside a JSON string')
  return result
}

function insideString(value: SourceValue, offset: number): boolean {
  if (offset < value.start || offset >= value.end) return false
  if (value.type === 'string') return true
  if (value.type === 'object') return value.members.some(m => insideString(m.value, offset))
  if (value.type === 'array') return value.items.some(v => insideString(v, offset))
  return false
}

function unescapeJson(raw: string, fail: (what: string) => never): string {
  try {
    return (JSON.parse(`"${raw}"`) as string).replaceAll('$${', '${').replaceAll('%%{', '%{')
  } catch {
    return fail('a bad string escape')
  }
}

/** The single meaningful child of an HCL `expression` wrapper (or the node itself). */
export function unwrap(node: HclNode): HclNode {
  let current = node
  while (current.type === 'expression' && current.namedChildCount === 1) {
    const only = current.namedChild(0)
    if (!only) break
    current = only
  }
  return current
}

/** A reference written as a plain traversal (`aws_iam_role.app.name`, `var.x`), as written; else undefined. */
export function traversal(node: HclNode): string | undefined {
  const n = unwrap(node)
  const quoted = n.type === 'template_expr' ? n.namedChild(0) : null
  if (quoted?.type === 'quoted_template') {
    // `"${aws_iam_role.app.name}"`: the legacy interpolation-only form of a reference.
    const parts = quoted.namedChildren.filter(
      c => c?.type !== 'quoted_template_start' && c?.type !== 'quoted_template_end'
    )
    const inner = parts[0]?.namedChildren.find(c => c?.type === 'expression')
    return parts.length === 1 && parts[0]?.type === 'template_interpolation' && inner
      ? traversal(inner)
      : undefined
  }
  if (n.type === 'variable_expr') return n.text
  if (n.type !== 'expression') return undefined
  const parts = n.namedChildren
  if (parts[0]?.type !== 'variable_expr') return undefined
  if (!parts.slice(1).every(p => p?.type === 'get_attr' || p?.type === 'index')) return undefined
  return n.text.replace(/\s+/g, '')
}

/** Decodes an HCL quoted-string literal's text (escapes and `$${`). */
export function decodeHclString(raw: string): string {
  return raw
    .replace(/\\(u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[nrt"\\])/g, (_m, e: string) => {
      if (e.startsWith('u') || e.startsWith('U')) return String.fromCodePoint(parseInt(e.slice(1), 16))
      return ({ n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' } as Record<string, string>)[e] ?? e
    })
    .replaceAll('$${', '${')
    .replaceAll('%%{', '%{')
}

/** Evaluates an HCL expression statically into a positioned value (references and calls stay `unknown`). */
export function hclValue(node: HclNode): SourceValue {
  const n = unwrap(node)
  const span = { start: n.startIndex, end: n.endIndex }
  if (n.type === 'collection_value') return hclValue(n.namedChild(0) ?? n)
  if (n.type === 'object') {
    const members: SourceMember[] = []
    for (const elem of n.namedChildren) {
      if (elem?.type !== 'object_elem') continue
      const keyNode = elem.childForFieldName('key')
      const valNode = elem.childForFieldName('val')
      if (!keyNode || !valNode) return { type: 'unknown', ...span, expression: n.text }
      const key = objectKey(keyNode)
      if (key === undefined) return { type: 'unknown', ...span, expression: keyNode.text }
      members.push({ key, start: keyNode.startIndex, value: hclValue(valNode) })
    }
    return { type: 'object', ...span, members }
  }
  if (n.type === 'tuple')
    return {
      type: 'array',
      ...span,
      items: n.namedChildren.filter(c => c?.type === 'expression').map(c => hclValue(c))
    }
  if (n.type === 'literal_value') return hclValue(n.namedChild(0) ?? n)
  if (n.type === 'string_lit') return { type: 'string', ...span, value: decodeHclString(n.text.slice(1, -1)) }
  if (n.type === 'numeric_lit') return { type: 'literal', ...span, value: Number(n.text) }
  if (n.type === 'bool_lit') return { type: 'literal', ...span, value: n.text === 'true' }
  if (n.type === 'null_lit') return { type: 'literal', ...span, value: null }
  const quoted = n.type === 'template_expr' ? n.namedChild(0) : null
  if (quoted?.type === 'quoted_template') {
    if (quoted.namedChildren.some(p => p?.type === 'template_directive'))
      return { type: 'unknown', ...span, expression: n.text }
    // The raw text between the quotes, each interpolation read as `*` (whitespace is not a token of the grammar).
    let value = ''
    let from = quoted.startIndex + 1
    const source = quoted.text
    for (const part of quoted.namedChildren) {
      if (part?.type !== 'template_interpolation') continue
      value +=
        decodeHclString(source.slice(from - quoted.startIndex, part.startIndex - quoted.startIndex)) + '*'
      from = part.endIndex
    }
    value += decodeHclString(source.slice(from - quoted.startIndex, source.length - 1))
    return from === quoted.startIndex + 1
      ? { type: 'string', ...span, value }
      : { type: 'string', ...span, value, expression: n.text }
  }
  return { type: 'unknown', ...span, expression: n.text }
}

function objectKey(keyNode: HclNode): string | undefined {
  const k = unwrap(keyNode)
  if (k.type === 'variable_expr') return k.text
  const v = hclValue(k)
  return v.type === 'string' && v.expression === undefined ? v.value : undefined
}

/** Whether an expression under `node` refers to the resource `address` (`aws_iam_policy.p.arn`, `...p[0].id`). */
export function references(node: HclNode, address: string): boolean {
  const parts = node.namedChildren
  if (node.type === 'expression' && parts[0]?.type === 'variable_expr') {
    const chain = node.text.replace(/\s+/g, '')
    if ([address, `${address}.`, `${address}[`].some(p => chain === address || chain.startsWith(p)))
      return true
  }
  return parts.some(c => c !== null && references(c, address))
}
