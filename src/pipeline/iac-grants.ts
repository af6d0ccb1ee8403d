/**
 * granted-source iac (and auto when the code defines the role): each role is granted what its infrastructure code
 * says, not what IAM or an export says. AWS-managed policies the code attaches by ARN take their documents from the
 * role's IAM or export reading (the same ARN), else from IAM by ARN when the run has credentials, else from the
 * bundled data package (the aws partition's only: an ARN written in the deployed partition is resolved in the role's);
 * one that none of them holds fails the role with a reason (never guessed).
 */
import type { AwsSession } from '../aws/session.js'
import { GrantedPolicyReader } from '../aws/iam.js'
import type { Config } from '../config.js'
import { BUNDLED_POLICIES_SOURCE, bundledAwsManagedPolicy } from '../granted/aws-managed-policies.js'
import { isAwsManagedPolicyArn } from '../granted/editability.js'
import { errorMessage } from '../error-message.js'
import type { Logger } from '../logger.js'
import { linkRole } from '../iac/link.js'
import type { LinkHints } from '../iac/link.js'
import type { IacMapping } from '../iac/mapping.js'
import type { TerraformStateRole } from '../iac/terraform/state.js'
import type { IacLocation, IacReading, IacRole, UnreadBlock } from '../iac/model.js'
import type { IacWorkspace } from '../iac/workspace.js'
import { inPartition, partitionOf } from '../iac/managed-arn.js'
import type { GrantedPolicy } from '../model.js'
import type { IacBase, RoleCase } from './role-case.js'
import { trustChange, unlinkedCodeRoles } from './iac-code-roles.js'

/** How each role was linked to the code, or why not; and where its granted policies are written. */
export interface IacCaseFacts {
  link: string
  grantedFrom: IacLocation[]
  /** The role's block and the AWS-managed policies it attaches, with the documents the role is judged on. */
  awsManaged?: { role: IacLocation; policies: GrantedPolicy[] }
}

/**
 * `context.base`: on a pull request, the same files as its base commit has them; each role's base grants are kept for the
 * gate (what the pull request adds). A head file that cannot be read fails every role: what it grants is unknown,
 * and a pull request is never passed on code that was not read.
 *
 * On a pull request, every role of the code that no case is linked to becomes a case of its own, added to `cases`
 * (pipeline/iac-code-roles.ts): a role the pull request adds in code is judged, never passed unseen.
 */
