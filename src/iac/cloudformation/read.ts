/**
 * The IAM roles of CloudFormation templates and the policies they are granted: `AWS::IAM::Role` (`Policies`,
 * `ManagedPolicyArns`, `RoleName`), `AWS::IAM::Policy` and `AWS::IAM::ManagedPolicy` (`Roles`), `AWS::IAM::RolePolicy`
 * (`RoleName`), and SAM functions' `Policies` (reported, never edited). Each template is its own stack: a role of
 * another template is linked only by its literal name.
 */
import { isAlias, isMap, isScalar, isSeq } from 'yaml'
import type { Node, YAMLMap } from 'yaml'
import type { IacLocation, IacPolicy, IacReading, IacRole, IacSourceFile, UnreadBlock } from '../model.js'
import { conservativeDocument } from './conservative.js'
import { evaluate, expressionText, Unresolved } from './intrinsics.js'
import { lineSpan, parseTemplate, property } from './template.js'
import type { Resource, Template } from './template.js'

const SAM_NOT_EDITED = 'AWS::Serverless::Function Policies: SAM function policies are reported, not edited'

/** Where a policy document is in a template: the resource, or a role's `Policies` entry. */
export interface PolicyAddress {
  logicalId: string
  /** Index in the resource's `Policies` list (a role's inline policy, a SAM function's policy). */
  index?: number
}

export function formatAddress(a: PolicyAddress): string {
  return a.index === undefined ? a.logicalId : `${a.logicalId}.Policies[${a.index}]`
}

export function parseAddress(address: string): PolicyAddress {
  const m = /^(.+)\.Policies\[(\d+)\]$/.exec(address)
  return m?.[1] && m[2] ? { logicalId: m[1], index: Number(m[2]) } : { logicalId: address }
}

/** The `PolicyDocument` node of a policy address, or undefined. */
export function policyDocumentNode(template: Template, address: PolicyAddress): Node | undefined {
  const resource = template.resources.find(r => r.logicalId === address.logicalId)
  if (!resource) return undefined
  if (address.index === undefined) return property(resource.properties, 'PolicyDocument')
  const policies = property(resource.properties, 'Policies')
  const entry = isSeq(policies) ? (policies.items[address.index] as Node | undefined) : undefined
  return isMap(entry) ? property(entry, 'PolicyDocument') : undefined
}

/** Reads every role and policy of the templates; a file that cannot be read is a problem, the others still count. */
export function readTemplates(files: readonly IacSourceFile[]): IacReading {
  const roles: IacRole[] = []
  const problems: string[] = []
  const unreadFiles: string[] = []
  const unreadBlocks: UnreadBlock[] = []
  /** Policies attached by a literal role name, linked once every file is read. */
  const byName: { roleName: string; policy: IacPolicy }[] = []
  for (const file of files) {
    let template: Template
    try {
      template = parseTemplate(file.path, file.text)
    } catch (e) {
      problems.push(e instanceof Error ? e.message : String(e))
      unreadFiles.push(file.path)
      continue
    }
    readTemplate(template, roles, byName, { problems, unreadBlocks })
  }
  for (const { roleName, policy } of byName) {
    let role = roles.find(r => r.name === roleName)
    if (!role) {
      // Defined elsewhere (another stack, the console): known here only by name.
      role = {
        location: { ...policy.location },
        name: roleName,
        policies: [],
        managedPolicyArns: [],
        unresolved: []
      }
      roles.push(role)
    }
    role.policies.push(policy)
    role.unresolved.push(...unreadParts(policy))
  }
  return { roles, problems, unreadFiles, ...(unreadBlocks.length > 0 ? { unreadBlocks } : {}) }
}

function location(template: Template, node: Parameters<typeof lineSpan>[1], address: string): IacLocation {
  return { kind: 'cloudformation', file: template.path, ...lineSpan(template, node), address }
}

