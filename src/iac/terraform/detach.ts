/**
 * Detach-and-replace in Terraform: an AWS-managed policy attached to a role by literal ARN (in the role's
 * `managed_policy_arns`, an `aws_iam_role_policy_attachment`, or an `aws_iam_policy_attachment`) is detached, and the
 * part of it the role needs is added as an inline policy: an `aws_iam_role_policy` right after the role block, or,
 * when the role writes its inline policies as `inline_policy` blocks (which make them exclusive: a separate
 * `aws_iam_role_policy` would be removed by the next apply), one more `inline_policy` block after its last one.
 * Every other byte is unchanged; the module read back must attach the ARN no more and grant the new document.
 * Attachments written with expressions, `count` or `for_each` are never edited: the error names the expression.
 */
import path from 'node:path'
import { listItemsRemoval, spliceAll, type Span } from '../list-item.js'
import { sameManagedArn } from '../managed-arn.js'
import {
  POLICY_NAME,
  type IacPolicy,
  type IacReading,
  type IacReplacement,
  type IacRole,
  type IacSourceFile
} from '../model.js'
import { parseHcl, type HclNode } from './grammar.js'
import { attributesOf, blocksOf, fileBody, type HclBlock } from './hcl-blocks.js'
import { hclString, indentUnit, lineIndent, renderHclObject } from './render.js'
import { writtenPolicyArn } from './policy-arn.js'
import { hclValue, references, traversal, unwrap } from './source-value.js'

type Edit = Span & { text: string }

/** Terraform removes an inline policy that a role's exclusive list of them does not name. */
const EXCLUSIVE_INLINE = (by: string) =>
  `${by} manage the role's inline policies exclusively, so a new inline policy would be removed on the next apply; replace the policy by hand`

/**
 * The module's files (the role's directory) after the edit, those changed only. `read` reads a module back (the
 * Terraform reader), for the check that the result is exactly the proposal.
 */
