/**
 * Where a `policy` argument's document is written and what it says: `jsonencode({...})`, heredoc or quoted JSON in
 * place, a `data "aws_iam_policy_document"` (by reference), or a JSON file (`file(...)`).
 */
import type { HclNode } from './grammar.js'
import { attributesOf, blocksOf, type HclBlock } from './hcl-blocks.js'
import {
  ALLOW_ALL,
  decodeStatements,
  policyFromValue,
  singletonsAsStrings,
  unknownBody,
  VERSION,
  type PolicySource,
  type StatementSource
} from './policy-source.js'
import {
  hclValue,
  JsonSyntaxError,
  parseJsonSource,
  traversal,
  unwrap,
  type SourceValue
} from './source-value.js'

export type PolicyBody =
  | { kind: 'inline'; source: PolicySource }
  | { kind: 'document'; address: string }
  | { kind: 'file'; path: string; expression: string }

/** Reads the expression of a `policy` argument. */
export function policyBody(expression: HclNode): PolicyBody {
  const n = unwrap(expression)
  const reference = traversal(n)
  const documentAddress = reference
    ? /^(data\.aws_iam_policy_document\.[\w-]+)(?:\[[^\]]*\])?\.(?:minified_)?json$/.exec(reference)
    : null
  if (documentAddress?.[1]) return { kind: 'document', address: documentAddress[1] }
  if (n.type === 'function_call') {
    const name = n.namedChild(0)?.text
    const args =
      n.namedChildren
        .find(c => c?.type === 'function_arguments')
        ?.namedChildren.filter(c => c?.type === 'expression') ?? []
    const arg = args[0]
    if (name === 'jsonencode' && args.length === 1 && arg)
      return { kind: 'inline', source: policyFromValue('hcl-object', hclValue(arg)) }
    if (name === 'file' && args.length === 1 && arg) {
      const path = hclValue(arg)
      if (path.type === 'string')
        return { kind: 'file', path: path.expression ?? JSON.stringify(path.value), expression: n.text }
    }
  }
  if (n.type === 'template_expr' && n.namedChild(0)?.type === 'heredoc_template')
    return { kind: 'inline', source: heredocPolicy(n.namedChild(0) as HclNode) }
  const value = hclValue(n)
  if (value.type === 'string' && value.expression === undefined) {
    // JSON in a quoted string: read, but its offsets are those of the decoded text, so it is not rewritten.
    const read = readJson(value.value, 0, [])
    const source =
      read.type === 'unknown'
        ? unknownBody('json', n.startIndex, n.endIndex, n.text)
        : policyFromValue('json', read)
    source.blockedBy ??= 'a policy written as a quoted JSON string'
    source.start = n.startIndex
    source.end = n.endIndex
    return { kind: 'inline', source }
  }
  return { kind: 'inline', source: unknownBody('hcl-object', n.startIndex, n.endIndex, n.text) }
}

/** JSON text in a heredoc: the lines between the opening and closing markers. */
function heredocPolicy(heredoc: HclNode): PolicySource {
  const markers = heredoc.namedChildren.filter(c => c?.type === 'heredoc_identifier')
  const close = markers[markers.length - 1]
  const text = heredoc.tree.rootNode.text
  const open = markers[0]
  if (!open || !close || markers.length < 2)
    return unknownBody('json', heredoc.startIndex, heredoc.endIndex, heredoc.text)
  const start = text.indexOf('\n', open.endIndex) + 1
  const end = text.lastIndexOf('\n', close.startIndex) + 1
  const directive = heredoc.namedChildren.find(c => c?.type === 'template_directive')
  if (directive) return unknownBody('json', start, end, directive.text)
  const interpolations = heredoc.namedChildren
    .filter(c => c?.type === 'template_interpolation')
    .map(c => [c?.startIndex ?? 0, c?.endIndex ?? 0] as const)
  const read = readJson(text.slice(start, end), start, interpolations)
  const source =
    read.type === 'unknown' ? unknownBody('json', start, end, read.expression) : policyFromValue('json', read)
  source.start = start
  source.end = end
  return source
}

/** JSON text (a heredoc's or a file's), positioned; a syntax error becomes an unknown value naming it. */
export function readJson(
  text: string,
  base: number,
  interpolations: readonly (readonly [number, number])[]
): SourceValue {
  try {
    return parseJsonSource(text, base, interpolations)
  } catch (e) {
    if (!(e instanceof JsonSyntaxError)) throw e
    return {
      type: 'unknown',
      start: base,
      end: base + text.length,
      expression: `JSON that does not parse (${e.message})`
    }
  }
}

/** A JSON policy file read by `file()`: rewritable as plain JSON (no template escapes). */
export function jsonFilePolicy(text: string): PolicySource {
  const read = readJson(text, 0, [])
  if (read.type === 'unknown') return unknownBody('json', 0, text.length, read.expression)
  return policyFromValue('json', read)
}

const STATEMENT_ATTRIBUTES: Record<string, string> = {
  sid: 'Sid',
  effect: 'Effect',
  actions: 'Action',
  not_actions: 'NotAction',
  resources: 'Resource',
  not_resources: 'NotResource'
}

