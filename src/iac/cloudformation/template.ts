/**
 * A CloudFormation template (YAML with short-form intrinsics, or JSON) parsed with `yaml`'s document API, which keeps
 * source ranges, comments and custom tags. Templates are hostile input in a pull request: parsed only, capped in size
 * and in aliases, never evaluated beyond literals.
 */
import { isMap, isPair, isScalar, LineCounter, parseDocument } from 'yaml'
import type { Document, Node, Pair, YAMLMap } from 'yaml'

/** CloudFormation accepts template bodies of at most 1 MB (S3-hosted). */
export const TEMPLATE_MAX_BYTES = 1024 * 1024

/** The intrinsic functions that have a short form (`!Sub` for `Fn::Sub`, `!Ref` for `Ref`). */
export const SHORT_FORM_TAGS: readonly string[] = [
  'Ref',
  'Condition',
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'Base64',
  'Cidr',
  'GetAZs',
  'Equals',
  'Not',
  'And',
  'Or',
  'Transform',
  'Length',
  'ToJsonString'
]

/** Every short-form tag on a scalar, a sequence or a mapping: kept as written (the tag stays on the node). */
const customTags = SHORT_FORM_TAGS.flatMap(name => [
  { tag: `!${name}`, resolve: (value: string) => value },
  { tag: `!${name}`, collection: 'seq' as const, resolve: (value: unknown) => value },
  { tag: `!${name}`, collection: 'map' as const, resolve: (value: unknown) => value }
])

export interface Resource {
  logicalId: string
  type: string
  pair: Pair
  properties?: YAMLMap
}

export interface Template {
  path: string
  text: string
  document: Document.Parsed
  lines: LineCounter
  resources: Resource[]
}

/** Parses a template; throws a one-line error naming the file when it is not a readable template. */
export function parseTemplate(path: string, text: string): Template {
  if (Buffer.byteLength(text, 'utf8') > TEMPLATE_MAX_BYTES)
    throw new Error(
      `${path}: more than ${TEMPLATE_MAX_BYTES} bytes, larger than CloudFormation accepts; not read`
    )
  const lines = new LineCounter()
  const document = parseDocument(text, {
    lineCounter: lines,
    customTags,
    prettyErrors: false,
    uniqueKeys: true
  })
  const error = document.errors[0]
  if (error) {
    const at = lines.linePos(error.pos[0])
    throw new Error(`${path}:${at.line}: not a valid template (${error.code}); fix the YAML/JSON syntax`)
  }
  const root = document.contents
  const resourcesNode = isMap(root) ? root.get('Resources', true) : undefined
  const resources: Resource[] = []
  if (isMap(resourcesNode)) {
    for (const pair of resourcesNode.items) {
      const logicalId = isScalar(pair.key) ? pair.key.value : undefined
      if (typeof logicalId !== 'string' || !isMap(pair.value)) continue
      const type = pair.value.get('Type')
      const properties = pair.value.get('Properties', true)
      resources.push({
        logicalId,
        type: typeof type === 'string' ? type : '',
        pair: pair,
        ...(isMap(properties) ? { properties } : {})
      })
    }
  }
  return { path, text, document, lines, resources }
}

/** The 1-based first and last line of a node or a pair. */
export function lineSpan(template: Template, node: Node | Pair): { startLine: number; endLine: number } {
  const start = isPair(node) ? (node.key as Node | null)?.range : node.range
  const end = isPair(node) ? (node.value as Node | null)?.range : node.range
  const from = start?.[0] ?? 0
  const to = Math.max(from, (end?.[1] ?? from) - 1)
  return { startLine: template.lines.linePos(from).line, endLine: lineOf(template, to) }
}

/** The line of an offset, not counting the line break that ends it. */
function lineOf(template: Template, offset: number): number {
  let at = offset
  while (at > 0 && /\s/.test(template.text[at] ?? '')) at--
  return template.lines.linePos(at).line
}

/** A property node of a mapping, or undefined. */
export function property(map: YAMLMap | undefined, key: string): Node | undefined {
  const value = map?.get(key, true)
  return value === undefined || value === null ? undefined : value
}