function readTemplate(
  template: Template,
  roles: IacRole[],
  byName: { roleName: string; policy: IacPolicy }[],
  found: { problems: string[]; unreadBlocks: UnreadBlock[] }
): void {
  const { text } = template
  const { problems } = found
  /** A resource whose grants are not read statically: a pull request that adds or changes it cannot pass. */
  const unread = (r: Resource, why: string) => {
    const from = r.pair.key && isScalar(r.pair.key) ? (r.pair.key.range?.[0] ?? 0) : 0
    const to = (r.pair.value as Node | null)?.range?.[1] ?? from
    found.unreadBlocks.push({ file: template.path, address: r.logicalId, text: text.slice(from, to), why })
  }
  rewrittenParts(template, found.unreadBlocks)
  for (const r of template.resources)
    if (includesTransform(r.pair.value))
      unread(r, 'Fn::Transform: a macro or an included snippet rewrites it')
  const local = new Map<string, IacRole>()
  const managed = new Map<string, IacPolicy>()

  for (const r of template.resources) {
    if (r.type === 'AWS::IAM::Role') local.set(r.logicalId, roleOf(template, r, unread))
    else if (r.type === 'AWS::Serverless::Function' && !property(r.properties, 'Role'))
      local.set(`${r.logicalId}Role`, samRole(template, r, unread))
    else if (r.type === 'AWS::IAM::ManagedPolicy')
      managed.set(r.logicalId, policyOf(template, r, 'managed', 'ManagedPolicyName'))
    else if (r.type === 'AWS::CloudFormation::Stack' || r.type === 'AWS::Serverless::Application')
      unread(r, `${r.type} is not read: any role its template creates is not linked to these files`)
    else if (r.type === 'AWS::Serverless::StateMachine' && !property(r.properties, 'Role'))
      unread(r, `${r.type} Policies are not read: the role SAM creates for it is not linked to these files`)
  }

  /** A role named by `!Ref Logical` or a literal name; anything else cannot be linked. */
  const attach = (r: Resource, node: Node | undefined, policy: IacPolicy, what: string) => {
    if (!node) return
    const value = evaluate(node, text)
    const ref = refTarget(node)
    const role = ref ? local.get(ref) : undefined
    if (role) role.policies.push(policy)
    else if (typeof value === 'string' && !ref) byName.push({ roleName: value, policy })
    else {
      policy.alsoGrantedTo = [...(policy.alsoGrantedTo ?? []), `${what}: ${expressionText(node, text)}`]
      unread(r, `attached to a role named by ${expressionText(node, text)}`)
      problems.push(
        `${template.path}: ${policy.location.address} is attached to a role named by ${expressionText(node, text)} (${what}), which cannot be read statically; name the role literally or with !Ref`
      )
    }
  }

  for (const r of template.resources) {
    if (r.type === 'AWS::IAM::Policy' || r.type === 'AWS::IAM::ManagedPolicy') {
      const policy = managed.get(r.logicalId) ?? policyOf(template, r, 'inline', 'PolicyName')
      const holders = ['Users', 'Groups'].filter(key => property(r.properties, key) !== undefined)
      if (holders.length > 0) policy.alsoGrantedTo = [...(policy.alsoGrantedTo ?? []), ...holders]
      const list = property(r.properties, 'Roles')
      if (isSeq(list)) for (const item of list.items) attach(r, item as Node, policy, 'Roles')
      else if (list) attach(r, list, policy, 'Roles')
    } else if (r.type === 'AWS::IAM::RolePolicy') {
      attach(r, property(r.properties, 'RoleName'), policyOf(template, r, 'inline', 'PolicyName'), 'RoleName')
    }
  }

  for (const r of template.resources) {
    const role = r.type === 'AWS::IAM::Role' ? local.get(r.logicalId) : undefined
    if (!role) continue
    const arns = property(r.properties, 'ManagedPolicyArns')
    const items = isSeq(arns) ? (arns.items as Node[]) : arns ? [arns] : []
    for (const item of items) {
      const ref = refTarget(item)
      const policy = ref ? managed.get(ref) : undefined
      if (policy) {
        if (!role.policies.includes(policy)) role.policies.push(policy)
        continue
      }
      const value = evaluate(item, text)
      // `!Sub arn:${AWS::Partition}:...` reads `arn:*:...`: the role's partition says which policy it is.
      if (typeof value === 'string') role.managedPolicyArns.push(value)
      else {
        role.unresolved.push(expressionText(item, text))
        unread(r, `it attaches ${expressionText(item, text)}, whose document is not known statically`)
      }
    }
  }
  for (const role of local.values()) {
    for (const p of role.policies) role.unresolved.push(...unreadParts(p))
    role.unresolved = [...new Set(role.unresolved)]
    roles.push(role)
  }
}

