/**
 * Detach-and-replace in CloudFormation: the AWS-managed ARN comes out of the role's `ManagedPolicyArns`, and an
 * `AWS::IAM::RolePolicy` holding the part of the policy the role needs is added right after the role, in the
 * template's language (YAML block style, or JSON with the file's indentation). Every other byte is unchanged; the
 * template read back must attach the ARN no more and grant the new document. An ARN written with an intrinsic other
 * than a `!Sub` of pseudo parameters is never edited.
 */
import { Document, isMap, isScalar, isSeq } from 'yaml'
import type { Node } from 'yaml'
import { listItemsRemoval, spliceAll, type Span } from '../list-item.js'
import { POLICY_NAME, type IacReplacement, type IacRole, type IacSourceFile } from '../model.js'
import { evaluate } from './intrinsics.js'
import { sameManagedArn } from '../managed-arn.js'
import { readTemplates } from './read.js'
import { parseTemplate, property } from './template.js'

type Edit = Span & { text: string }

export function detachCloudFormation(
  file: IacSourceFile,
  role: IacRole,
  replacement: IacReplacement
): string {
  const logicalId = role.logicalId ?? role.location.address
  const where = `${file.path}: ${logicalId}`
  if (!/^[A-Za-z0-9]+$/.test(logicalId) || !POLICY_NAME.test(replacement.name))
    throw new Error(`${where}: not rewritten: the logical id or the policy name is not plain alphanumeric`)
  const template = parseTemplate(file.path, file.text)
  const { text } = template
  const json = /^\s*\{/.test(text)
  const resource = template.resources.find(r => r.logicalId === logicalId && r.type === 'AWS::IAM::Role')
  const value = resource?.pair.value as Node | null | undefined
  if (!resource || !value?.range) throw new Error(`${where}: the role is no longer in the template`)
  if (isMap(value) && value.has('Condition'))
    throw new Error(`${where}: not rewritten: the role has a Condition`)
  const arns = property(resource.properties, 'ManagedPolicyArns')
  const items = isSeq(arns) ? (arns.items as Node[]) : []
  // Every item naming it (one may be listed twice, literally and in the partition).
  const indices = items.flatMap((item, i) => {
    const v = evaluate(item, text)
    return typeof v === 'string' && sameManagedArn(v, replacement.arn) ? [i] : []
  })
  if (!isSeq(arns) || indices.length === 0)
    throw new Error(
      `${where}: not rewritten: ${replacement.arn} is not a literal item of its ManagedPolicyArns`
    )
  const spans = items.map(i => ({ start: i.range?.[0] ?? 0, end: i.range?.[1] ?? 0 }))
  const edits: Edit[] = [listItemsRemoval(text, spans, indices, !json)]
  // A block sequence left empty would read as null: the whole property goes.
  const pair = resource.properties?.items.find(p => isScalar(p.key) && p.key.value === 'ManagedPolicyArns')
  const keyAt = (pair?.key as Node | null | undefined)?.range?.[0]
  if (indices.length === items.length && !arns.flow && !json && keyAt !== undefined)
    edits[0] = {
      start: text.lastIndexOf('\n', keyAt - 1) + 1,
      end: lineEnd(text, spans[spans.length - 1]?.end ?? keyAt),
      text: ''
    }

  const taken = new Set(template.resources.map(r => r.logicalId))
  const base = `${logicalId}${replacement.name
    .split(/[^A-Za-z0-9]+/)
    .map(w => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}`
  let newId = base
  for (let n = 2; taken.has(newId); n++) newId = `${base}${n}`
  const keyStart = (resource.pair.key as Node | null)?.range?.[0] ?? value.range[0]
  const indent = lineIndent(text, keyStart)
  let end = json ? value.range[1] : contentEnd(text, value.range[1])
  if (json) end = text.lastIndexOf('}', end - 1) + 1
  const resourceText = json
    ? jsonResource(text, indent, newId, logicalId, replacement)
    : yamlResource(text, indent, newId, logicalId, replacement)
  const crlf = text.includes('\r\n')
  edits.push({ start: end, end, text: crlf ? resourceText.replace(/\n/g, '\r\n') : resourceText })
  const after = spliceAll(text, edits)

  const reading = readTemplates([{ path: file.path, text: after }])
  const again = reading.roles.find(r => r.logicalId === logicalId)
  const added = again?.policies.find(p => p.location.address === newId)
  if (
    reading.unreadFiles.length > 0 ||
    !again ||
    again.managedPolicyArns.some(arn => sameManagedArn(arn, replacement.arn)) ||
    !added ||
    added.notRewritable !== undefined ||
    JSON.stringify(added.document) !== JSON.stringify(replacement.document)
  )
    throw new Error(`${where}: the detach-and-replace edit does not read back as the proposal; not written`)
  return after
}

function yamlResource(text: string, indent: string, id: string, roleId: string, r: IacReplacement): string {
  const unit = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  '
  const doc = new Document(r.document)
  const version = doc.get('Version', true)
  if (isScalar(version)) version.type = 'QUOTE_SINGLE'
  const inner = indent + unit.repeat(3)
  const body = doc
    .toString({ indent: unit.length, lineWidth: 0 })
    .trimEnd()
    .split('\n')
    .map(l => inner + l)
    .join('\n')
  return [
    '',
    '',
    `${indent}${id}:`,
    `${indent}${unit}Type: AWS::IAM::RolePolicy`,
    `${indent}${unit}Properties:`,
    `${indent}${unit}${unit}PolicyName: ${r.name}`,
    `${indent}${unit}${unit}RoleName: !Ref ${roleId}`,
    `${indent}${unit}${unit}PolicyDocument:`,
    body
  ].join('\n')
}

function jsonResource(text: string, indent: string, id: string, roleId: string, r: IacReplacement): string {
  const unit = /\n([ \t]+)\S/.exec(text)?.[1] ?? '  '
  const resource = {
    Type: 'AWS::IAM::RolePolicy',
    Properties: { PolicyName: r.name, RoleName: { Ref: roleId }, PolicyDocument: r.document }
  }
  const body = JSON.stringify(resource, null, unit).split('\n').join(`\n${indent}`)
  return `,\n${indent}${JSON.stringify(id)}: ${body}`
}

/** The end of a block node's last content (before trailing blank lines and comments of what follows). */
function contentEnd(text: string, end: number): number {
  let at = end
  while (at > 0 && /\s/.test(text[at - 1] ?? '')) at--
  return at
}

function lineEnd(text: string, offset: number): number {
  if (offset > 0 && text[offset - 1] === '\n') return offset
  const newline = text.indexOf('\n', offset)
  return newline === -1 ? text.length : newline + 1
}

function lineIndent(text: string, offset: number): string {
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1
  return /^[ \t]*/.exec(text.slice(lineStart))?.[0] ?? ''
}
