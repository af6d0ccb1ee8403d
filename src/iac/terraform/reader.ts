/**
 * Reads the IAM roles of a set of Terraform files: each directory is one module, read as a whole (a role, its
 * policies and their attachments may be in different files). References are followed by address within the module;
 * nothing is evaluated beyond literals (see IacPolicy.document for what an unknown part grants).
 */
import path from 'node:path'
import type { IacLocation, IacPolicy, IacReader, IacReading, IacRole, IacSourceFile } from '../model.js'
import { parseHcl, type HclNode } from './grammar.js'
import { attributesOf, blocksOf, fileBody, type HclBlock } from './hcl-blocks.js'
import { documentPolicy, jsonFilePolicy, policyBody } from './policy-body.js'
import { keptStatements, unknownBody, type PolicySource } from './policy-source.js'
import { writtenPolicyArn } from './policy-arn.js'
import { detachTerraform } from './detach.js'
import { rewriteTerraform } from './rewrite.js'
import { hclValue, references, traversal, unwrap } from './source-value.js'

interface Resource {
  file: string
  block: HclBlock
  address: string
}

export const terraformReader: IacReader = {
  kind: 'terraform',
  accepts: (filePath: string) => filePath.endsWith('.tf'),
  read: readTerraform,
  rewrite: rewriteTerraform,
  detach: (files, role, replacement) => detachTerraform(files, role, replacement, readTerraform)
}

async function readTerraform(files: readonly IacSourceFile[]): Promise<IacReading> {
  const reading: IacReading = { roles: [], problems: [], unreadFiles: [] }
  const byDirectory = new Map<string, IacSourceFile[]>()
  for (const f of files) {
    if (!f.path.endsWith('.tf')) continue
    const dir = path.posix.dirname(f.path)
    byDirectory.set(dir, [...(byDirectory.get(dir) ?? []), f])
  }
  for (const [dir, moduleFiles] of byDirectory) {
    const resources: Resource[] = []
    /** Every top-level block (outputs, modules, locals too): what may hand a policy on. */
    const blocks: Resource[] = []
    for (const f of [...moduleFiles].sort((a, b) => a.path.localeCompare(b.path))) {
      const tree = await parseHcl(f.text)
      const error = firstError(tree.rootNode)
      if (error) {
        reading.problems.push(
          `${f.path}: not valid HCL at line ${error.startPosition.row + 1}: fix the syntax (terraform validate); the file was not read`
        )
        reading.unreadFiles.push(f.path)
        continue
      }
      for (const block of blocksOf(fileBody(tree.rootNode))) {
        const [kind, name] = block.labels
        const named = block.type === 'resource' ? block.labels : [block.type, ...block.labels]
        blocks.push({ file: f.path, block, address: named.join('.') })
        if (block.type === 'resource' && kind && name)
          resources.push({ file: f.path, block, address: `${kind}.${name}` })
        if (block.type === 'data' && kind && name)
          resources.push({ file: f.path, block, address: `data.${kind}.${name}` })
        if (block.type === 'module' && block.labels[0]) {
          const why = unreadModule(f.path, block, files)
          if (why) {
            reading.problems.push(`${f.path}: ${why}`)
            unreadBlock(reading, f.path, `module.${block.labels[0]}`, block.node.text, why)
          }
        }
      }
    }
    new ModuleReader(dir, resources, blocks, files, reading).read()
  }
  return reading
}

/**
 * Why the roles a module block creates are not read: a source that is not a folder of the given files (a registry
 * or Git module, a folder outside iac-path, an expression). Undefined when its folder is read with the rest.
 */