/** The transforms CloudFormation applies itself, whose resources are read here (SAM) or read as written. */
const KNOWN_TRANSFORM = /^AWS::(Serverless-\d{4}-\d{2}-\d{2}|LanguageExtensions)$/

/**
 * What CloudFormation rewrites before it creates anything: a template-wide macro transform (the whole template is
 * unread), and a `Fn::Transform` or `Fn::ForEach` entry among the resources (that entry is unread).
 */
function rewrittenParts(template: Template, blocks: UnreadBlock[]): void {
  const root = template.document.contents
  if (!isMap(root)) return
  const transform = root.get('Transform', true)
  const names = isSeq(transform) ? transform.items : transform ? [transform] : []
  const macros = names.filter(
    n => !(isScalar(n) && typeof n.value === 'string' && KNOWN_TRANSFORM.test(n.value))
  )
  if (macros.length > 0)
    blocks.push({
      file: template.path,
      address: 'Transform',
      text: template.text,
      why: `Transform ${macros.map(n => expressionText(n as Node, template.text)).join(', ')}: a macro rewrites the whole template before CloudFormation reads it`
    })
  const resources = root.get('Resources', true)
  if (!isMap(resources)) return
  for (const pair of resources.items) {
    const key = isScalar(pair.key) ? pair.key.value : undefined
    if (typeof key !== 'string' || !key.startsWith('Fn::')) continue
    const from = pair.key && isScalar(pair.key) ? (pair.key.range?.[0] ?? 0) : 0
    const to = (pair.value as Node | null)?.range?.[1] ?? from
    blocks.push({
      file: template.path,
      address: key,
      text: template.text.slice(from, to),
      why: `${key.split('::').slice(0, 2).join('::')} writes resources that are not read statically`
    })
  }
}

/** Whether `Fn::Transform` (or `!Transform`) is anywhere under a node. */
function includesTransform(node: unknown): boolean {
  if (isMap(node))
    return (
      node.tag === '!Transform' ||
      node.items.some(p => (isScalar(p.key) && p.key.value === 'Fn::Transform') || includesTransform(p.value))
    )
  if (isSeq(node)) return node.tag === '!Transform' || node.items.some(includesTransform)
  return isScalar(node) && node.tag === '!Transform'
}

/** A node's value with its tags (`!Sub`, `!Ref`), comments and layout left out; an alias is what it names. */
function written(node: unknown, template: Template, depth = 0): unknown {
  if (depth > 64) return { tooDeep: true }
  const inner = (n: unknown) => written(n, template, depth + 1)
  if (isAlias(node)) return inner(node.resolve(template.document))
  if (isMap(node)) return { tag: node.tag, pairs: node.items.map(p => [inner(p.key), inner(p.value)]) }
  if (isSeq(node)) return { tag: node.tag, items: node.items.map(inner) }
  if (isScalar(node)) return { tag: node.tag, value: node.value }
  return null
}

/** `!Ref X` / `{Ref: X}`: the logical id it names. */
function refTarget(node: Node): string | undefined {
  if (node.tag === '!Ref' && isScalar(node) && typeof node.value === 'string') return node.value
  if (isMap(node) && node.items.length === 1) {
    const pair = node.items[0]
    if (pair && isScalar(pair.key) && pair.key.value === 'Ref' && isScalar(pair.value))
      return typeof pair.value.value === 'string' ? pair.value.value : undefined
  }
  return undefined
}

function literalName(template: Template, node: Node | undefined): string | undefined {
  const value = node ? evaluate(node, template.text) : undefined
  return typeof value === 'string' && !value.includes('*') ? value : undefined
}

type Unread = (r: Resource, why: string) => void

