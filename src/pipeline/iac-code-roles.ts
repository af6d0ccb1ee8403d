/**
 * On a pull request, the roles of the head's infrastructure code that no selected role is linked to: a role the pull
 * request adds in code, renames away from its deployed role, names with a prefix or an expression, or defines twice.
 * Each is judged by the risk of what it is granted, like a policy file for a role that does not exist yet; only what
 * the pull request adds to it over the same block at the base commit counts. One the base grants exactly the same
 * policies adds nothing and is left out of the report.
 */
import type { IacReading, IacRole } from '../iac/model.js'
import type { GrantedPolicy } from '../model.js'
import { canonicalJson } from '../policy/added-access.js'
import type { IacCaseFacts } from './iac-grants.js'
import type { RoleCase } from './role-case.js'

export const NEW_CODE_ROLE =
  'new role in code: unverified (it is not deployed, so nothing it did can be known): judged by the risk of what it is granted'

/** What a role of the code grants (its AWS-managed documents resolved), and the ARNs whose document is unknown. */
export type CodeRoleGrants = (role: IacRole) => { policies: GrantedPolicy[]; missing: string[] }

/** A case, and its report facts, for each role of `head` not in `linked` that the pull request adds or changes. */
export function unlinkedCodeRoles(
  head: readonly IacRole[],
  linked: ReadonlySet<IacRole>,
  base: IacReading | undefined,
  grantsOf: CodeRoleGrants
): Map<RoleCase, IacCaseFacts> {
  const out = new Map<RoleCase, IacCaseFacts>()
  for (const role of head) {
    if (linked.has(role)) continue
    const at = base ? sameBlock(base.roles, role) : undefined
    const { policies, missing } = grantsOf(role)
    const before = at ? grantsOf(at) : undefined
    const trust = at ? trustChange(role, at) : undefined
    // The same written grants at the base: nothing added, even by a policy ARN whose document is unknown.
    if (
      before &&
      trust === undefined &&
      sameGrants(before.policies, policies) &&
      canonicalJson([...before.missing].sort()) === canonicalJson([...missing].sort())
    )
      continue
    const where = `${role.location.file}:${role.location.startLine} (${role.location.address})`
    const c: RoleCase = {
      arn: `${role.location.file}:${role.location.address}`,
      name: role.name ?? role.location.address,
      accountId: '',
      fromInfrastructureCode: true,
      unverifiedReason: at
        ? `${where} is linked to no selected role: unverified (nothing it did is read): judged by the risk of what the pull request adds to it; list its deployed role in roles (or map it in iac-mapping) to judge it on its usage`
        : NEW_CODE_ROLE
    }
    const conservative =
      role.unresolved.length > 0 ? `; read conservatively: ${role.unresolved.join('; ')}` : ''
    out.set(c, {
      link: `not linked: defined in code at ${where}, ${at ? 'linked to no selected role' : 'not at the base commit'}${conservative}`,
      grantedFrom: role.policies.map(p => p.location)
    })
    if (trust !== undefined) {
      c.outcome = { status: 'failed', reason: trust }
      continue
    }
    if (missing.length > 0) {
      c.outcome = {
        status: 'failed',
        reason: `${where} attaches ${missing.join(', ')}, whose document is not known: the pull request cannot pass on what it grants`
      }
      continue
    }
    c.grants = { arn: c.arn, name: c.name, path: '/', accountId: '', editable: true, policies }
    // The base side only when the base was read: without it the change is unknown and the role is not judged.
    if (base) c.iacBase = { policies: before?.policies }
  }
  return out
}

/**
 * Why the pull request cannot pass on a role whose trust policy it changes: who may assume the role is not judged
 * (a principal added to it gains everything the role grants), so any change to it fails, never passes unseen.
 */
export function trustChange(head: IacRole, base: IacRole): string | undefined {
  if (head.trust === base.trust) return undefined
  const { file, startLine, address } = head.location
  return `${file}:${startLine} (${address}): the pull request changes who may assume the role (its trust policy), which the gate does not judge: it cannot pass; have the trust change reviewed on its own`
}

/**
 * The same role at the base commit: the same address in the same Terraform module folder (a block moved to another
 * file of the module is the same resource), or the same logical id in the same CloudFormation template.
 */
function sameBlock(roles: readonly IacRole[], role: IacRole): IacRole | undefined {
  const { kind, file, address } = role.location
  const folder = (path: string) => path.slice(0, path.lastIndexOf('/') + 1)
  const same = roles.filter(
    r =>
      r.location.kind === kind &&
      r.location.address === address &&
      (kind === 'terraform' ? folder(r.location.file) === folder(file) : r.location.file === file)
  )
  return same.length === 1 ? same[0] : undefined
}

function sameGrants(a: readonly GrantedPolicy[], b: readonly GrantedPolicy[]): boolean {
  const written = (policies: readonly GrantedPolicy[]) =>
    canonicalJson(policies.map(p => [p.kind, p.arn ?? p.name, p.document]))
  return written(a) === written(b)
}
