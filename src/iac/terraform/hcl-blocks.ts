/** The structure of a parsed Terraform file: its blocks, their labels, attributes and nested blocks. */
import type { HclNode } from './grammar.js'
import { decodeHclString } from './source-value.js'

export interface HclBlock {
  /** `resource`, `data`, `module`, `inline_policy`, `statement`, ... */
  type: string
  labels: string[]
  node: HclNode
  body: HclNode | undefined
  startLine: number
  endLine: number
}

export function blocksOf(body: HclNode | undefined | null): HclBlock[] {
  if (!body) return []
  const out: HclBlock[] = []
  for (const child of body.namedChildren) {
    if (child?.type !== 'block') continue
    const parts = child.namedChildren
    const type = parts[0]?.type === 'identifier' ? parts[0].text : ''
    const labels = parts
      .slice(1)
      .filter(p => p?.type === 'string_lit' || p?.type === 'identifier')
      .map(p => (p?.type === 'string_lit' ? decodeHclString(p.text.slice(1, -1)) : (p?.text ?? '')))
    out.push({
      type,
      labels,
      node: child,
      body: parts.find(p => p?.type === 'body') ?? undefined,
      startLine: child.startPosition.row + 1,
      endLine: child.endPosition.row + 1
    })
  }
  return out
}

/** The attributes of a block body: name → expression node. */
export function attributesOf(body: HclNode | undefined | null): Map<string, HclNode> {
  const out = new Map<string, HclNode>()
  if (!body) return out
  for (const child of body.namedChildren) {
    if (child?.type !== 'attribute') continue
    const name = child.namedChild(0)
    const value = child.namedChild(1)
    if (name && value) out.set(name.text, value)
  }
  return out
}

/** The top-level body of a file (the config_file's body). */
export function fileBody(root: HclNode): HclNode | undefined {
  return root.namedChildren.find(c => c?.type === 'body') ?? undefined
}
