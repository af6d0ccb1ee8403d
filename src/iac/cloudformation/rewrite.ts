/**
 * Rewrites one policy of a template in place, by splicing the text: only the changed statements' Action /
 * NotAction / Resource / NotResource values are replaced, in the file's own style (block or flow sequence, the quoting
 * found, JSON indentation), and every byte outside them is kept. When a proposal changes the statements themselves
 * (added, removed, split), the `Statement` value alone is rewritten. A value the proposal keeps is written as it was
 * (`!Sub 'arn:${AWS::Partition}:...'` stays an intrinsic). The result is read back and must decode to the proposal.
 */
import { isMap, isScalar, isSeq, parse } from 'yaml'
import type { Node, YAMLMap } from 'yaml'
import type { PolicyDocumentJson } from '../../model.js'
import type { IacPolicy, IacSourceFile } from '../model.js'
import { conservativeDocument } from './conservative.js'
import { evaluate, Unresolved } from './intrinsics.js'
import { parseAddress, policyDocumentNode } from './read.js'
import { parseTemplate, property } from './template.js'
import type { Template } from './template.js'

const LIST_FIELDS = ['Action', 'NotAction', 'Resource', 'NotResource'] as const

interface Splice {
  start: number
  end: number
  text: string
}

/** The template's text with the policy's document replaced by `proposal`. */
export function rewriteTemplate(
  file: IacSourceFile,
  policy: IacPolicy,
  proposal: PolicyDocumentJson
): string {
  const where = `${file.path}: ${policy.location.address}`
  if (policy.notRewritable) throw new Error(`${where} cannot be rewritten in place: ${policy.notRewritable}`)
  const template = parseTemplate(file.path, file.text)
  const address = parseAddress(policy.location.address)
  const documentNode = policyDocumentNode(template, address)
  if (!isMap(documentNode)) throw new Error(`${where}: no PolicyDocument mapping to rewrite`)
  const current = conservativeDocument(evaluate(documentNode, template.text))
  if (current.blocked !== undefined)
    throw new Error(`${where} cannot be rewritten in place: ${current.blocked}`)

  const writer = new ValueWriter(template, documentNode)
  const splices: Splice[] = []
  const versionNode = property(documentNode, 'Version')
  if (proposal.Version !== current.document.Version) {
    if (!isScalar(versionNode)) throw new Error(`${where}: no Version to rewrite`)
    splices.push({ ...writer.span(versionNode), text: writer.scalar(proposal.Version, versionNode) })
  }
  const statementNode = property(documentNode, 'Statement')
  if (!statementNode) throw new Error(`${where}: no Statement to rewrite`)
  const statementNodes = isSeq(statementNode) ? statementNode.items : [statementNode]
  const before = current.document.Statement
  const after = proposal.Statement
  const kept = (i: number) => current.kept.find(k => k.statement === current.decodedFrom[i])
  const edited = (i: number) => canonical(before[i]) !== canonical(after[i])
  const nodeOf = (i: number) => statementNodes[current.decodedFrom[i] ?? -1]
  if (sameShape(before, after) && after.every((_, i) => !edited(i) || isMap(nodeOf(i)))) {
    after.forEach((statement, i) => {
      const node = nodeOf(i)
      const blocked = kept(i)
      if (!edited(i) || !isMap(node)) return
      if (blocked)
        throw new Error(
          `${where}: not rewritten: statement ${blocked.statement + 1} holds ${blocked.expression}, which is kept as written`
        )
      for (const field of LIST_FIELDS) {
        if (!(field in statement) || sameList(before[i]?.[field], statement[field])) continue
        splices.push(...writer.list(node, field, asList(statement[field])))
      }
    })
  } else if (current.kept[0]) {
    const first = current.kept[0]
    throw new Error(
      `${where}: not rewritten: the proposal removes or reshapes statements, and statement ${first.statement + 1} holds ${first.expression}, which is kept as written`
    )
  } else {
    splices.push(writer.statements(after, statementNode, before))
  }

  let text = file.text
  for (const s of splices.sort((a, b) => b.start - a.start))
    text = text.slice(0, s.start) + s.text + text.slice(s.end)
  verify(file.path, text, address, proposal, where)
  return text
}

/** The rewritten text must read back as the proposal (a list and a one-item list are the same value). */
function verify(
  path: string,
  text: string,
  address: ReturnType<typeof parseAddress>,
  proposal: PolicyDocumentJson,
  where: string
): void {
  const template = parseTemplate(path, text)
  const node = policyDocumentNode(template, address)
  const read = conservativeDocument(evaluate(node, template.text)).document
  if (canonical(read) !== canonical(proposal))
    throw new Error(
      `${where}: internal error: the rewritten template does not read back as the proposal; not written`
    )
}

