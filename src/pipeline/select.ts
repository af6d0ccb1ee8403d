/** Which roles a run judges, and what each is granted: from an export, policy files, the workspace or IAM. */
import type { AwsSession } from '../aws/session.js'
import { GrantedPolicyReader, resolveRoles } from '../aws/iam.js'
import { resolveUsers } from '../aws/iam-users.js'
import { describeAwsError } from '../aws/retry.js'
import type { Config } from '../config.js'
import { principalPolicyPath } from '../config.js'
import { errorMessage } from '../error-message.js'
import { editability } from '../granted/editability.js'
import { parsePolicyFile } from '../granted/policy-file.js'
import type { ExportedRole } from '../granted/policy-file.js'
import { isSafePathSegment, POLICY_FILE_LIMIT } from '../granted/workspace-file.js'
import type { Logger } from '../logger.js'
import type { GrantedPolicy, RoleGrants, RoleSelector } from '../model.js'
import {
  accountFromArn,
  isRoleArn,
  isUserArn,
  parseRoleArn,
  parseUserArn,
  canonicalRoleArns,
  roleKey,
  roleNameFromArn,
  selectorMatches,
  selectRoles
} from '../roles.js'
import type { KnownRole } from '../roles.js'
import type { RunFiles } from './files.js'
import type { RoleCase } from './role-case.js'

export interface SelectionContext {
  config: Config
  aws: AwsSession
  files: RunFiles
  log: Logger
}

export interface GrantSources {
  /** Policies given as files (--policy): every selected role is granted them too. */
  fileGrants: GrantedPolicy[]
  exported?: ExportedRole[]
  /** Roles the usage source saw by itself (CloudTrail records). */
  rolesSeen?: readonly string[]
  /** Set when the usage source found no evidence: a selector nothing matches is then no evidence, not a failure. */
  noEvidence?: string
}

/** Which roles, and what each is granted: without IAM when the export or the records name the roles. */
export async function selectCases(ctx: SelectionContext, sources: GrantSources): Promise<RoleCase[]> {
  const { config } = ctx
  const offline =
    sources.exported !== undefined ||
    (sources.rolesSeen !== undefined &&
      (sources.fileGrants.length > 0 || config.grantedSource === 'files' || config.grantedSource === 'iac'))
  return offline ? knownRoleCases(ctx, sources) : await iamRoleCases(ctx, sources.fileGrants)
}

function failedCase(input: string, reason: string): RoleCase {
  return { arn: input, name: input, accountId: '', outcome: { status: 'failed', reason } }
}

/**
 * Service-linked roles are reported but never judged: AWS owns their policies. A role that already failed keeps
 * its failure.
 */
function skipServiceLinked(c: RoleCase, path: string): void {
  if (c.outcome || !path.startsWith('/aws-service-role/')) return
  c.outcome = {
    status: 'skipped',
    reason: c.notEditableReason ?? c.grants?.notEditableReason ?? 'service-linked role'
  }
}

/** A role named by the export or the records: its grants come from the export, --policy files or the workspace. */
interface KnownCase extends KnownRole {
  exported?: ExportedRole
}