function roleOf(template: Template, r: Resource, unread: Unread): IacRole {
  const nameNode = property(r.properties, 'RoleName')
  const name = literalName(template, nameNode)
  const role: IacRole = {
    location: location(template, r.pair, r.logicalId),
    ...(name !== undefined ? { name } : {}),
    logicalId: r.logicalId,
    policies: [],
    managedPolicyArns: [],
    unresolved: nameNode && name === undefined ? [`RoleName: ${expressionText(nameNode, template.text)}`] : []
  }
  const trust = property(r.properties, 'AssumeRolePolicyDocument')
  if (trust) role.trust = JSON.stringify(written(trust, template))
  const policies = property(r.properties, 'Policies')
  if (isSeq(policies))
    policies.items.forEach((entry, index) => {
      if (!isMap(entry)) return
      role.policies.push(inlineEntry(template, { logicalId: r.logicalId, index }, entry))
    })
  else if (policies) {
    role.unresolved.push(`Policies: ${expressionText(policies, template.text)}`)
    unread(r, `Policies: ${expressionText(policies, template.text)} is not a literal list`)
  }
  return role
}

function inlineEntry(template: Template, address: PolicyAddress, entry: YAMLMap): IacPolicy {
  const name = literalName(template, property(entry, 'PolicyName'))
  return withDocument(template, property(entry, 'PolicyDocument'), {
    location: location(template, entry, formatAddress(address)),
    attachment: 'inline',
    ...(name !== undefined ? { name } : {})
  })
}

function policyOf(
  template: Template,
  r: Resource,
  attachment: 'inline' | 'managed',
  nameKey: string
): IacPolicy {
  const name = literalName(template, property(r.properties, nameKey))
  return withDocument(template, property(r.properties, 'PolicyDocument'), {
    location: location(template, r.pair, r.logicalId),
    attachment,
    ...(name !== undefined ? { name } : {})
  })
}

/** The expressions a policy was read conservatively around (a SAM policy is read whole, just not edited). */
function unreadParts(policy: IacPolicy): string[] {
  const blocked =
    policy.notRewritable && policy.notRewritable !== SAM_NOT_EDITED ? [policy.notRewritable] : []
  return [...blocked, ...(policy.keptStatements ?? []).map(k => k.expression)]
}

function withDocument(
  template: Template,
  node: Node | undefined,
  policy: Omit<IacPolicy, 'document'>
): IacPolicy {
  const value = node ? evaluate(node, template.text) : new Unresolved('PolicyDocument missing')
  const read = conservativeDocument(value)
  const blocked = policy.notRewritable ?? read.blocked
  const kept = read.kept.map(k => {
    const index = read.decodedFrom.indexOf(k.statement)
    return { ...k, ...(index >= 0 ? { index } : {}) }
  })
  return {
    ...policy,
    document: read.document,
    ...(blocked !== undefined ? { notRewritable: blocked } : {}),
    ...(blocked === undefined && kept.length > 0 ? { keptStatements: kept } : {})
  }
}

/**
 * The role SAM generates for a function without `Role` (logical id `<Function>Role`): its `Policies` are managed
 * policy names or ARNs, SAM policy templates (read as unresolved), or policy documents.
 */
function samRole(template: Template, r: Resource, unread: Unread): IacRole {
  const logicalId = `${r.logicalId}Role`
  const role: IacRole = {
    location: location(template, r.pair, logicalId),
    logicalId,
    policies: [],
    // SAM writes the policies it adds and names in the stack's partition.
    managedPolicyArns: ['arn:*:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    unresolved: []
  }
  const policies = property(r.properties, 'Policies')
  const items = isSeq(policies) ? (policies.items as Node[]) : policies ? [policies] : []
  items.forEach((item, index) => {
    const value = evaluate(item, template.text)
    if (typeof value === 'string')
      role.managedPolicyArns.push(value.startsWith('arn:') ? value : `arn:*:iam::aws:policy/${value}`)
    else if (isMap(item) && property(item, 'Statement'))
      role.policies.push(
        withDocument(template, item, {
          location: location(template, item, formatAddress({ logicalId: r.logicalId, index })),
          attachment: 'inline',
          notRewritable: SAM_NOT_EDITED
        })
      )
    else {
      role.unresolved.push(`SAM policy ${expressionText(item, template.text)}`)
      unread(r, `SAM policy ${expressionText(item, template.text)} is not read statically`)
    }
  })
  return role
}
