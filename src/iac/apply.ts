/**
 * The proposals of a run applied to the infrastructure code its roles were granted from: each policy narrowed to
 * what its role needs (iac/narrow.ts) and rewritten in place by its language's reader. A policy shared by several
 * roles, one that holds an expression that cannot be read, or one left with nothing is named, never guessed at.
 */
import { posix } from 'node:path'
import { createTwoFilesPatch } from 'diff'
import { errorMessage } from '../error-message.js'
import type { GrantedPolicy, PolicyDocumentJson, ReportV1, RoleResult } from '../model.js'
import type { Catalog } from '../policy/catalog.js'
import { excessActions } from '../policy/excess.js'
import { MAX_POLICY_CHARACTERS, policyCharacters } from '../policy/policy-size.js'
import type { IacEdit, IacPolicy, IacSourceFile } from './model.js'
import { narrowDocument } from './narrow.js'
import type { IacWorkspace } from './workspace.js'

export interface IacChanges {
  edits: IacEdit[]
  /** Policies not rewritten, and why. */
  notes: string[]
}

export async function planIacEdits(
  report: ReportV1,
  iac: IacWorkspace,
  catalog: Catalog
): Promise<IacChanges> {
  const notes: string[] = []
  const texts = new Map<string, string>()
  const key = (file: string, address: string) => `${file}\0${address}`
  const users = new Map<string, number>()
  for (const role of report.roles)
    for (const at of role.grantedFrom ?? [])
      users.set(key(at.file, at.address), (users.get(key(at.file, at.address)) ?? 0) + 1)
  const policies = new Map<string, IacPolicy>()
  // Every role of the code that holds a policy counts, analyzed in this run or not.
  const holders = new Map<string, Set<unknown>>()
  for (const role of iac.reading.roles)
    for (const p of role.policies) {
      const k = key(p.location.file, p.location.address)
      policies.set(k, p)
      holders.set(k, (holders.get(k) ?? new Set()).add(role))
    }

  for (const role of report.roles) {
    if (role.status !== 'analyzed' || role.excess.count === 0 || role.proposalOutcome === 'withheld') continue
    const excess = new Set(excessActions(role.excess).map(e => e.action))
    for (const at of role.grantedFrom ?? []) {
      const where = `${at.file}:${at.startLine} ${at.address}`
      const policy = policies.get(key(at.file, at.address))
      const source = iac.files.find(f => f.file.path === at.file)
      if (!policy || !source) continue
      if (
        (holders.get(key(at.file, at.address))?.size ?? 0) > 1 &&
        (users.get(key(at.file, at.address)) ?? 0) <= 1
      ) {
        notes.push(
          `${where}: also granted to other roles of the code; not rewritten (narrow it for all of them by hand)`
        )
        continue
      }
      if (policy.alsoGrantedTo) {
        notes.push(
          `${where}: also granted to ${policy.alsoGrantedTo.join(', ')}; not rewritten (narrow it for all of them by hand)`
        )
        continue
      }
      if ((users.get(key(at.file, at.address)) ?? 0) > 1) {
        notes.push(
          `${where}: granted to several roles analyzed here; not rewritten (narrow it for all of them by hand)`
        )
        continue
      }
      if (policy.notRewritable) {
        notes.push(`${where}: not rewritten: ${policy.notRewritable}`)
        continue
      }
      const unread = unreadBesides(iac, at.file)
      if (unread) {
        notes.push(`${where}: not rewritten: ${unread}`)
        continue
      }
      for (const k of policy.keptStatements ?? [])
        notes.push(`${where}: statement ${k.statement + 1} kept as written: ${k.expression}`)
      const kept = new Set(
        (policy.keptStatements ?? []).flatMap(k => (k.index === undefined ? [] : [k.index]))
      )
      const narrowed = narrowDocument(policy.document, excess, catalog, kept, role.used)
      if (!narrowed) {
        notes.push(`${where}: every statement is excess for ${role.arn}; remove the policy`)
        continue
      }
      if (JSON.stringify(narrowed) === JSON.stringify(policy.document)) continue
      // A wildcard spelled out action by action can outgrow what IAM accepts: such a rewrite would not apply.
      const limit = policy.attachment === 'managed' ? MAX_POLICY_CHARACTERS : INLINE_ROLE_POLICY_CHARACTERS
      const characters = policyCharacters(narrowed)
      if (characters > limit) {
        notes.push(
          `${where}: not rewritten: narrowed, it is ${characters} characters, more than IAM accepts (${limit}); narrow its wildcards by hand`
        )
        continue
      }
      const before = texts.get(at.file) ?? source.file.text
      try {
        texts.set(at.file, await source.reader.rewrite({ path: at.file, text: before }, policy, narrowed))
      } catch (e) {
        notes.push(`${where}: not rewritten: ${e instanceof Error ? e.message : String(e)}`)
      }
    }
    await replaceAwsManaged(role, excess, iac, texts, notes, catalog)
  }
  const edits: IacEdit[] = []
  for (const [file, after] of texts) {
    const before = iac.files.find(f => f.file.path === file)?.file.text ?? ''
    if (after !== before) edits.push({ file, before, after })
  }
  return { edits: edits.sort((a, b) => (a.file < b.file ? -1 : 1)), notes }
}

