/**
 * Rewrites one policy of a Terraform file (or of the JSON file that `file()` reads) in place: only the changed
 * statements' Action/NotAction/Resource/NotResource values when the statements keep their structure, else the whole
 * body value, in the body's own style. The result is read back and must decode to the proposal.
 */
import type { PolicyDocumentJson } from '../../model.js'
import type { IacPolicy, IacSourceFile } from '../model.js'
import { parseHcl, type HclNode } from './grammar.js'
import { attributesOf, blocksOf, fileBody, type HclBlock } from './hcl-blocks.js'
import { documentPolicy, jsonFilePolicy, policyBody } from './policy-body.js'
import { EDITABLE_FIELDS, expressionsIn, singletonsAsStrings, type PolicySource } from './policy-source.js'
import {
  indentUnit,
  lineIndent,
  renderHclObject,
  renderJsonDocument,
  renderStatementBlocks,
  renderValue,
  type Layout
} from './render.js'

interface Edit {
  start: number
  end: number
  text: string
}

export async function rewriteTerraform(
  file: IacSourceFile,
  policy: IacPolicy,
  document: PolicyDocumentJson
): Promise<string> {
  const where = `${policy.location.file}: ${policy.location.address}`
  if (policy.notRewritable !== undefined) throw new Error(`${where}: not rewritten: ${policy.notRewritable}`)
  const source = await sourceOf(file, policy)
  if (source.blockedBy !== undefined) throw new Error(`${where}: not rewritten: ${source.blockedBy}`)
  const layout: Layout = { text: file.text, template: !file.path.endsWith('.json') }
  const inPlace = inPlaceEdits(source, document, layout, where)
  // A statement kept as written keeps its text only when the others are edited value by value.
  const first = source.kept[0]
  if (!inPlace && first)
    throw new Error(
      `${where}: not rewritten: the proposal removes or reshapes statements, and statement ${first.statement + 1} holds ${first.expression}, which is kept as written`
    )
  const edits = inPlace ?? [wholeBody(source, document, layout)]
  let after = file.text
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    after = after.slice(0, e.start) + e.text + after.slice(e.end)
  const reread = await sourceOf({ path: file.path, text: after }, policy)
  const expected = source.style === 'policy-document' ? singletonsAsStrings(document) : document
  if (!jsonEqual(reread.document, expected))
    throw new Error(
      `${where}: the rewritten policy does not read back as the proposal; the file was left unchanged`
    )
  return after
}

/** The policy's body in this file, found again by its location. */
async function sourceOf(file: IacSourceFile, policy: IacPolicy): Promise<PolicySource> {
  if (file.path.endsWith('.json')) return jsonFilePolicy(file.text)
  const tree = await parseHcl(file.text)
  if (tree.rootNode.hasError) throw new Error(`${file.path}: not valid HCL`)
  const { address, startLine } = policy.location
  for (const block of blocksOf(fileBody(tree.rootNode))) {
    const blockAddress =
      block.labels.length === 2 ? `${block.type === 'data' ? 'data.' : ''}${block.labels.join('.')}` : ''
    if (blockAddress !== address) continue
    if (block.startLine === startLine) {
      if (address.startsWith('data.aws_iam_policy_document.')) return documentPolicy(block)
      return inlineBody(block, file.path)
    }
    const nested = blocksOf(block.body).find(b => b.type === 'inline_policy' && b.startLine === startLine)
    if (nested) return inlineBody(nested, file.path)
  }
  throw new Error(`${file.path}: no ${address} at line ${startLine}`)
}

function inlineBody(block: HclBlock, path: string): PolicySource {
  const expression: HclNode | undefined = attributesOf(block.body).get('policy')
  const body = expression ? policyBody(expression) : undefined
  if (body?.kind !== 'inline')
    throw new Error(`${path}: the policy at line ${block.startLine} is not written in place`)
  return body.source
}