function knownRoleCases(ctx: SelectionContext, sources: GrantSources): RoleCase[] {
  const { config } = ctx
  const cases: RoleCase[] = []
  const known = new Map<string, KnownCase>()
  for (const arn of sources.rolesSeen ?? [])
    if (isRoleArn(arn) || isUserArn(arn)) known.set(arn, { arn, name: roleNameFromArn(arn) })
  for (const e of sources.exported ?? []) known.set(e.arn, { arn: e.arn, name: e.name, exported: e })
  // One role per account and name: an ARN seen without its path gives way to the same role's ARN with its path.
  const canonical = canonicalRoleArns(known.keys())
  for (const arn of [...known.keys()]) if (canonical.get(arn) !== arn) known.delete(arn)
  const knownAs = (s: RoleSelector) => [...known.keys()].some(k => roleKey(k) === roleKey(s.input))
  // A role asked for by ARN is analyzed even when nothing mentions it (it then has no activity to show).
  for (const s of config.roles)
    if (s.kind === 'arn' && !knownAs(s)) known.set(s.input, { arn: s.input, name: s.name })
  const where = [
    sources.exported ? 'the authorization-details export' : '',
    sources.rolesSeen ? 'the CloudTrail records' : ''
  ]
    .filter(Boolean)
    .join(' or ')
  const selected = selectRoles(config.roles, [...known.values()], where)
  for (const u of selected.unmatched) {
    if (sources.noEvidence)
      cases.push({
        arn: u.input,
        name: u.input,
        accountId: '',
        outcome: { status: 'insufficient-evidence', reason: sources.noEvidence }
      })
    else cases.push(failedCase(u.input, u.reason))
  }
  for (const role of selected.roles) {
    const path = (parseRoleArn(role.arn) ?? parseUserArn(role.arn))?.path ?? '/'
    const edit = editability(path, role.name)
    const c: RoleCase = {
      arn: role.arn,
      name: role.name,
      accountId: accountFromArn(role.arn),
      ...(edit.notEditableReason ? { notEditableReason: edit.notEditableReason } : {})
    }
    const grantedBy = (policies: GrantedPolicy[]): RoleGrants => ({
      arn: role.arn,
      name: role.name,
      path,
      accountId: c.accountId,
      policies,
      ...edit
    })
    if (role.exported?.error) c.outcome = { status: 'failed', reason: role.exported.error }
    else if (role.exported?.grants) {
      c.grants = withFileGrants(role.exported.grants, sources.fileGrants)
    } else if (sources.fileGrants.length > 0) {
      c.grants = grantedBy(sources.fileGrants)
    } else if (config.grantedSource === 'files' && !sources.exported) {
      const file = readWorkspacePolicy(ctx, c)
      c.fromRepositoryFile = file.grants !== undefined
      if (file.grants) c.grants = grantedBy(file.grants)
      else c.outcome = { status: 'failed', reason: file.reason ?? 'no policy file' }
    } else if (config.grantedSource === 'iac') {
      // Granted what the infrastructure code says (pipeline/iac-grants.ts).
      c.grants = grantedBy([])
    } else if (!edit.editable) {
      c.outcome = { status: 'skipped', reason: edit.notEditableReason ?? 'not editable' }
    } else if (sources.exported && !namedExplicitly(config.roles, role)) {
      // Matched by a pattern from the CloudTrail records only: not a role the export was asked to cover.
      c.outcome = {
        status: 'skipped',
        reason: 'not in the export: seen only in the CloudTrail records (export it, or name it to require it)'
      }
    } else {
      c.outcome = {
        status: 'failed',
        reason: `role ${role.arn} is not in the authorization-details export; export it again or pass its policies with --policy`
      }
    }
    skipServiceLinked(c, c.grants?.path ?? path)
    cases.push(c)
  }
  return cases
}

/** Whether a role ARN or name selector (not a pattern) names the role. */
function namedExplicitly(selectors: readonly RoleSelector[], role: KnownRole): boolean {
  return selectors.some(s => s.kind !== 'pattern' && selectorMatches(s, role))
}

/** IAM resolves the selectors; each role's policies are read from IAM, or taken from the workspace's file. */
async function iamRoleCases(ctx: SelectionContext, fileGrants: GrantedPolicy[]): Promise<RoleCase[]> {
  const { config, log } = ctx
  let iam
  try {
    iam = await ctx.aws.iam()
  } catch (e) {
    throw new Error(`AWS credentials: ${errorMessage(e)}`)
  }
  const cases: RoleCase[] = []
  const resolution = await resolveRoles(
    iam,
    config.roles.filter(s => s.principal !== 'user'),
    log
  )
  const users = await resolveUsers(
    iam,
    config.roles.filter(s => s.principal === 'user')
  )
  for (const f of [...resolution.failures, ...users.failures])
    cases.push(failedCase(f.arn ?? f.input, f.reason))
  const reader = new GrantedPolicyReader(iam, log)
  for (const role of [...resolution.roles, ...users.users]) {
    const c: RoleCase = {
      arn: role.arn,
      name: role.name,
      accountId: role.accountId,
      ...(role.notEditableReason ? { notEditableReason: role.notEditableReason } : {})
    }
    cases.push(c)
    skipServiceLinked(c, role.path)
    if (c.outcome) continue
    const file = config.grantedSource === 'iam' ? undefined : readWorkspacePolicy(ctx, c)
    // A policy file that exists but cannot be read is an error, never a reason to judge the live policy instead.
    if (file?.exists && !file.grants) {
      c.outcome = { status: 'failed', reason: file.reason ?? `${file.path} cannot be read` }
      continue
    }
    if (file?.grants) {
      c.fromRepositoryFile = true
      c.grants = {
        arn: role.arn,
        name: role.name,
        path: role.path,
        accountId: role.accountId,
        policies: file.grants,
        ...editability(role.path, role.name)
      }
      log.info(`${role.name}: granted policies from ${file.path}`)
      continue
    }
    if (config.grantedSource === 'files') {
      c.outcome = { status: 'failed', reason: file?.reason ?? 'no policy file' }
      continue
    }
    try {
      const grants = isUserArn(role.arn) ? reader.readUserGrants(role) : reader.readRoleGrants(role)
      c.grants = withFileGrants(await grants, fileGrants)
    } catch (e) {
      c.outcome = { status: 'failed', reason: describeAwsError(e) }
    }
  }
  return cases
}