export function applyIacGrants(
  config: Config,
  iac: IacWorkspace,
  cases: RoleCase[],
  context: {
    authored: boolean
    base?: IacReading
    /** Why the files the pull request deletes or renames could not be listed: the gate cannot pass. */
    baseUnknown?: string
    state?: readonly TerraformStateRole[]
    mapping?: IacMapping
    /** AWS-managed policies read from IAM by ARN (the run has credentials). */
    live?: ReadonlyMap<string, GrantedPolicy>
  }
): Map<RoleCase, IacCaseFacts> {
  const live = context.live ?? new Map<string, GrantedPolicy>()
  const facts = new Map<RoleCase, IacCaseFacts>()
  const unread = iac.reading.unreadFiles
  const base = context.base
  const pullRequest = context.authored || base !== undefined
  const unjudged =
    context.baseUnknown !== undefined
      ? `what the pull request removes from the infrastructure code is not known: ${context.baseUnknown}`
      : pullRequest && unread.length > 0
        ? `the pull request's infrastructure code cannot be read (${unread.join(', ')}): ${iac.reading.problems.join('; ')}`
        : undefined
  if (unjudged !== undefined) {
    for (const c of cases) if (!c.outcome) c.outcome = { status: 'failed', reason: unjudged }
    // The roles of the code fail with them, even when no selected role is left to carry the failure.
    if (!cases.some(c => c.outcome?.reason === unjudged))
      cases.push({
        arn: config.iacPath ?? 'iac-path',
        name: config.iacPath ?? 'iac-path',
        accountId: '',
        outcome: { status: 'failed', reason: unjudged }
      })
    return facts
  }
  const linked = new Set<IacRole>()
  for (const c of cases) {
    if (c.unverifiedReason || c.outcome || !c.name) continue
    const hints: LinkHints = {
      arn: c.arn,
      ...(context.state ? { state: context.state } : {}),
      ...(context.mapping ? { mapping: context.mapping } : {}),
      ...(c.grants?.tags ? { tags: c.grants.tags } : {})
    }
    const link = linkRole(c.name, iac.reading.roles, hints)
    if (!link.role) {
      const unread = iac.reading.problems.length > 0 ? ` (not read: ${iac.reading.problems.join('; ')})` : ''
      facts.set(c, { link: `not linked: ${link.why}${unread}`, grantedFrom: [] })
      if (config.grantedSource === 'iac')
        c.outcome = { status: 'failed', reason: `granted-source is iac but ${link.why}${unread}` }
      continue
    }
    const role = link.role
    linked.add(role)
    const grantedFrom = role.policies.map(p => p.location)
    const conservative =
      role.unresolved.length > 0 ? `; read conservatively: ${role.unresolved.join('; ')}` : ''
    const known = c.grants?.policies ?? []
    const partition = partitionOf(c.arn)
    const { policies, missing } = grantedPolicies(role, known, live, partition)
    const awsManaged = policies.filter(p => p.awsManaged)
    facts.set(c, {
      link: `linked by ${link.how}${conservative}${awsManagedSources(awsManaged)}`,
      grantedFrom,
      ...(awsManaged.length > 0 ? { awsManaged: { role: role.location, policies: awsManaged } } : {})
    })
    if (c.outcome) continue
    if (missing.length > 0) {
      c.outcome = {
        status: 'failed',
        reason: `${role.location.file}:${role.location.startLine} attaches ${missing.join(', ')}, ${
          partition === 'aws'
            ? `whose document is neither in IAM nor in ${BUNDLED_POLICIES_SOURCE}; give credentials (IAM)`
            : `whose document was not read from IAM, and ${BUNDLED_POLICIES_SOURCE} holds only the aws partition's policies (those of ${partition} differ); give credentials for ${partition} (IAM)`
        } or an authorization-details export that holds it`
      }
      continue
    }
    const atBase = base ? linkRole(c.name, base.roles, hints).role : undefined
    const trust = atBase ? trustChange(role, atBase) : undefined
    if (trust !== undefined) {
      c.outcome = { status: 'failed', reason: trust }
      continue
    }
    c.fromInfrastructureCode = true
    if (base) c.iacBase = baseGrants(atBase, known, live, partition)
    c.grants = {
      arn: c.arn,
      name: c.name,
      path: c.grants?.path ?? '/',
      accountId: c.accountId,
      editable: c.grants?.editable ?? true,
      ...(c.grants?.notEditableReason ? { notEditableReason: c.grants.notEditableReason } : {}),
      policies
    }
  }
  if (!pullRequest) return facts
  cases.push(...unreadBlockCases(iac.reading, base))
  // A role only the code defines has no ARN yet: it is read in the partition of the roles deployed beside it.
  const partitions = new Set(cases.filter(c => c.arn.startsWith('arn:')).map(c => partitionOf(c.arn)))
  const partition = partitions.size === 1 ? ([...partitions][0] ?? 'aws') : 'aws'
  const codeRoles = unlinkedCodeRoles(iac.reading.roles, linked, base, role =>
    grantedPolicies(role, [], live, partition)
  )
  for (const [c, fact] of codeRoles) {
    cases.push(c)
    facts.set(c, fact)
  }
  return facts
}

/**
 * A pull request that adds, changes or removes a block whose grants cannot be read statically (a registry module,
 * a Terraform override file, a policy attached to a role named by an expression, an attachment of an ARN
 * expression) cannot pass: what it grants, or what removing it widens, is unknown. One the base commit has exactly
 * as written is left to the roles it was already judged with.
 */
function unreadBlockCases(head: IacReading, base: IacReading | undefined): RoleCase[] {
  const before = base?.unreadBlocks ?? []
  const after = head.unreadBlocks ?? []
  const same = (a: UnreadBlock, b: UnreadBlock) => a.file === b.file && a.address === b.address
  const failed = (b: UnreadBlock, what: string): RoleCase => ({
    arn: `${b.file}:${b.address}`,
    name: b.address,
    accountId: '',
    outcome: {
      status: 'failed',
      reason: `the pull request ${what} ${b.address} in ${b.file}, whose grants cannot be read statically (${b.why}): the gate cannot pass on it; write the role and its policies in the code under iac-path with literal names and ARNs`
    }
  })
  const cases = [
    ...after
      .filter(b => !before.some(o => same(o, b) && o.text === b.text))
      .map(b => failed(b, before.some(o => same(o, b)) ? 'changes' : 'adds')),
    ...before.filter(o => !after.some(b => same(o, b))).map(o => failed(o, 'removes'))
  ]
  // One case per block, however many of its expressions are unread.
  return [...new Map(cases.map(c => [c.arn, c])).values()]
}

/** Where each AWS-managed policy's document came from (IAM, an export, or the data package and its version). */
function awsManagedSources(policies: readonly GrantedPolicy[]): string {
  const sources = policies.map(p => `${p.name} from ${p.origin}`)
  return sources.length > 0 ? `; AWS-managed ${sources.join(', ')}` : ''
}

/**
 * The AWS-managed policies the code attaches that the roles' own readings do not hold, read from IAM by ARN (one
 * written in the deployed partition, in each partition of the roles analyzed). One IAM cannot read is left to the data
 * package (the aws partition only), with a warning naming it.
 */
export async function readLiveAwsManaged(
  session: AwsSession,
  readings: readonly IacReading[],
  log: Logger,
  partitions: readonly string[]
): Promise<Map<string, GrantedPolicy>> {
  const arns = new Set(
    readings.flatMap(r =>
      r.roles.flatMap(role => role.managedPolicyArns.flatMap(arn => partitions.map(p => inPartition(arn, p))))
    )
  )
  const live = new Map<string, GrantedPolicy>()
  const awsManaged = [...arns].filter(isAwsManagedPolicyArn)
  if (awsManaged.length === 0) return live
  const reader = new GrantedPolicyReader(await session.iam(), log)
  for (const arn of awsManaged) {
    try {
      live.set(arn, await reader.managedPolicyGrant(arn))
    } catch (e) {
      const partition = partitionOf(arn)
      log.warning(
        partition === 'aws'
          ? `${arn}: IAM cannot read it (${errorMessage(e)}); its document is taken from ${BUNDLED_POLICIES_SOURCE}`
          : `${arn}: IAM cannot read it (${errorMessage(e)}); ${BUNDLED_POLICIES_SOURCE} holds only the aws partition's policies: a role of ${partition} that attaches it fails unless the authorization-details export holds it`
      )
    }
  }
  return live
}

