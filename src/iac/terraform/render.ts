/**
 * Writes policy values in a body's own style: HCL object syntax (jsonencode), JSON (heredoc or file), or the
 * attributes and blocks of a policy document; lists laid out like the list they replace.
 */
import type { PolicyDocumentJson } from '../../model.js'
import type { BodyStyle } from './policy-source.js'

export interface Layout {
  text: string
  /** JSON inside a heredoc is a template: `${` and `%{` are escaped. */
  template: boolean
}

export function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ''
}

export function hclString(value: string): string {
  const escaped = value
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, '%%{')
  return `"${escaped}"`
}

function jsonString(value: string, template: boolean): string {
  const text = JSON.stringify(value)
  return template ? text.replace(/\$\{/g, () => '$${').replace(/%\{/g, '%%{') : text
}

export function scalar(style: BodyStyle, value: unknown, layout: Layout): string {
  if (typeof value === 'string')
    return style === 'json' ? jsonString(value, layout.template) : hclString(value)
  return JSON.stringify(value)
}

/**
 * A string or list value replacing the written value at [start, end): a list keeps the original's line layout
 * (one item a line with the original's indentation and trailing comma, or all on one line).
 */
export function renderValue(
  style: BodyStyle,
  value: unknown,
  start: number,
  end: number,
  layout: Layout
): string {
  const items = Array.isArray(value)
    ? (value as unknown[])
    : style === 'policy-document'
      ? [value]
      : undefined
  if (!items) return scalar(style, value, layout)
  const original = layout.text.slice(start, end)
  if (items.length === 0) return '[]'
  const rendered = items.map(i => scalar(style, i, layout))
  if (!original.startsWith('[') || !original.includes('\n')) return `[${rendered.join(', ')}]`
  const firstItem = original.slice(1).search(/\S/) + 1
  const itemIndent = lineIndent(layout.text, start + firstItem)
  const closeIndent = lineIndent(layout.text, end - 1)
  const lastComma = style !== 'json' && /,\s*]$/.test(original)
  return `[\n${rendered.map(r => itemIndent + r).join(',\n')}${lastComma ? ',' : ''}\n${closeIndent}]`
}

/** The indentation unit of a text: the first indented line's leading whitespace, or two spaces. */
export function indentUnit(text: string): string {
  const indents = text
    .split('\n')
    .map(l => /^[ \t]*/.exec(l)?.[0] ?? '')
    .filter(i => i.length > 0)
  const smallest = indents.sort((a, b) => a.length - b.length)[0]
  return smallest && smallest.length <= 4 ? smallest : '  '
}

/** A whole document as JSON lines, each prefixed with `base`. */
export function renderJsonDocument(
  document: PolicyDocumentJson,
  base: string,
  unit: string,
  template: boolean
): string {
  const text = JSON.stringify(document, null, unit)
  const escaped = template ? text.replace(/\$\{/g, () => '$${').replace(/%\{/g, '%%{') : text
  return escaped
    .split('\n')
    .map(l => base + l)
    .join('\n')
}

/** A whole document as an HCL object (jsonencode's argument), in terraform fmt layout. */
export function renderHclObject(
  value: unknown,
  indent: string,
  unit: string,
  keys: { quoted: boolean; colon: boolean }
): string {
  const layout: Layout = { text: '', template: false }
  const render = (v: unknown, at: string): string => {
    if (Array.isArray(v)) {
      if (v.every(i => (typeof i !== 'object' || i === null) && !isPlaceholder(i)))
        return `[${v.map(i => scalar('hcl-object', i, layout)).join(', ')}]`
      return `[\n${v.map(i => at + unit + render(i, at + unit)).join(',\n')},\n${at}]`
    }
    if (typeof v !== 'object' || v === null) return scalar('hcl-object', v, layout)
    const entries = Object.entries(v as Record<string, unknown>)
    if (entries.length === 0) return '{}'
    const name = (k: string): string => (keys.quoted || !/^[A-Za-z_][\w-]*$/.test(k) ? JSON.stringify(k) : k)
    const lines = entries.map(([k, inner]) => ({ key: name(k), value: render(inner, at + unit) }))
    // terraform fmt aligns the `=` of adjacent one-line entries; an entry with a multi-line value stands alone.
    let group: typeof lines = []
    const widths = new Map<(typeof lines)[number], number>()
    const close = (): void => {
      const width = Math.max(...group.map(l => l.key.length))
      for (const l of group) widths.set(l, width)
      group = []
    }
    for (const l of lines) {
      if (l.value.includes('\n')) {
        if (group.length > 0) close()
        widths.set(l, l.key.length)
      } else group.push(l)
    }
    if (group.length > 0) close()
    const body = lines.map(l => {
      const pad = keys.colon ? '' : ' '.repeat((widths.get(l) ?? l.key.length) - l.key.length)
      return `${at}${unit}${l.key}${keys.colon ? ':' : `${pad} =`} ${l.value}`
    })
    return `{\n${body.join(keys.colon ? ',\n' : '\n')}\n${at}}`
  }
  return render(value, indent)
}

const BLOCK_ATTRIBUTES: [string, string][] = [
  ['Sid', 'sid'],
  ['Effect', 'effect'],
  ['Action', 'actions'],
  ['NotAction', 'not_actions'],
  ['Resource', 'resources'],
  ['NotResource', 'not_resources']
]

/** Statements as `statement` blocks of a policy document. */
export function renderStatementBlocks(
  statements: Record<string, unknown>[],
  indent: string,
  unit: string,
  writeAllow: boolean,
  separator: string
): string {
  const list = (v: unknown): string =>
    isPlaceholder(v)
      ? `"${v}"`
      : `[${(Array.isArray(v) ? v : [v]).map(i => hclString(String(i))).join(', ')}]`
  const attributes = (pairs: [string, string][], at: string): string[] => {
    const width = Math.max(...pairs.map(([k]) => k.length))
    return pairs.map(([k, v]) => `${at}${k.padEnd(width)} = ${v}`)
  }
  return statements
    .map(s => {
      if (isPlaceholder(s)) return s
      const at = indent + unit
      const pairs: [string, string][] = []
      for (const [json, hcl] of BLOCK_ATTRIBUTES) {
        const v = s[json]
        if (v === undefined) continue
        if (json === 'Effect' && v === 'Allow' && !writeAllow) continue
        pairs.push([
          hcl,
          typeof v === 'string' && (json === 'Sid' || json === 'Effect') ? hclString(v) : list(v)
        ])
      }
      const lines = attributes(pairs, at)
      for (const [json, block] of [
        ['Principal', 'principals'],
        ['NotPrincipal', 'not_principals']
      ] as const) {
        const p = s[json]
        const entries: [string, unknown][] =
          p === '*' ? [['*', ['*']]] : Object.entries((p ?? {}) as Record<string, unknown>)
        for (const [type, ids] of entries)
          lines.push(
            `${at}${block} {`,
            ...attributes(
              [
                ['type', hclString(type)],
                ['identifiers', list(ids)]
              ],
              at + unit
            ),
            `${at}}`
          )
      }
      for (const [test, variables] of Object.entries(
        (s.Condition ?? {}) as Record<string, Record<string, unknown>>
      ))
        for (const [variable, values] of Object.entries(variables))
          lines.push(
            `${at}condition {`,
            ...attributes(
              [
                ['test', hclString(test)],
                ['variable', hclString(variable)],
                ['values', list(values)]
              ],
              at + unit
            ),
            `${at}}`
          )
      return `statement {\n${lines.join('\n')}\n${indent}}`
    })
    .join(separator)
}

/** A value the rewrite swaps for written text after rendering (see rewrite.ts). */
function isPlaceholder(v: unknown): v is string {
  return typeof v === 'string' && v.startsWith('\u0001')
}