/** JSON with sorted keys and every Action/Resource list as a list: equal exactly when the documents grant the same. */
export function canonical(value: unknown, key = ''): string {
  if (typeof value === 'string' && (LIST_FIELDS as readonly string[]).includes(key)) return canonical([value])
  if (Array.isArray(value)) return `[${value.map(v => canonical(v)).join(',')}]`
  if (value && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], k)}`)
      .join(',')}}`
  return JSON.stringify(value)
}

function asList(value: unknown): string[] {
  return (Array.isArray(value) ? value : [value]).map(v => String(v))
}

function sameList(a: unknown, b: unknown): boolean {
  return a !== undefined && b !== undefined && canonical(asList(a)) === canonical(asList(b))
}

/** Whether the proposal keeps every statement and changes only list values of fields each already has. */
function sameShape(before: Record<string, unknown>[], after: Record<string, unknown>[]): boolean {
  if (before.length !== after.length) return false
  return before.every((b, i) => {
    const a = after[i]
    if (!a) return false
    const rest = (s: Record<string, unknown>) =>
      canonical(
        Object.fromEntries(
          Object.entries(s).map(([k, v]) => [k, (LIST_FIELDS as readonly string[]).includes(k) ? true : v])
        )
      )
    return rest(a) === rest(b)
  })
}

/** Writes values in the style found around them. */
class ValueWriter {
  /** The text as written of every string value of the document, by what it reads as. */
  private readonly written = new Map<string, string>()
  private readonly json: boolean

  constructor(
    private readonly template: Template,
    documentNode: YAMLMap
  ) {
    this.json = isMap(template.document.contents) && template.document.contents.flow === true
    this.collect(documentNode)
  }

  private collect(node: unknown): void {
    if (!isScalar(node) && !isSeq(node) && !isMap(node)) return
    const value = evaluate(node, this.template.text)
    if (typeof value === 'string') {
      // A scalar, or an intrinsic that reads as a string: kept as written wherever the proposal keeps its value.
      const { start, end } = this.span(node)
      if (!this.written.has(value)) this.written.set(value, this.template.text.slice(start, end))
      return
    }
    // The parts of an expression that cannot be read (`!Join` with a parameter) are not values of the document.
    if (value instanceof Unresolved) return
    if (isSeq(node)) for (const item of node.items) this.collect(item)
    else if (isMap(node)) for (const pair of node.items) this.collect(pair.value)
  }

  /** A node's text, its tag included; a block collection ends with its last value (trailing comments stay out). */
  span(node: Node): { start: number; end: number } {
    const range = node.range ?? [0, 0, 0]
    const end = contentEnd(node)
    let start = range[0]
    if (node.tag && !this.template.text.startsWith(node.tag, start)) {
      const at = this.template.text.lastIndexOf(node.tag, start)
      if (at >= 0 && !this.template.text.slice(at, start).includes('\n')) start = at
    }
    return { start, end }
  }

  /** One string, as written before when the document had it, else quoted like `like`. */
  scalar(value: string, like: Node | undefined): string {
    const written = this.written.get(value)
    if (written !== undefined) return written
    const type = like && isScalar(like) ? like.type : undefined
    if (this.json || type === 'QUOTE_DOUBLE') return JSON.stringify(value)
    if (type === 'PLAIN' && isPlainSafe(value)) return value
    return `'${value.replace(/'/g, "''")}'`
  }