/** The role's policies; an AWS-managed ARN is read in the role's partition, and from the data package only in aws. */
function grantedPolicies(
  role: IacRole,
  known: readonly GrantedPolicy[],
  live: ReadonlyMap<string, GrantedPolicy>,
  partition: string
): { policies: GrantedPolicy[]; missing: string[] } {
  const policies: GrantedPolicy[] = role.policies.map(p => ({
    name: p.name ?? p.location.address,
    kind: p.attachment,
    awsManaged: false,
    document: p.document,
    origin: `${p.location.file}:${p.location.startLine}`
  }))
  const missing: string[] = []
  for (const written of role.managedPolicyArns) {
    const arn = inPartition(written, partition)
    const bundled = partition === 'aws' ? bundledAwsManagedPolicy(arn) : undefined
    const document =
      known.find(k => k.arn === arn) ?? (isAwsManagedPolicyArn(arn) ? (live.get(arn) ?? bundled) : undefined)
    if (document) policies.push(document)
    else if (isAwsManagedPolicyArn(arn)) missing.push(arn)
    else missing.push(`${arn} (not defined in the code)`)
  }
  return { policies, missing }
}

/**
 * What the base commit's code grants the role (`role`, linked by the same rule as the head). A role the base does
 * not define (or defines ambiguously) is new: everything the head grants is added. A managed policy whose document
 * is unknown grants nothing at the base, so its access counts as added.
 */
function baseGrants(
  role: IacRole | undefined,
  known: readonly GrantedPolicy[],
  live: ReadonlyMap<string, GrantedPolicy>,
  partition: string
): IacBase {
  if (!role) return { policies: undefined }
  return { policies: grantedPolicies(role, known, live, partition).policies }
}