function withFileGrants(grants: RoleGrants, fileGrants: GrantedPolicy[]): RoleGrants {
  return fileGrants.length === 0 ? grants : { ...grants, policies: [...grants.policies, ...fileGrants] }
}

interface WorkspacePolicy {
  path: string
  exists: boolean
  grants?: GrantedPolicy[]
  reason?: string
}

/** The policy file of a role in the checked-out workspace (granted-source files/auto). Parsed as JSON only. */
function readWorkspacePolicy(
  ctx: SelectionContext,
  c: { arn: string; accountId: string; name: string }
): WorkspacePolicy {
  const path = principalPolicyPath(ctx.config.policyPath, c.arn, c.accountId, c.name)
  if (!isSafePathSegment(c.name) || (c.accountId !== '' && !/^\d{12}$/.test(c.accountId)))
    return { path, exists: true, reason: `the role name ${JSON.stringify(c.name)} cannot name a policy file` }
  const file = ctx.files.readWorkspace(path)
  if (file.status === 'absent') {
    return {
      path,
      exists: false,
      reason: `granted-source is files but ${path} does not exist in the workspace; check out the repository first or set granted-source: iam`
    }
  }
  if (file.status === 'refused') return { path, exists: true, reason: file.reason }
  try {
    return { path, exists: true, grants: parsePolicyFile(file.text, path) }
  } catch (e) {
    return { path, exists: true, reason: errorMessage(e) }
  }
}

/**
 * On a pull request, the policy files under policy-path that no selected role reads: a file for a role that does
 * not exist yet, or for a role left out of `roles`. Each is judged by the risk of what it grants, never ignored.
 */
export function unlistedPolicyFiles(ctx: SelectionContext, cases: readonly RoleCase[]): RoleCase[] {
  const { config } = ctx
  // By the exact path each role reads: a file whose name differs only in case is another file, never skipped.
  const known = new Set(cases.map(c => principalPolicyPath(config.policyPath, c.arn, c.accountId, c.name)))
  const discovered = ctx.files.policyFiles(config.policyPath)
  // Judging the first files only would let a pull request hide one past them.
  if (discovered.length > POLICY_FILE_LIMIT)
    return [
      failedCase(
        config.policyPath,
        `more than ${POLICY_FILE_LIMIT} files match policy-path ${config.policyPath}: none of them was judged, so this pull request cannot pass; keep fewer policy files under it`
      )
    ]
  const out: RoleCase[] = []
  for (const file of discovered) {
    if (known.has(file.path)) continue
    const named = { arn: `arn:aws:iam::${file.accountId}:role/${file.roleName}`, name: file.roleName }
    const listed = config.roles.some(s => selectorMatches(s, named))
    const c: RoleCase = {
      arn: `arn:aws:iam::${file.accountId || '000000000000'}:role/${file.roleName}`,
      name: file.roleName,
      accountId: file.accountId,
      fromRepositoryFile: true,
      unverifiedReason: listed
        ? 'new role: unverified (it does not exist yet, so nothing it did can be known): judged by the risk of what it is granted'
        : `${file.path} matches no role in roles: judged by the risk of what it grants; list the role in roles to judge it on its usage`
    }
    const read = readWorkspacePolicy(ctx, c)
    if (read.grants) {
      c.grants = {
        arn: c.arn,
        name: c.name,
        path: '/',
        accountId: c.accountId,
        policies: read.grants,
        editable: true
      }
    } else c.outcome = { status: 'failed', reason: read.reason ?? `${file.path} cannot be read` }
    out.push(c)
  }
  return out
}