  /** Splices replacing the value of `field` in a statement by `values`. */
  list(statement: YAMLMap, field: string, values: string[]): Splice[] {
    const pair = statement.items.find(p => isScalar(p.key) && p.key.value === field)
    const node = pair?.value as Node | undefined
    if (!pair || !node) return []
    const text = this.template.text
    if (values.length === 0) return [{ ...this.span(node), text: '[]' }]
    if (isSeq(node) && node.items.length > 0) {
      const items = node.items as Node[]
      const like = items[0]
      if (!node.flow) {
        const removed = removedItems(items, values, this.template.text)
        if (removed) return removed.map(item => this.itemLine(item))
        // Items kept keep their line as written, a trailing comment included.
        const own = new Map<string, string>()
        for (const item of items) {
          const value = evaluate(item, text)
          const span = this.span(item)
          if (typeof value === 'string' && !own.has(value))
            own.set(value, text.slice(span.start, lineEnd(text, span.end)))
        }
        const first = this.span(items[0] as Node).start
        const dash = text.lastIndexOf('-', first)
        const indent = ' '.repeat(column(text, dash))
        const last = items[items.length - 1] as Node
        return [
          {
            start: dash,
            end: lineEnd(text, this.span(last).end),
            text: values.map(v => `- ${own.get(v) ?? this.scalar(v, like)}`).join(`\n${indent}`)
          }
        ]
      }
      const spans = items.map(i => this.span(i))
      const open = node.range?.[0] ?? 0
      const close = text.lastIndexOf(']', (node.range?.[1] ?? 1) - 1)
      const head = text.slice(open + 1, spans[0]?.start ?? open + 1)
      const tail = text.slice(spans[spans.length - 1]?.end ?? close, close)
      const separator =
        spans.length > 1 && spans[0] && spans[1]
          ? text.slice(spans[0].end, spans[1].start)
          : `,${head.includes('\n') ? head : ' '}`
      return [
        {
          start: open,
          end: close + 1,
          text: `[${head}${values.map(v => this.scalar(v, like)).join(separator)}${tail}]`
        }
      ]
    }
    const { start, end } = this.span(node)
    if (values.length === 1) return [{ start, end, text: this.scalar(values[0] ?? '', node) }]
    if (this.json || statement.flow)
      return [{ start, end, text: `[${values.map(v => this.scalar(v, node)).join(', ')}]` }]
    const key = pair.key as Node
    const colon = text.indexOf(':', key.range?.[1] ?? start)
    const indent = ' '.repeat(column(text, key.range?.[0] ?? start) + 2)
    return [{ start: colon + 1, end, text: values.map(v => `\n${indent}- ${this.scalar(v, node)}`).join('') }]
  }

  /** The whole line of a block sequence's item, removed. */
  private itemLine(item: Node): Splice {
    const text = this.template.text
    const { start, end } = this.span(item)
    const lineStart = text.lastIndexOf('\n', start - 1) + 1
    const newline = text.indexOf('\n', end)
    return { start: lineStart, end: newline < 0 ? text.length : newline + 1, text: '' }
  }

  /**
   * A whole `Statement` value replaced, in the block or JSON/flow style of the one it replaces; a statement the
   * proposal keeps unchanged keeps its text, comments included.
   */
  statements(after: Record<string, unknown>[], node: Node, before: Record<string, unknown>[]): Splice {
    const text = this.template.text
    const span = this.span(node)
    const flow = this.json || ((isSeq(node) || isMap(node)) && node.flow === true)
    const like = firstListValue(node) ?? firstScalar(node)
    const kept = new Map<string, string[]>()
    if (isSeq(node))
      node.items.forEach((item, i) => {
        const statement = before[i]
        if (!statement || !isMap(item)) return
        const itemSpan = this.span(item)
        const written = flow
          ? text.slice(itemSpan.start, itemSpan.end)
          : text.slice(text.lastIndexOf('-', itemSpan.start), lineEnd(text, itemSpan.end))
        const key = canonical(statement)
        kept.set(key, [...(kept.get(key) ?? []), written])
      })
    const reused = (s: Record<string, unknown>) => kept.get(canonical(s))?.shift()
    if (flow) {
      const unit = jsonIndentUnit(text)
      const inner = lineIndent(text, span.start) + unit
      const items = after.map(s => reused(s) ?? this.jsonValue(s, inner, unit, like))
      const body =
        items.length === 0
          ? '[]'
          : `[\n${inner}${items.join(`,\n${inner}`)}\n${lineIndent(text, span.start)}]`
      return { ...span, text: body }
    }
    const col = column(text, span.start)
    const items = after.map(s => reused(s) ?? `- ${this.blockMap(s, col + 2, like).replace(/^ +/, '')}`)
    return {
      start: span.start,
      end: lineEnd(text, span.end),
      text: items.length === 0 ? '[]' : items.join(`\n${' '.repeat(col)}`)
    }
  }

  private jsonValue(value: unknown, indent: string, unit: string, like: Node | undefined): string {
    if (typeof value === 'string') return this.scalar(value, like)
    const inner = indent + unit
    if (Array.isArray(value)) {
      if (value.length === 0) return '[]'
      return `[\n${value.map(v => inner + this.jsonValue(v, inner, unit, like)).join(',\n')}\n${indent}]`
    }
    if (value && typeof value === 'object') {
      const entries = Object.entries(value as Record<string, unknown>)
      if (entries.length === 0) return '{}'
      return `{\n${entries
        .map(([k, v]) => `${inner}${JSON.stringify(k)}: ${this.jsonValue(v, inner, unit, like)}`)
        .join(',\n')}\n${indent}}`
    }
    return JSON.stringify(value)
  }

