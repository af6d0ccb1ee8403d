/**
 * A managed policy ARN as Terraform code writes it: a literal string, or one whose partition is the provider's,
 * `"arn:${data.aws_partition.current.partition}:iam::aws:policy/..."`, read as `arn:*:...` (see iac/managed-arn.ts).
 * Any other interpolation leaves the ARN unknown.
 */
import type { HclNode } from './grammar.js'
import { hclValue, traversal, unwrap } from './source-value.js'

export function writtenPolicyArn(node: HclNode | undefined): string | undefined {
  if (!node) return undefined
  const v = hclValue(node)
  if (v.type !== 'string') return undefined
  if (v.expression === undefined) return v.value
  const quoted = unwrap(node).namedChild(0)
  const parts = quoted?.namedChildren.filter(p => p?.type === 'template_interpolation') ?? []
  const only = parts.length === 1 ? parts[0] : undefined
  const inner = only?.namedChildren.find(c => c?.type === 'expression')
  const reference = inner ? traversal(inner) : undefined
  const inPartitionPart = quoted !== null && only?.startIndex === quoted.startIndex + '"arn:'.length
  return inPartitionPart &&
    reference !== undefined &&
    /^data\.aws_partition\.[\w-]+\.partition$/.test(reference)
    ? v.value
    : undefined
}