export async function detachTerraform(
  files: readonly IacSourceFile[],
  role: IacRole,
  replacement: IacReplacement,
  read: (files: readonly IacSourceFile[]) => Promise<IacReading>
): Promise<Map<string, string>> {
  const where = `${role.location.file}: ${role.location.address}`
  if (!POLICY_NAME.test(replacement.name))
    throw new Error(`${where}: not rewritten: ${replacement.name} is not a policy name`)
  const dir = path.posix.dirname(role.location.file)
  const module = files.filter(f => path.posix.dirname(f.path) === dir && f.path.endsWith('.tf'))
  const edits = new Map<string, Edit[]>()
  const add = (file: string, edit: Edit) => edits.set(file, [...(edits.get(file) ?? []), edit])
  const label = role.location.address.replace(/^aws_iam_role\./, '')
  const addresses = new Set<string>()
  let roleBlock: { file: IacSourceFile; block: HclBlock } | undefined
  let detached = 0
  const parsed: { file: IacSourceFile; blocks: HclBlock[] }[] = []
  const removedBlocks: { file: IacSourceFile; address: string; node: HclNode }[] = []
  const removeBlock = (file: IacSourceFile, address: string, node: HclNode): void => {
    add(file.path, wholeBlock(file.text, node))
    removedBlocks.push({ file, address, node })
  }

  for (const file of module) {
    const tree = await parseHcl(file.text)
    if (tree.rootNode.hasError) throw new Error(`${file.path}: not valid HCL`)
    const blocks = blocksOf(fileBody(tree.rootNode))
    parsed.push({ file, blocks })
    for (const block of blocks) {
      if (block.type !== 'resource' || block.labels.length !== 2) continue
      const address = block.labels.join('.')
      addresses.add(address)
      const a = attributesOf(block.body)
      const conditional = ['count', 'for_each'].find(meta => a.has(meta))
      if (address === role.location.address) {
        if (conditional) throw new Error(`${where}: not rewritten: the role is made under ${conditional}`)
        checkInlineBlocks(block, replacement.name, where)
        roleBlock = { file, block }
        const list = a.get('managed_policy_arns')
        const removal = list
          ? removeFromList(file.text, list, node => attachesArn(node, replacement.arn))
          : undefined
        const edited = [
          ...(removal ? ['managed_policy_arns'] : []),
          ...(blocksOf(block.body).some(b => b.type === 'inline_policy') ? ['inline_policy'] : [])
        ]
        const ignored = ignoredChanges(block).find(
          k => edited.includes(k) || (k === 'all' && edited.length > 0)
        )
        if (ignored)
          throw new Error(
            `${where}: not rewritten: its lifecycle ignores changes to ${ignored}, so the edit would not be applied`
          )
        if (removal) {
          add(file.path, removal)
          detached++
        }
        continue
      }
      const type = block.labels[0]
      if (type === 'aws_iam_role_policies_exclusive') {
        const target = a.get('role_name')
        const other = target ? traversal(target) : undefined
        if (!target || this_role(target, label, role) || !other?.startsWith('aws_iam_role.'))
          throw new Error(`${where}: not rewritten: ${EXCLUSIVE_INLINE(address)}`)
      }
      const attaches = attachesArn(a.get('policy_arn'), replacement.arn)
      if (type === 'aws_iam_role_policy_attachment' && attaches && this_role(a.get('role'), label, role)) {
        if (conditional) throw new Error(`${file.path}: ${address}: not rewritten: made under ${conditional}`)
        removeBlock(file, address, block.node)
        detached++
      } else if (type === 'aws_iam_policy_attachment' && attaches) {
        const roles = a.get('roles')
        const removal = roles
          ? removeFromList(file.text, roles, node => this_role(node, label, role))
          : undefined
        if (!removal) continue
        if (conditional) throw new Error(`${file.path}: ${address}: not rewritten: made under ${conditional}`)
        const others = ['users', 'groups'].some(k => a.has(k)) || listLength(roles) > removal.removed
        if (others) add(file.path, removal)
        else removeBlock(file, address, block.node)
        detached++
      } else if (
        type === 'aws_iam_role_policy_attachments_exclusive' &&
        this_role(a.get('role_name'), label, role)
      ) {
        // The exclusive list keeps the ARN attached: it leaves the list too (an emptied list keeps none).
        const arns = a.get('policy_arns')
        const removal = arns
          ? removeFromList(file.text, arns, node => attachesArn(node, replacement.arn))
          : undefined
        if (!removal) continue
        if (conditional) throw new Error(`${file.path}: ${address}: not rewritten: made under ${conditional}`)
        add(file.path, removal)
        detached++
      }
    }
  }
  if (!roleBlock) throw new Error(`${where}: the role block is no longer in ${role.location.file}`)
  if (detached === 0)
    throw new Error(
      `${where}: not rewritten: ${replacement.arn} is not attached by a literal ARN in managed_policy_arns or an attachment of this role`
    )

  const { file, block } = roleBlock
  const inline = blocksOf(block.body).filter(b => b.type === 'inline_policy')
  const added = inline.length > 0 ? addInlineBlock(file.text, inline, replacement) : undefined
  let resourceName = `${label}_${snake(replacement.name)}`
  for (let n = 2; addresses.has(`aws_iam_role_policy.${resourceName}`); n++)
    resourceName = `${label}_${snake(replacement.name)}_${n}`
  add(file.path, added ?? roleResource(file.text, block, label, resourceName, replacement))
  // What depended on a removed attachment depends on the policy that takes its place.
  const dependency = added ? role.location.address : `aws_iam_role_policy.${resourceName}`
  for (const { file: other, blocks } of parsed)
    for (const gone of removedBlocks)
      for (const b of blocks) {
        if (b.node.startIndex === gone.node.startIndex && other === gone.file) continue
        for (const item of dependsOnItems(b, gone.address, `${other.path}: ${blockAddress(b)}`))
          add(other.path, { start: item.startIndex, end: item.endIndex, text: dependency })
      }

  const changed = new Map<string, string>()
  for (const [filePath, fileEdits] of edits) {
    const source = module.find(f => f.path === filePath)
    if (source) changed.set(filePath, spliceAll(source.text, fileEdits))
  }
  const isAdded = (p: IacPolicy): boolean =>
    added
      ? p.location.address === role.location.address && p.name === replacement.name
      : p.location.address === `aws_iam_role_policy.${resourceName}`
  await verify(module, changed, role, replacement, isAdded, read)
  return changed
}

/**
 * A role with `inline_policy` blocks gets another one, so it must be possible to tell statically that the new name is
 * free and that the blocks are all the role's inline policies.
 */