/** Value edits when the proposal keeps every statement and changes only editable values; else undefined. */
function inPlaceEdits(
  source: PolicySource,
  document: PolicyDocumentJson,
  layout: Layout,
  where: string
): Edit[] | undefined {
  const current = source.document
  if (current.Version !== document.Version || current.Id !== document.Id) return undefined
  if (current.Statement.length !== document.Statement.length) return undefined
  const rest = (s: Record<string, unknown>): Record<string, unknown> => {
    const copy: Record<string, unknown> = { Effect: 'Allow', ...s }
    for (const k of EDITABLE_FIELDS) copy[k] = k in s
    return source.style === 'policy-document' ? collapsedStatement(copy) : copy
  }
  const edits: Edit[] = []
  for (const [i, proposed] of document.Statement.entries()) {
    const written = current.Statement[i]
    const statement = source.statements[source.decodedFrom[i] ?? -1]
    if (!written || !statement || !jsonEqual(rest(written), rest(proposed))) return undefined
    const kept = source.kept.find(k => k.statement === source.decodedFrom[i])
    if (kept && !jsonEqual(written, proposed))
      throw new Error(
        `${where}: not rewritten: statement ${kept.statement + 1} holds ${kept.expression}, which is kept as written`
      )
    for (const key of EDITABLE_FIELDS) {
      const value = statement.fields.get(key)
      // A policy document writes every value as a list: a one-element list and its string are the same.
      const same =
        source.style === 'policy-document'
          ? jsonEqual(asList(written[key]), asList(proposed[key]))
          : jsonEqual(written[key], proposed[key])
      if (!value || !(key in proposed) || same) continue
      const expression = expressionsIn(value)[0]
      if (expression !== undefined)
        throw new Error(
          `${where}: not rewritten: ${key} of statement ${i + 1} is the expression ${expression}`
        )
      edits.push({
        start: value.start,
        end: value.end,
        text: renderValue(source.style, proposed[key], value.start, value.end, layout)
      })
    }
  }
  return edits
}