function unreadModule(file: string, block: HclBlock, files: readonly IacSourceFile[]): string | undefined {
  const name = `module.${block.labels[0] ?? ''}`
  const source = attributesOf(block.body).get('source')
  const value = source ? hclValue(source) : undefined
  if (value?.type !== 'string' || value.expression !== undefined)
    return `${name} has no literal source: any role it creates is not read`
  if (!/^\.\.?\//.test(value.value))
    return `${name} (source "${value.value}") is not read: any role it creates is not linked to these files`
  const folder = path.posix.normalize(path.posix.join(path.posix.dirname(file), value.value))
  return files.some(f => path.posix.dirname(f.path) === folder)
    ? undefined
    : `${name} (source "${value.value}") is not read (no Terraform of it under iac-path): any role it creates is not linked to these files`
}

function unreadBlock(reading: IacReading, file: string, address: string, text: string, why: string): void {
  const blocks = (reading.unreadBlocks ??= [])
  if (!blocks.some(b => b.file === file && b.address === address && b.why === why && b.text === text))
    blocks.push({ file, address, text, why })
}

function firstError(node: HclNode): HclNode | undefined {
  if (!node.hasError) return undefined
  if (node.isError || node.isMissing) return node
  for (const child of node.children) {
    const found = child ? firstError(child) : undefined
    if (found) return found
  }
  return node
}

class ModuleReader {
  private readonly byAddress: Map<string, Resource>
  private readonly roles = new Map<string, IacRole>()
  private readonly managed = new Map<string, IacPolicy>()
  /** Expressions each policy's document was read around (reported on every role it is attached to). */
  private readonly unresolvedOf = new WeakMap<IacPolicy, string[]>()
  /** Blocks that attach a customer-managed policy to roles read here, and only to them. */
  private readonly toRolesOnly = new Set<HclNode>()
  private readonly toOthers = new Set<HclNode>()
  /** Each policy read from a `data "aws_iam_policy_document"`, with the block whose policy it is. */
  private readonly fromDocuments: { document: string; owner: Resource; policy: IacPolicy }[] = []

  constructor(
    private readonly dir: string,
    private readonly resources: Resource[],
    private readonly blocks: Resource[],
    private readonly files: readonly IacSourceFile[],
    private readonly reading: IacReading
  ) {
    this.byAddress = new Map(resources.map(r => [r.address, r]))
  }

  read(): void {
    for (const r of this.resources) if (r.address.startsWith('aws_iam_role.')) this.readRole(r)
    for (const r of this.resources) {
      const a = attributesOf(r.block.body)
      const type = r.address.split('.')[0]
      if (type === 'aws_iam_role_policy') {
        const policy = a.get('policy')
        if (!policy) continue
        const name = literalString(a.get('name'))
        this.attach(r, a.get('role'), this.policyOf(r, r.block, policy, 'inline', name))
      } else if (type === 'aws_iam_role_policy_attachment') {
        this.attachArn(r, a.get('role'), a.get('policy_arn'))
      } else if (type === 'aws_iam_policy_attachment') {
        if (a.has('users') || a.has('groups')) this.toOthers.add(r.block.node)
        this.attachToEach(r, a.get('roles'), role => this.attachArn(r, role, a.get('policy_arn')))
      } else if (type === 'aws_iam_role_policy_attachments_exclusive') {
        this.attachToEach(r, a.get('policy_arns'), arn => this.attachArn(r, a.get('role_name'), arn))
      }
    }
    this.noteOtherHolders()
    this.reading.roles.push(...this.roles.values())
  }

  /** Each customer-managed policy that a block other than an attachment to roles read here refers to. */
  private noteOtherHolders(): void {
    for (const [address, policy] of this.managed) {
      const others = this.blocks
        .filter(b => b.address !== address && references(b.block.node, address))
        .filter(b => !this.toRolesOnly.has(b.block.node) || this.toOthers.has(b.block.node))
        .map(b => b.address)
      if (others.length > 0) policy.alsoGrantedTo = others
    }
    // A policy document data source is the policy of every block that uses it: all of them must be read here.
    for (const document of new Set(this.fromDocuments.map(d => d.document))) {
      const uses = this.fromDocuments.filter(d => d.document === document)
      const owners = new Set(
        uses
          .filter(u => !this.toOthers.has(u.owner.block.node) && u.policy.alsoGrantedTo === undefined)
          .map(u => u.owner.block.node)
      )
      const others = this.blocks
        .filter(b => b.address !== document && references(b.block.node, document))
        .filter(b => !owners.has(b.block.node))
        .map(b => b.address)
      if (others.length > 0)
        for (const u of uses)
          u.policy.alsoGrantedTo = [...new Set([...(u.policy.alsoGrantedTo ?? []), ...others])]
    }
  }

  private readRole(r: Resource): void {
    const a = attributesOf(r.block.body)
    const role: IacRole = {
      location: this.location(r.file, r.block, r.address),
      policies: [],
      managedPolicyArns: [],
      unresolved: []
    }
    for (const [attribute, field] of [
      ['name', 'name'],
      ['name_prefix', 'namePrefix']
    ] as const) {
      const node = a.get(attribute)
      if (!node) continue
      const value = literalString(node)
      if (value === undefined) role.unresolved.push(`${attribute} = ${node.text}`)
      else role[field] = value
    }
    for (const meta of ['count', 'for_each']) {
      const node = a.get(meta)
      if (node) role.unresolved.push(`${meta} = ${node.text}`)
    }
    const trust = a.get('assume_role_policy')
    if (trust) role.trust = this.trustOf(trust)
    this.roles.set(r.address, role)
    for (const block of blocksOf(r.block.body)) {
      if (block.type === 'dynamic' && block.labels[0] === 'inline_policy') {
        role.unresolved.push(`dynamic "inline_policy"`)
        this.unread(r, `dynamic "inline_policy" is not read statically`)
      }
      if (block.type !== 'inline_policy') continue
      const b = attributesOf(block.body)
      const policy = b.get('policy')
      if (policy) this.add(role, this.policyOf(r, block, policy, 'inline', literalString(b.get('name'))))
    }
    const arns = a.get('managed_policy_arns')
    if (arns) this.attachToEach(r, arns, arn => this.attachArn(r, undefined, arn, role))
  }

  /** A trust policy's tokens, with those of the policy document data source or JSON file it names. */
  private trustOf(expression: HclNode): string {
    const body = policyBody(expression)
    const named =
      body.kind === 'document'
        ? tokens(this.byAddress.get(body.address)?.block.node)
        : body.kind === 'file'
          ? [this.jsonFile(body.path)?.text ?? '']
          : []
    return JSON.stringify([...tokens(expression), ...named])
  }

  /** A policy's document: in place, in a policy document data source, or in a JSON file. */
  private policyOf(
    owner: Resource,
    block: HclBlock,
    expression: HclNode,
    attachment: 'inline' | 'managed',
    name: string | undefined
  ): IacPolicy {
    const body = policyBody(expression)
    let location = this.location(owner.file, block, owner.address)
    let source: PolicySource
    if (body.kind === 'inline') source = body.source
    else if (body.kind === 'document') {
      const document = this.byAddress.get(body.address)
      if (document) {
        location = this.location(document.file, document.block, document.address)
        source = documentPolicy(document.block)
      } else source = unknown(`${body.address} (not defined in ${this.dir})`)
    } else {
      const file = this.jsonFile(body.path)
      if (file) {
        const lines = file.text.split('\n').length
        location = {
          kind: 'terraform',
          file: file.path,
          startLine: 1,
          endLine: lines - (file.text.endsWith('\n') ? 1 : 0),
          address: owner.address
        }
        source = jsonFilePolicy(file.text)
      } else source = unknown(body.expression)
    }
    const policy: IacPolicy = {
      location,
      attachment,
      ...(name === undefined ? {} : { name }),
      document: source.document,
      ...(source.blockedBy === undefined ? {} : { notRewritable: source.blockedBy }),
      ...(source.blockedBy === undefined && source.kept.length > 0
        ? { keptStatements: keptStatements(source) }
        : {})
    }
    this.unresolvedOf.set(policy, source.unresolved)
    if (body.kind === 'document') this.fromDocuments.push({ document: body.address, owner, policy })
    return policy
  }

  /** `file("${path.module}/policy.json")`: the file from the given set, when the path is static. */
  private jsonFile(written: string): IacSourceFile | undefined {
    let p = written.startsWith('"') ? (JSON.parse(written) as string) : written
    if (p.startsWith('"') && p.endsWith('"')) p = p.slice(1, -1)
    p = p.replace(/^\$\{path\.(module|root)\}\/?/, '')
    if (p.includes('${')) return undefined
    const wanted = path.posix.normalize(path.posix.join(this.dir, p))
    return this.files.find(f => path.posix.normalize(f.path) === wanted)
  }

  private managedPolicy(address: string): IacPolicy | undefined {
    const cached = this.managed.get(address)
    if (cached) return cached
    const r = this.byAddress.get(address)
    const policy = r ? attributesOf(r.block.body).get('policy') : undefined
    if (!r || !policy) return undefined
    const a = attributesOf(r.block.body)
    const created = this.policyOf(
      r,
      r.block,
      policy,
      'managed',
      literalString(a.get('name')) ?? literalString(a.get('name_prefix'))
    )
    this.managed.set(address, created)
    return created
  }

  private attach(owner: Resource, roleNode: HclNode | undefined, policy: IacPolicy): void {
    const role = this.roleOf(owner, roleNode, policy)
    if (role) this.add(role, policy)
  }

  /** An attachment made only under `count`/`for_each` is read as made (it grants at most that). */
  private noteConditional(owner: Resource, role: IacRole): void {
    const a = attributesOf(owner.block.body)
    for (const meta of ['count', 'for_each']) {
      const node = a.get(meta)
      const note = node ? `${owner.address}: ${meta} = ${node.text}` : undefined
      if (note && !role.unresolved.includes(note)) role.unresolved.push(note)
    }
  }

  private attachToEach(owner: Resource, list: HclNode | undefined, each: (item: HclNode) => void): void {
    if (!list) return
    const n = unwrap(list)
    const tuple = n.type === 'collection_value' ? n.namedChild(0) : null
    if (tuple?.type !== 'tuple') {
      const role = this.roles.get(owner.address)
      this.unread(owner, `${list.text} is not a literal list`)
      if (role) role.unresolved.push(list.text)
      else
        this.reading.problems.push(
          `${owner.file}: ${owner.address}: ${list.text} is not a literal list: its roles or policies are not read`
        )
      return
    }
    for (const item of tuple.namedChildren) if (item?.type === 'expression') each(item)
  }

  /** Attaches a managed policy given by ARN expression: one defined here, or a literal ARN. */
  private attachArn(
    owner: Resource,
    roleNode: HclNode | undefined,
    arnNode: HclNode | undefined,
    known?: IacRole
  ): void {
    const reference = arnNode ? traversal(arnNode) : undefined
    const policyAddress = reference
      ? /^(aws_iam_policy\.[\w-]+)(?:\[[^\]]*\])?\.(?:arn|id)$/.exec(reference)?.[1]
      : undefined
    const policy = policyAddress ? this.managedPolicy(policyAddress) : undefined
    const role = known ?? this.roleOf(owner, roleNode, policy)
    if (!role || !arnNode) return
    if (policy) {
      this.toRolesOnly.add(owner.block.node)
      return this.add(role, policy)
    }
    const lookup = reference
      ? /^(data\.aws_iam_policy\.[\w-]+)(?:\[[^\]]*\])?\.arn$/.exec(reference)?.[1]
      : undefined
    const data = lookup ? this.byAddress.get(lookup) : undefined
    const arn = writtenPolicyArn(data ? attributesOf(data.block.body).get('arn') : arnNode)
    if (arn !== undefined) {
      if (!role.managedPolicyArns.includes(arn)) role.managedPolicyArns.push(arn)
      return
    }
    const byName = data ? literalString(attributesOf(data.block.body).get('name')) : undefined
    const what = byName ? `${arnNode.text} (the policy named "${byName}")` : arnNode.text
    role.unresolved.push(what)
    this.unread(owner, `it attaches ${what}, whose document is not known statically`)
  }

  /** The role an attachment names; one not read here makes the attachment (with what it attaches) unread. */
  private roleOf(owner: Resource, roleNode: HclNode | undefined, policy?: IacPolicy): IacRole | undefined {
    if (!roleNode) return undefined
    const reference = traversal(roleNode)
    const address = reference
      ? /^(aws_iam_role\.[\w-]+)(?:\[[^\]]*\])?\.(?:name|id|arn|unique_id)$/.exec(reference)?.[1]
      : undefined
    const name = literalString(roleNode)
    const found =
      (address ? this.roles.get(address) : undefined) ??
      (name === undefined ? undefined : [...this.roles.values()].find(r => r.name === name))
    if (found) {
      this.noteConditional(owner, found)
      return found
    }
    this.toOthers.add(owner.block.node)
    // The policy's document is part of what is compared with the base: widening it widens that role too.
    this.unread(owner, `role ${roleNode.text} is not a role defined in ${this.dir}`, policy?.document)
    this.reading.problems.push(
      `${owner.file}: ${owner.address}: role ${roleNode.text} is not a role defined in ${this.dir}: its policy is not linked`
    )
    return undefined
  }

  private add(role: IacRole, policy: IacPolicy): void {
    if (role.policies.includes(policy)) return
    role.policies.push(policy)
    for (const u of this.unresolvedOf.get(policy) ?? [])
      if (!role.unresolved.includes(u)) role.unresolved.push(u)
  }

  private unread(owner: Resource, why: string, document?: unknown): void {
    const text = owner.block.node.text + (document === undefined ? '' : `\n${JSON.stringify(document)}`)
    unreadBlock(this.reading, owner.file, owner.address, text, why)
  }

  private location(file: string, block: HclBlock, address: string): IacLocation {
    return { kind: 'terraform', file, startLine: block.startLine, endLine: block.endLine, address }
  }
}

function unknown(expression: string): PolicySource {
  return unknownBody('hcl-object', 0, 0, expression)
}

/** The source text of a node's tokens, comments left out. */
function tokens(node: HclNode | null | undefined): string[] {
  if (!node || node.type === 'comment') return []
  if (node.childCount === 0) return [node.text]
  return node.children.flatMap(tokens)
}

function literalString(node: HclNode | undefined): string | undefined {
  if (!node) return undefined
  const v = hclValue(node)
  return v.type === 'string' && v.expression === undefined ? v.value : undefined
}
