/**
 * granted-source iac (and auto when the code defines the role): each role is granted what its infrastructure code
 * says, not what IAM or an export says. AWS-managed policies the code attaches by ARN take their documents from the
 * role's IAM or export reading (the same ARN); one that cannot be resolved fails the role with a reason.
 */
import type { Config } from '../config.js'
import { isAwsManagedPolicyArn } from '../granted/editability.js'
import { linkRole } from '../iac/link.js'
import type { LinkHints } from '../iac/link.js'
import type { IacMapping } from '../iac/mapping.js'
import type { TerraformStateRole } from '../iac/terraform/state.js'
import type { IacLocation, IacReading, IacRole } from '../iac/model.js'
import type { IacWorkspace } from '../iac/workspace.js'
import type { GrantedPolicy } from '../model.js'
import type { IacBase, RoleCase } from './role-case.js'

/** How each role was linked to the code, or why not; and where its granted policies are written. */
export interface IacCaseFacts {
  link: string
  grantedFrom: IacLocation[]
}

/**
 * `context.base`: on a pull request, the same files as its base commit has them; each role's base grants are kept for the
 * gate (what the pull request adds). A head file that cannot be read fails every role: what it grants is unknown,
 * and a pull request is never passed on code that was not read.
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
  }
): Map<RoleCase, IacCaseFacts> {
  const facts = new Map<RoleCase, IacCaseFacts>()
  const unread = iac.reading.unreadFiles
  const base = context.base
  if (context.baseUnknown !== undefined) {
    for (const c of cases)
      if (!c.outcome)
        c.outcome = {
          status: 'failed',
          reason: `what the pull request removes from the infrastructure code is not known: ${context.baseUnknown}`
        }
    return facts
  }
  if ((context.authored || base) && unread.length > 0) {
    for (const c of cases)
      if (!c.outcome)
        c.outcome = {
          status: 'failed',
          reason: `the pull request's infrastructure code cannot be read (${unread.join(', ')}): ${iac.reading.problems.join('; ')}`
        }
    return facts
  }
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
    const grantedFrom = role.policies.map(p => p.location)
    const conservative =
      role.unresolved.length > 0 ? `; read conservatively: ${role.unresolved.join('; ')}` : ''
    facts.set(c, { link: `linked by ${link.how}${conservative}`, grantedFrom })
    if (c.outcome) continue
    const known = c.grants?.policies ?? []
    const { policies, missing } = grantedPolicies(role, known)
    if (missing.length > 0) {
      c.outcome = {
        status: 'failed',
        reason: `${role.location.file}:${role.location.startLine} attaches ${missing.join(', ')}, whose document is not known offline; give credentials (IAM) or an authorization-details export that holds it`
      }
      continue
    }
    c.fromInfrastructureCode = true
    if (base) c.iacBase = baseGrants(c.name, base, known, hints)
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
  return facts
}

function grantedPolicies(
  role: IacRole,
  known: readonly GrantedPolicy[]
): { policies: GrantedPolicy[]; missing: string[] } {
  const policies: GrantedPolicy[] = role.policies.map(p => ({
    name: p.name ?? p.location.address,
    kind: p.attachment,
    awsManaged: false,
    document: p.document,
    origin: `${p.location.file}:${p.location.startLine}`
  }))
  const missing: string[] = []
  for (const arn of role.managedPolicyArns) {
    const live = known.find(k => k.arn === arn)
    if (live) policies.push(live)
    else if (isAwsManagedPolicyArn(arn)) missing.push(arn)
    else missing.push(`${arn} (not defined in the code)`)
  }
  return { policies, missing }
}

/**
 * What the base commit's code grants the role, linked by the same rule as the head. A role the base does not define
 * (or defines ambiguously) is new: everything the head grants is added. A managed policy whose document is unknown
 * grants nothing at the base, so its access counts as added.
 */
function baseGrants(
  name: string,
  base: IacReading,
  known: readonly GrantedPolicy[],
  hints: LinkHints
): IacBase {
  const link = linkRole(name, base.roles, hints)
  if (!link.role) return { policies: undefined }
  return { policies: grantedPolicies(link.role, known).policies }
}