function checkInlineBlocks(role: HclBlock, name: string, where: string): void {
  const blocks = blocksOf(role.body)
  if (blocks.some(b => b.type === 'dynamic' && b.labels[0] === 'inline_policy'))
    throw new Error(
      `${where}: not rewritten: its inline policies are written by a dynamic "inline_policy" block, whose names cannot be read; add the policy to it by hand`
    )
  const inline = blocks.filter(b => b.type === 'inline_policy')
  for (const b of inline) {
    const written = attributesOf(b.body).get('name')
    if (written && literal(written) === undefined)
      throw new Error(
        `${where}: not rewritten: the inline_policy name ${written.text} cannot be read, so the new policy's name may collide with it`
      )
    const existing = written ? literal(written) : undefined
    if (existing?.toLowerCase() === name.toLowerCase())
      throw new Error(`${where}: not rewritten: it already has an inline_policy named ${existing}`)
  }
  if (inline.length > 1 && inline.some(isEmptyBlock))
    throw new Error(
      `${where}: not rewritten: an empty inline_policy block stands beside named ones; remove it, then run again`
    )
}

/** The attributes the role's `lifecycle { ignore_changes = [...] }` names (`all` for all of them). */
function ignoredChanges(role: HclBlock): string[] {
  const lifecycle = blocksOf(role.body).find(b => b.type === 'lifecycle')
  const ignore = attributesOf(lifecycle?.body).get('ignore_changes')
  if (!ignore) return []
  return (tupleItems(ignore) ?? [ignore]).map(i => i.text.replace(/["\s]/g, ''))
}

function isEmptyBlock(b: HclBlock): boolean {
  return attributesOf(b.body).size === 0 && blocksOf(b.body).length === 0
}

/**
 * Another `inline_policy` block after the role's last one, indented like it and set apart as the blocks are. An
 * empty `inline_policy {}` (the role has no inline policies, exclusively) is replaced by the new block.
 */
function addInlineBlock(text: string, inline: readonly HclBlock[], replacement: IacReplacement): Edit {
  const last = inline[inline.length - 1]
  if (!last) throw new Error('internal: no inline_policy block')
  const indent = lineIndent(text, last.node.startIndex)
  const unit = indentUnit(text)
  const body = renderHclObject(replacement.document, indent + unit, unit, { quoted: false, colon: false })
  const lines = [
    'inline_policy {',
    `${indent}${unit}name = ${hclString(replacement.name)}`,
    `${indent}${unit}policy = jsonencode(${body})`,
    `${indent}}`
  ].join('\n')
  const crlf = (t: string): string => (text.includes('\r\n') ? t.replace(/\n/g, '\r\n') : t)
  if (isEmptyBlock(last)) return { start: last.node.startIndex, end: last.node.endIndex, text: crlf(lines) }
  const before = inline[inline.length - 2]
  const gap = before ? text.slice(before.node.endIndex, last.node.startIndex) : '\n\n'
  const blank = /\n[ \t]*\r?\n/.test(gap) ? '\n' : ''
  // A comment after the block's closing brace stays on its line.
  const comment = /^[ \t]*(#|\/\/)[^\r\n]*/.exec(text.slice(last.node.endIndex))?.[0] ?? ''
  const at = last.node.endIndex + comment.length
  return { start: at, end: at, text: crlf(`\n${blank}${indent}${lines}`) }
}

/** An `aws_iam_role_policy` resource right after the role block. */
function roleResource(
  text: string,
  role: HclBlock,
  label: string,
  resourceName: string,
  replacement: IacReplacement
): Edit {
  const unit = indentUnit(text)
  const body = renderHclObject(replacement.document, unit, unit, { quoted: false, colon: false })
  const resource = [
    '',
    '',
    `resource "aws_iam_role_policy" "${resourceName}" {`,
    `${unit}name   = ${hclString(replacement.name)}`,
    `${unit}role   = aws_iam_role.${label}.id`,
    `${unit}policy = jsonencode(${body})`,
    '}'
  ].join('\n')
  const at = role.node.endIndex
  return { start: at, end: at, text: text.includes('\r\n') ? resource.replace(/\n/g, '\r\n') : resource }
}

/** The module read back: the ARN no longer attached to the role, the new policy granting exactly the document. */
async function verify(
  module: readonly IacSourceFile[],
  changed: ReadonlyMap<string, string>,
  role: IacRole,
  replacement: IacReplacement,
  isAdded: (policy: IacPolicy) => boolean,
  read: (files: readonly IacSourceFile[]) => Promise<IacReading>
): Promise<void> {
  const reading = await read(module.map(f => ({ path: f.path, text: changed.get(f.path) ?? f.text })))
  const again = reading.roles.find(r => r.location.address === role.location.address)
  const added = again?.policies.find(isAdded)
  if (
    reading.unreadFiles.length > 0 ||
    !again ||
    again.managedPolicyArns.some(arn => sameManagedArn(arn, replacement.arn)) ||
    !added ||
    JSON.stringify(added.document) !== JSON.stringify(replacement.document)
  )
    throw new Error(
      `${role.location.file}: ${role.location.address}: the detach-and-replace edit does not read back as the proposal; not written`
    )
}

/** Whether a written ARN (literal, or in the provider's partition) is the resolved ARN of the replacement. */
function attachesArn(node: HclNode | undefined, arn: string): boolean {
  const written = writtenPolicyArn(node)
  return written !== undefined && sameManagedArn(written, arn)
}

function literal(node: HclNode | undefined): string | undefined {
  if (!node) return undefined
  const v = hclValue(node)
  return v.type === 'string' && v.expression === undefined ? v.value : undefined
}

/** Whether an attachment's role expression names this role (by reference or literal name). */
function this_role(node: HclNode | undefined, label: string, role: IacRole): boolean {
  if (!node) return false
  const reference = traversal(node)
  if (reference) return new RegExp(`^aws_iam_role\\.${label}\\.(name|id)$`).test(reference)
  return role.name !== undefined && literal(node) === role.name
}

function tupleItems(list: HclNode): HclNode[] | undefined {
  const n = unwrap(list)
  const tuple = n.type === 'collection_value' ? n.namedChild(0) : null
  if (tuple?.type !== 'tuple') return undefined
  return tuple.namedChildren.filter((c): c is HclNode => c?.type === 'expression')
}

function listLength(list: HclNode | undefined): number {
  return list ? (tupleItems(list)?.length ?? 0) : 0
}

/** Every item of the list that matches taken out (one may be listed twice, literally and in the partition). */
function removeFromList(
  text: string,
  list: HclNode,
  match: (node: HclNode) => boolean
): (Edit & { removed: number }) | undefined {
  const items = tupleItems(list) ?? []
  const indices = items.flatMap((item, i) => (match(item) ? [i] : []))
  if (indices.length === 0) return undefined
  const spans = items.map(i => ({ start: i.startIndex, end: i.endIndex }))
  return { ...listItemsRemoval(text, spans, indices), removed: indices.length }
}

/** A whole top-level block, with its line's end and one blank line before it. */
function wholeBlock(text: string, node: HclNode): Edit {
  let start = text.lastIndexOf('\n', node.startIndex - 1) + 1
  const newline = text.indexOf('\n', node.endIndex)
  let end = newline === -1 ? text.length : newline + 1
  if (text.slice(0, start).endsWith('\n\n')) start -= 1
  else if (start === 0 && text[end] === '\n') end += 1
  return { start, end, text: '' }
}

/**
 * The items of a block's `depends_on` that name `address`. Any other reference to it (an output, a `moved` block, an
 * attribute) cannot be carried over to the new policy: the edit is refused rather than left dangling.
 */
function dependsOnItems(block: HclBlock, address: string, where: string): HclNode[] {
  if (!references(block.node, address)) return []
  const children = block.body?.namedChildren ?? []
  const isDependsOn = (c: HclNode | null): boolean =>
    c?.type === 'attribute' && c.namedChild(0)?.text === 'depends_on'
  const dependsOn = children.find(isDependsOn)?.namedChild(1) ?? undefined
  const items = (dependsOn ? tupleItems(dependsOn) : undefined) ?? []
  const named = items.filter(i => traversal(i) === address)
  const elsewhere = children.some(c => c !== null && !isDependsOn(c) && references(c, address))
  if (elsewhere || named.length === 0)
    throw new Error(
      `${where} refers to ${address}, which the detach removes; not rewritten (replace the reference, then run again)`
    )
  return named
}

function blockAddress(b: HclBlock): string {
  return b.type === 'resource' ? b.labels.join('.') : [b.type, ...b.labels].join('.')
}

function snake(name: string): string {
  return name
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/[^A-Za-z0-9_]+/g, '_')
    .toLowerCase()
}