/** IAM's limit on the inline policies of one role together, in characters excluding white space. */
const INLINE_ROLE_POLICY_CHARACTERS = 10_240

/**
 * Each AWS-managed policy the role's code attaches that grants excess: detached, and the part of it the role needs
 * (its actions that are not excess) added as an inline policy next to the role, in the code's language.
 */
async function replaceAwsManaged(
  role: RoleResult,
  excess: ReadonlySet<string>,
  iac: IacWorkspace,
  texts: Map<string, string>,
  notes: string[],
  catalog: Catalog
): Promise<void> {
  const attached = role.iacAwsManaged
  if (!attached) return
  const iacRole = iac.reading.roles.find(
    r => r.location.file === attached.role.file && r.location.address === attached.role.address
  )
  const reader = iac.files.find(f => f.file.path === attached.role.file)?.reader
  if (!iacRole || !reader) return
  const unread = unreadBesides(iac, attached.role.file)
  if (unread) {
    for (const policy of attached.policies)
      if (policy.arn)
        notes.push(
          `${attached.role.file}:${attached.role.startLine} ${attached.role.address}: ${policy.arn}: not detached: ${unread}`
        )
    return
  }
  // IAM's limit is on all the inline policies of the role together (those written now are an upper bound).
  let inlineCharacters = iacRole.policies
    .filter(p => p.attachment === 'inline')
    .reduce((sum, p) => sum + policyCharacters(p.document), 0)
  for (const policy of attached.policies) {
    if (!policy.arn) continue
    const where = `${attached.role.file}:${attached.role.startLine} ${attached.role.address}: ${policy.arn}`
    const document = documentOf(policy)
    const narrowed = document ? narrowDocument(document, excess, catalog, new Set(), role.used) : undefined
    if (!document || JSON.stringify(narrowed) === JSON.stringify(document)) continue
    if (!narrowed) {
      notes.push(`${where}: every statement is excess for ${role.arn}; detach it`)
      continue
    }
    const characters = policyCharacters(narrowed)
    if (characters > INLINE_ROLE_POLICY_CHARACTERS) {
      notes.push(
        `${where}: the part the role needs is ${characters} characters, more than an inline policy holds (${INLINE_ROLE_POLICY_CHARACTERS}); not replaced`
      )
      continue
    }
    if (inlineCharacters + characters > INLINE_ROLE_POLICY_CHARACTERS) {
      notes.push(
        `${where}: the part the role needs is ${characters} characters, and with it the role's inline policies would be ${inlineCharacters + characters}, more than IAM accepts (${INLINE_ROLE_POLICY_CHARACTERS}); not replaced`
      )
      continue
    }
    // IAM does not tell policy names apart by case.
    const taken = new Set(iacRole.policies.map(p => p.name?.toLowerCase()))
    let name = `${policy.name}-used`
    for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${policy.name}-used-${n}`
    const files: IacSourceFile[] = iac.files.map(f => ({
      path: f.file.path,
      text: texts.get(f.file.path) ?? f.file.text
    }))
    try {
      const changed = await reader.detach(files, iacRole, {
        arn: policy.arn,
        name,
        document: narrowed
      })
      for (const [file, text] of changed) texts.set(file, text)
      inlineCharacters += characters
      notes.push(
        `${where}: detached, and the ${narrowed.Statement.length} statement(s) of it the role needs added as the inline policy ${name}`
      )
    } catch (e) {
      notes.push(`${where}: not detached: ${errorMessage(e)}`)
    }
  }
}

/**
 * Why a Terraform file's module (its folder) cannot be edited: it holds a file no reader here reads (an override file,
 * `.tf.json`, one too large), which Terraform merges with the others and which may set what the edit changes.
 */
function unreadBesides(iac: IacWorkspace, file: string): string | undefined {
  if (!file.endsWith('.tf')) return undefined
  const dir = posix.dirname(file)
  const unread = [...(iac.reading.unreadBlocks ?? []).map(b => b.file), ...iac.reading.unreadFiles].find(
    f => /\.tf(\.json)?$/.test(f) && posix.dirname(f) === dir && !iac.files.some(r => r.file.path === f)
  )
  return unread === undefined
    ? undefined
    : `${unread} in the same module is not read, and Terraform merges it with this file; edit by hand`
}

/** A policy document as IAM and the data package give it (a single Statement object is a list of one). */
function documentOf(policy: GrantedPolicy): PolicyDocumentJson | undefined {
  const d = policy.document
  if (typeof d !== 'object' || d === null || !('Statement' in d)) return undefined
  const statement = d.Statement
  const statements = Array.isArray(statement) ? statement : [statement]
  if (!statements.every(s => typeof s === 'object' && s !== null)) return undefined
  return {
    ...(d as Record<string, unknown>),
    Statement: statements as Record<string, unknown>[]
  } as PolicyDocumentJson
}

/** The edits as one unified diff, with repository paths. */
export function iacDiff(edits: readonly IacEdit[]): string {
  return edits.map(e => createTwoFilesPatch(`a/${e.file}`, `b/${e.file}`, e.before, e.after, '', '')).join('')
}