  /** A mapping in block style, each key at column `col` (the first line included). */
  private blockMap(value: Record<string, unknown>, col: number, like: Node | undefined): string {
    const pad = ' '.repeat(col)
    return Object.entries(value)
      .map(([k, v]) => {
        const key = `${pad}${isPlainSafe(k) ? k : JSON.stringify(k)}:`
        if (Array.isArray(v))
          return v.length === 0
            ? `${key} []`
            : `${key}\n${v.map(item => `${pad}  - ${this.blockItem(item, col + 4, like)}`).join('\n')}`
        if (v && typeof v === 'object') {
          const entries = Object.keys(v)
          return entries.length === 0
            ? `${key} {}`
            : `${key}\n${this.blockMap(v as Record<string, unknown>, col + 2, like)}`
        }
        return `${key} ${typeof v === 'string' ? this.scalar(v, like) : JSON.stringify(v)}`
      })
      .join('\n')
  }

  private blockItem(item: unknown, col: number, like: Node | undefined): string {
    if (typeof item === 'string') return this.scalar(item, like)
    if (item && typeof item === 'object' && !Array.isArray(item))
      return this.blockMap(item as Record<string, unknown>, col, like).replace(/^ +/, '')
    return JSON.stringify(item)
  }
}

/**
 * When `values` are the items in their order with some left out, the items to remove (their lines go, every other
 * line stays); undefined when items are added, reordered, or a line holds more than the item.
 */
function removedItems(items: Node[], values: string[], text: string): Node[] | undefined {
  if (values.length === 0) return undefined
  const removed: Node[] = []
  let next = 0
  for (const item of items) {
    const value = evaluate(item, text)
    if (next < values.length && value === values[next]) next++
    else removed.push(item)
  }
  if (next !== values.length) return undefined
  for (const item of removed) {
    const start = item.range?.[0] ?? 0
    const lineStart = text.lastIndexOf('\n', start - 1) + 1
    if (!/^\s*-\s*(!\w+\s+)?$/.test(text.slice(lineStart, start))) return undefined
    const end = item.range?.[1] ?? start
    if (text.slice(start, end).includes('\n')) return undefined
  }
  return removed
}

function contentEnd(node: Node): number {
  if ((isSeq(node) || isMap(node)) && !node.flow) {
    const last: unknown = isSeq(node)
      ? node.items[node.items.length - 1]
      : node.items[node.items.length - 1]?.value
    if (isScalar(last) || isSeq(last) || isMap(last)) return contentEnd(last)
  }
  return node.range?.[1] ?? 0
}

/** The end of the line of `offset` when only a comment follows it there, else `offset`. */
function lineEnd(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset)
  const end = newline < 0 ? text.length : newline
  return /^[ \t]*(#.*)?\r?$/.test(text.slice(offset, end)) ? end - (text[end - 1] === '\r' ? 1 : 0) : offset
}

/** The first Action/Resource value (or list item) of a Statement: the quoting new values take. */
function firstListValue(node: unknown): Node | undefined {
  if (isSeq(node)) {
    for (const item of node.items) {
      const found = firstListValue(item)
      if (found) return found
    }
  }
  if (!isMap(node)) return undefined
  for (const pair of node.items) {
    if (!isScalar(pair.key) || !(LIST_FIELDS as readonly unknown[]).includes(pair.key.value)) continue
    const value = pair.value
    if (isScalar(value) && !value.tag) return value
    if (isSeq(value)) {
      const item = value.items.find(i => isScalar(i) && !i.tag)
      if (isScalar(item)) return item
    }
  }
  return undefined
}

function firstScalar(node: unknown): Node | undefined {
  if (isScalar(node)) return node
  if (isSeq(node)) {
    for (const item of node.items) {
      const found = firstScalar(item)
      if (found) return found
    }
  }
  if (isMap(node))
    for (const pair of node.items) {
      const found = firstScalar(pair.value)
      if (found && !found.tag) return found
    }
  return undefined
}

function column(text: string, offset: number): number {
  return offset - (text.lastIndexOf('\n', offset - 1) + 1)
}

function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ''
}

/** The indentation step of a JSON file: the first indented line's indentation. */
function jsonIndentUnit(text: string): string {
  return /\n([ \t]+)\S/.exec(text)?.[1] ?? '  '
}

/** A string YAML reads back as itself when written without quotes, in block and flow context. */
function isPlainSafe(value: string): boolean {
  if (!/^[A-Za-z0-9_][\w:./*-]*$/.test(value) || value.endsWith(':')) return false
  try {
    return parse(value) === value
  } catch {
    return false
  }
}