/** The whole body value replaced, in the body's style. */
function wholeBody(source: PolicySource, document: PolicyDocumentJson, layout: Layout): Edit {
  const text = layout.text
  const { proposal, raw } = keepWrittenExpressions(source, document, text)
  const body = text.slice(source.start, source.end)
  let rendered: string
  if (source.style === 'json') {
    const first = body.search(/\S/)
    const base = layout.template ? lineIndent(text, source.start + Math.max(first, 0)) : ''
    const unit = indentUnit(
      body
        .split('\n')
        .map(l => l.slice(base.length))
        .join('\n')
    )
    const trailing = /\s*$/.exec(body)?.[0] ?? ''
    const leading = layout.template ? '' : (/^\s*/.exec(body)?.[0] ?? '')
    rendered = leading + renderJsonDocument(proposal, base, unit, layout.template) + trailing
  } else if (source.style === 'hcl-object') {
    const first = /^\{\s*("?)[\w-]+"?\s*([:=])/.exec(body)
    const keys = { quoted: first?.[1] === '"', colon: first?.[2] === ':' }
    const indent = lineIndent(text, source.start)
    const unit = indentUnit(
      body
        .split('\n')
        .slice(1)
        .map(l => l.slice(indent.length))
        .join('\n')
    )
    rendered = renderHclObject(proposal, indent, unit, keys)
  } else {
    if (source.statements.length === 0)
      throw new Error('the policy document has no statement block to replace')
    const writeAllow = source.statements.some(s => s.fields.has('Effect'))
    const [first, second] = source.statements
    const between = first && second ? text.slice(first.end, second.start) : undefined
    const indent = lineIndent(text, source.start)
    const separator = between !== undefined && /^\s*$/.test(between) ? between : `\n\n${indent}`
    rendered = renderStatementBlocks(proposal.Statement, indent, '  ', writeAllow, separator)
  }
  for (const [placeholder, written] of raw)
    rendered =
      placeholder.includes('kept-statement') && source.style !== 'policy-document'
        ? rendered.replace(new RegExp(`[ \\t]*${escapeRegExp(placeholder)}`), () => written)
        : rendered.replace(placeholder, () => written)
  return { start: source.start, end: source.end, text: rendered }
}

/**
 * A resource written as an expression (`aws_s3_bucket.b.arn`, `"${aws_s3_bucket.b.arn}/*"`) and kept by the
 * proposal is written back as it was: the proposal's value is replaced by a placeholder that the rendered text's
 * quoted placeholder is swapped for.
 */
function keepWrittenExpressions(
  source: PolicySource,
  document: PolicyDocumentJson,
  text: string
): { proposal: PolicyDocumentJson; raw: Map<string, string> } {
  const written = new Map<string, string>()
  for (const [i, statement] of source.statements.entries())
    for (const [key, value] of statement.fields) {
      const decoded = source.document.Statement[i]?.[key]
      if (expressionsIn(value).length > 0 && decoded !== undefined)
        written.set(`${key}\u0000${JSON.stringify(decoded)}`, text.slice(value.start, value.end))
    }
  const raw = new Map<string, string>()
  const proposal = structuredClone(document)
  const quote = (placeholder: string): string =>
    source.style === 'json'
      ? JSON.stringify(placeholder)
      : source.style === 'hcl-object'
        ? `"${placeholder}"`
        : placeholder
  // A statement the proposal keeps as it is keeps its written text (comments, layout, expressions).
  const unused = new Set(source.statements.keys())
  proposal.Statement = proposal.Statement.map(statement => {
    const same = [...unused].find(i => jsonEqual(source.document.Statement[i], statement))
    const written = same === undefined ? undefined : source.statements[same]
    if (same === undefined || !written) return statement
    unused.delete(same)
    const placeholder = `\u0001kept-statement-${raw.size}\u0001`
    // Kept with the indentation of its first line as written (the renderer's indentation is dropped).
    const indent = source.style === 'policy-document' ? '' : lineIndent(text, written.start)
    raw.set(quote(placeholder), indent + text.slice(written.start, written.end))
    return placeholder as unknown as Record<string, unknown>
  })
  for (const statement of proposal.Statement) {
    if (typeof statement !== 'object') continue
    for (const key of ['Resource', 'NotResource']) {
      const expression = written.get(`${key}\u0000${JSON.stringify(statement[key])}`)
      if (expression === undefined) continue
      const placeholder = `\u0001kept-expression-${raw.size}\u0001`
      statement[key] = placeholder
      raw.set(source.style === 'policy-document' ? `"${placeholder}"` : quote(placeholder), expression)
    }
  }
  // A resource read from an expression (`"${aws_s3_bucket.b.arn}/*"` reads as `*/*`) is never written as its
  // conservative literal: that would grant more than the code did.
  const derived = new Set(
    source.statements.flatMap((statement, i) =>
      ['Resource', 'NotResource'].flatMap(key => {
        const value = statement.fields.get(key)
        if (!value || expressionsIn(value).length === 0) return []
        const decoded = source.document.Statement[i]?.[key]
        return (Array.isArray(decoded) ? decoded : [decoded]).filter(
          (v): v is string => typeof v === 'string'
        )
      })
    )
  )
  for (const statement of proposal.Statement) {
    if (typeof statement !== 'object') continue
    for (const key of ['Resource', 'NotResource']) {
      const value = statement[key]
      const literal = (Array.isArray(value) ? (value as unknown[]) : [value]).find(
        v => typeof v === 'string' && derived.has(v)
      )
      if (typeof literal === 'string')
        throw new Error(
          `the proposal writes ${key} "${literal}", which was read from an expression: not rewritten`
        )
    }
  }
  for (const statement of document.Statement)
    for (const [key, value] of Object.entries(statement))
      if (!['Resource', 'NotResource'].includes(key) && JSON.stringify(value).includes('\u0001'))
        throw new Error(`the proposal's ${key} holds the control character U+0001`)
  return { proposal, raw }
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [v]
}

function collapsedStatement(s: Record<string, unknown>): Record<string, unknown> {
  return singletonsAsStrings({ Version: '', Statement: [s] }).Statement[0] ?? {}
}

/** Equality of JSON values (key order aside); prototypes are not compared, so values from any realm compare. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return (
    ka.length === kb.length &&
    ka.every(
      k =>
        Object.hasOwn(b, k) && jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
    )
  )
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
