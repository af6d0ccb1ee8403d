/**
 * A unified diff of the current documents against the proposal, both normalized (canonical element order, list
 * values as sorted arrays, two-space JSON) so that the diff shows changes in meaning, not in layout.
 */
import { createTwoFilesPatch } from 'diff'
import type { ProposedPolicy } from '../model.js'
import { normalizePolicy } from './document.js'

const ELEMENT_ORDER = ['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']
const LIST_ELEMENTS = new Set(['Action', 'NotAction', 'Resource', 'NotResource'])

function byLowerCase(a: string, b: string): number {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : a > b ? 1 : 0
}

function canonicalStatement(statement: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of ELEMENT_ORDER) {
    const value = statement[key]
    if (value === undefined) continue
    out[key] = LIST_ELEMENTS.has(key)
      ? [...(typeof value === 'string' ? [value] : (value as string[]))].sort(byLowerCase)
      : value
  }
  return out
}

function render(name: string, document: unknown): string {
  const policy = normalizePolicy(name, document)
  const normalized = {
    Version: policy.version,
    Statement: policy.statements.map(s => canonicalStatement(s.raw))
  }
  return `# ${name}\n${JSON.stringify(normalized, null, 2)}\n`
}

export function policyDiff(
  current: { name: string; document: unknown }[],
  proposed: ProposedPolicy[]
): string {
  const before = current.map(p => render(p.name, p.document)).join('')
  const after = proposed.map(p => render(p.name, p.document)).join('')
  return createTwoFilesPatch('current', 'proposed', before, after, undefined, undefined, { context: 3 })
}