/** A `data "aws_iam_policy_document"` block's statements. */
export function documentPolicy(block: HclBlock): PolicySource {
  const attributes = attributesOf(block.body)
  const statements: StatementSource[] = []
  const blockers: string[] = []
  // source_json and override_json: the AWS provider's older spelling of the same merge (before 5.0).
  for (const meta of [
    'count',
    'for_each',
    'source_policy_documents',
    'override_policy_documents',
    'source_json',
    'override_json'
  ]) {
    const a = attributes.get(meta)
    if (a) blockers.push(`${meta} = ${a.text}`)
  }
  const nested = blocksOf(block.body)
  for (const d of nested.filter(b => b.type === 'dynamic')) blockers.push(`dynamic "${d.labels[0] ?? ''}"`)
  const written = nested.filter(b => b.type === 'statement')
  for (const s of written) {
    const fields = new Map<string, SourceValue>()
    for (const [name, node] of attributesOf(s.body)) {
      const key = STATEMENT_ATTRIBUTES[name]
      if (key) fields.set(key, hclValue(node))
    }
    const inner = blocksOf(s.body)
    for (const d of inner.filter(b => b.type === 'dynamic')) blockers.push(`dynamic "${d.labels[0] ?? ''}"`)
    for (const kind of ['principals', 'not_principals'] as const) {
      const members = inner.filter(b => b.type === kind).map(b => principal(b))
      if (members.length > 0)
        fields.set(kind === 'principals' ? 'Principal' : 'NotPrincipal', synthetic(s.node, members))
    }
    const conditions = inner.filter(b => b.type === 'condition').map(condition)
    if (conditions.length > 0) fields.set('Condition', synthetic(s.node, mergeByKey(s.node, conditions)))
    statements.push({ start: s.node.startIndex, end: s.node.endIndex, fields })
  }
  const version = attributes.get('version')
  const versionValue = version ? hclValue(version) : undefined
  const header = {
    Version: versionValue?.type === 'string' && !versionValue.expression ? versionValue.value : VERSION
  }
  const first = written[0]
  const last = written[written.length - 1]
  const start = first ? first.node.startIndex : (block.body?.endIndex ?? block.node.endIndex)
  const end = last ? last.node.endIndex : start
  const source = decodeStatements('policy-document', start, end, statements, header)
  source.document = singletonsAsStrings(source.document)
  // A statement block without `effect` allows (the provider's default).
  source.document.Statement = source.document.Statement.map(s =>
    'Effect' in s ? s : { Effect: 'Allow', ...s }
  )
  if (blockers.length > 0) {
    source.blockedBy ??= blockers.join(', ')
    source.unresolved.unshift(...blockers)
    // What the unknown statements grant is unknown: the document grants everything.
    if (blockers.some(b => !b.startsWith('count') && !b.startsWith('for_each')))
      source.document.Statement.push(...structuredClone(ALLOW_ALL.Statement))
  }
  return source
}

function principal(block: HclBlock): { key: string; value: SourceValue } {
  const a = attributesOf(block.body)
  const type = a.get('type')
  const identifiers = a.get('identifiers')
  const t = type ? hclValue(type) : undefined
  return {
    key: t?.type === 'string' && !t.expression ? t.value : '*',
    value: identifiers
      ? hclValue(identifiers)
      : {
          type: 'unknown',
          start: block.node.startIndex,
          end: block.node.endIndex,
          expression: block.node.text
        }
  }
}

function condition(block: HclBlock): { key: string; value: SourceValue } {
  const a = attributesOf(block.body)
  const test = a.get('test')
  const variable = a.get('variable')
  const values = a.get('values')
  const t = test ? hclValue(test) : undefined
  const v = variable ? hclValue(variable) : undefined
  const unknown: SourceValue = {
    type: 'unknown',
    start: block.node.startIndex,
    end: block.node.endIndex,
    expression: block.node.text
  }
  if (t?.type !== 'string' || t.expression || v?.type !== 'string' || v.expression || !values)
    return { key: t?.type === 'string' ? t.value : '?', value: unknown }
  return { key: t.value, value: synthetic(block.node, [{ key: v.value, value: hclValue(values) }]) }
}

function mergeByKey(
  node: HclNode,
  entries: { key: string; value: SourceValue }[]
): { key: string; value: SourceValue }[] {
  const merged = new Map<string, { key: string; value: SourceValue }[]>()
  for (const e of entries) {
    if (e.value.type !== 'object') return [{ key: e.key, value: e.value }]
    const list = merged.get(e.key) ?? []
    list.push(...e.value.members.map(m => ({ key: m.key, value: m.value })))
    merged.set(e.key, list)
  }
  return [...merged].map(([key, members]) => ({ key, value: synthetic(node, members) }))
}

function synthetic(node: HclNode, members: { key: string; value: SourceValue }[]): SourceValue {
  return {
    type: 'object',
    start: node.startIndex,
    end: node.endIndex,
    members: members.map(m => ({ key: m.key, start: node.startIndex, value: m.value }))
  }
}
