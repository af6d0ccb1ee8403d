/** IAM reads: resolve role selectors, then read every policy granted to each role into RoleGrants. */
import { errorMessage } from '../error-message.js'
import { editability, isAwsManagedPolicyArn } from '../granted/editability.js'
import { PolicyTextError, decodePolicyText } from '../policy/document.js'
import { accountFromArn, rolePatternMatch } from '../roles.js'
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  paginateListAttachedUserPolicies,
  paginateListUserPolicies,
  paginateListAttachedRolePolicies,
  paginateListRolePolicies,
  paginateListRoles
} from '@aws-sdk/client-iam'
import type { IAMClient, Role } from '@aws-sdk/client-iam'
import type { Logger } from '../logger.js'
import type { GrantedPolicy, RoleGrants, RoleSelector } from '../model.js'
import { awsErrorName, describeAwsError } from './retry.js'

/** A role found in IAM, before its policies are read. */
export interface ResolvedRole {
  arn: string
  name: string
  path: string
  accountId: string
  editable: boolean
  notEditableReason?: string
  permissionsBoundaryArn?: string
}

/** A selector (or a role) that could not be resolved or read; the other roles continue. */
interface RoleFailure {
  input: string
  arn?: string
  reason: string
}

interface RoleResolution {
  roles: ResolvedRole[]
  failures: RoleFailure[]
}

function toResolved(role: Role): ResolvedRole {
  const name = role.RoleName ?? ''
  const path = role.Path ?? '/'
  const arn = role.Arn ?? ''
  return {
    arn,
    name,
    path,
    accountId: accountFromArn(arn),
    ...editability(path, name),
    ...(role.PermissionsBoundary?.PermissionsBoundaryArn
      ? { permissionsBoundaryArn: role.PermissionsBoundary.PermissionsBoundaryArn }
      : {})
  }
}

/**
 * Resolves ARNs and names with GetRole and `*` patterns with one paginated ListRoles (shared by all patterns).
 * A role found twice is kept once. Unknown roles and empty patterns become failures.
 */
export async function resolveRoles(
  client: IAMClient,
  selectors: RoleSelector[],
  log: Logger
): Promise<RoleResolution> {
  const roles = new Map<string, ResolvedRole>()
  const failures: RoleFailure[] = []
  let allRoles: Role[] | undefined

  for (const selector of selectors) {
    try {
      if (selector.kind === 'pattern') {
        if (!allRoles) {
          allRoles = []
          for await (const page of paginateListRoles({ client }, {})) allRoles.push(...(page.Roles ?? []))
          log.debug(`ListRoles returned ${allRoles.length} roles`)
        }
        const matched = allRoles.filter(r => rolePatternMatch(selector.input, r.RoleName ?? ''))
        if (matched.length === 0) {
          failures.push({
            input: selector.input,
            reason: `no role name matches the pattern "${selector.input}"`
          })
        }
        // ListRoles omits PermissionsBoundary: readRoleGrants fetches it with GetRole.
        for (const role of matched) {
          const resolved = toResolved(role)
          if (!roles.has(resolved.arn)) roles.set(resolved.arn, resolved)
        }
        continue
      }
      const name = selector.kind === 'arn' ? selector.name : selector.input
      const { Role: role } = await client.send(new GetRoleCommand({ RoleName: name }))
      if (!role?.Arn) throw new Error(`GetRole returned no role for "${name}"`)
      if (selector.kind === 'arn' && role.Arn !== selector.input) {
        failures.push({
          input: selector.input,
          arn: selector.input,
          reason: `the credentials reach ${role.Arn}, not ${selector.input}: check the account id and path in the ARN, and that the credentials belong to that account`
        })
        continue
      }
      const resolved = toResolved(role)
      if (!roles.has(resolved.arn)) roles.set(resolved.arn, resolved)
    } catch (error) {
      failures.push({
        input: selector.input,
        ...(selector.kind === 'arn' ? { arn: selector.input } : {}),
        reason: roleErrorReason(error, selector.input)
      })
    }
  }
  return { roles: [...roles.values()], failures }
}

function roleErrorReason(error: unknown, input: string): string {
  const name = awsErrorName(error)
  if (name === 'NoSuchEntityException')
    return `role "${input}" does not exist in this account (IAM NoSuchEntity)`
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    return `not allowed to read role "${input}": ${describeAwsError(error)}; grant iam:GetRole, iam:ListRoles, iam:ListAttachedRolePolicies, iam:ListRolePolicies, iam:GetRolePolicy, iam:GetPolicy, iam:GetPolicyVersion`
  }
  return `could not read role "${input}": ${describeAwsError(error)}`
}

function tagMap(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[]
): Record<string, string> {
  return Object.fromEntries(tags.flatMap(t => (t.Key === undefined ? [] : [[t.Key, t.Value ?? '']])))
}

/** IAM returns policy documents URL-encoded (RFC 3986); the JS SDK does not decode them. */
function decodeIamDocument(encoded: string, what: string): unknown {
  try {
    return decodePolicyText(encoded).document
  } catch (error) {
    if (error instanceof PolicyTextError) throw new Error(`${what}: the document ${error.problem}`)
    throw error
  }
}

interface ManagedPolicy {
  name: string
  document: unknown
}

/** Reads granted policies; managed policy documents are cached across roles (many roles share AWS managed policies). */
export class GrantedPolicyReader {
  private readonly managed = new Map<string, Promise<ManagedPolicy>>()

  constructor(
    private readonly client: IAMClient,
    private readonly log: Logger
  ) {}

  /** Throws an Error whose message names the role and the policy when a read fails or a document is malformed. */
  async readRoleGrants(role: ResolvedRole): Promise<RoleGrants> {
    try {
      return await this.read(role)
    } catch (error) {
      throw new Error(`role ${role.arn}: ${errorMessage(error)}`)
    }
  }

  private async read(role: ResolvedRole): Promise<RoleGrants> {
    const { client } = this
    const { Role: current } = await client.send(new GetRoleCommand({ RoleName: role.name }))
    const path = current?.Path ?? role.path
    const boundaryArn = current?.PermissionsBoundary?.PermissionsBoundaryArn ?? role.permissionsBoundaryArn
    const policies: GrantedPolicy[] = []

    for await (const page of paginateListAttachedRolePolicies({ client }, { RoleName: role.name })) {
      for (const attached of page.AttachedPolicies ?? []) {
        if (!attached.PolicyArn) continue
        const policy = await this.managedPolicy(attached.PolicyArn)
        policies.push(this.granted(policy, attached.PolicyArn, 'managed'))
      }
    }
    for await (const page of paginateListRolePolicies({ client }, { RoleName: role.name })) {
      for (const policyName of page.PolicyNames ?? []) {
        const out = await client.send(
          new GetRolePolicyCommand({ RoleName: role.name, PolicyName: policyName })
        )
        policies.push(inlinePolicy(policyName, out.PolicyDocument, 'GetRolePolicy'))
      }
    }
    const boundary = boundaryArn
      ? this.granted(await this.managedPolicy(boundaryArn), boundaryArn, 'boundary')
      : undefined
    this.log.debug(
      `role ${role.arn}: ${policies.length} policies${boundary ? ' and a permissions boundary' : ''}`
    )
    return {
      arn: role.arn,
      name: role.name,
      path,
      accountId: role.accountId,
      policies,
      ...(boundary ? { boundary } : {}),
      ...(current?.CreateDate ? { createdAt: current.CreateDate.toISOString() } : {}),
      ...(current?.Tags?.length ? { tags: tagMap(current.Tags) } : {}),
      ...editability(path, role.name)
    }
  }

  /**
   * An IAM user's attached and inline policies and its permissions boundary (GetUser, ListAttachedUserPolicies,
   * ListUserPolicies, GetUserPolicy). The policies of its groups are not read: they are not the user's to change.
   */
  async readUserGrants(user: ResolvedRole): Promise<RoleGrants> {
    const { client } = this
    try {
      const { User: current } = await client.send(new GetUserCommand({ UserName: user.name }))
      const boundaryArn = current?.PermissionsBoundary?.PermissionsBoundaryArn
      const policies: GrantedPolicy[] = []
      for await (const page of paginateListAttachedUserPolicies({ client }, { UserName: user.name }))
        for (const attached of page.AttachedPolicies ?? [])
          if (attached.PolicyArn)
            policies.push(
              this.granted(await this.managedPolicy(attached.PolicyArn), attached.PolicyArn, 'managed')
            )
      for await (const page of paginateListUserPolicies({ client }, { UserName: user.name }))
        for (const policyName of page.PolicyNames ?? []) {
          const out = await client.send(
            new GetUserPolicyCommand({ UserName: user.name, PolicyName: policyName })
          )
          policies.push(inlinePolicy(policyName, out.PolicyDocument, 'GetUserPolicy'))
        }
      const boundary = boundaryArn
        ? this.granted(await this.managedPolicy(boundaryArn), boundaryArn, 'boundary')
        : undefined
      return {
        arn: user.arn,
        name: user.name,
        path: current?.Path ?? user.path,
        accountId: user.accountId,
        policies,
        ...(boundary ? { boundary } : {}),
        ...(current?.CreateDate ? { createdAt: current.CreateDate.toISOString() } : {}),
        editable: true
      }
    } catch (error) {
      throw new Error(`user ${user.arn}: ${errorMessage(error)}`)
    }
  }

  /** A managed policy's default version (GetPolicy, GetPolicyVersion), whichever role attaches it. */
  async managedPolicyGrant(arn: string): Promise<GrantedPolicy> {
    return this.granted(await this.managedPolicy(arn), arn, 'managed')
  }

  private granted(policy: ManagedPolicy, arn: string, kind: 'managed' | 'boundary'): GrantedPolicy {
    return {
      name: policy.name,
      arn,
      kind,
      awsManaged: isAwsManagedPolicyArn(arn),
      document: policy.document,
      origin: 'iam'
    }
  }

  private managedPolicy(arn: string): Promise<ManagedPolicy> {
    let cached = this.managed.get(arn)
    if (!cached) {
      cached = this.fetchManaged(arn)
      // A failed read is not cached: the next role retries it.
      cached.catch(() => this.managed.delete(arn))
      this.managed.set(arn, cached)
    }
    return cached
  }

  private async fetchManaged(arn: string): Promise<ManagedPolicy> {
    const { Policy: policy } = await this.client.send(new GetPolicyCommand({ PolicyArn: arn }))
    const name = policy?.PolicyName ?? arn.split('/').at(-1) ?? arn
    const versionId = policy?.DefaultVersionId
    if (!versionId) throw new Error(`managed policy ${name} (${arn}): GetPolicy returned no DefaultVersionId`)
    const { PolicyVersion: version } = await this.client.send(
      new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })
    )
    if (version?.Document === undefined)
      throw new Error(`managed policy ${name} (${arn}): GetPolicyVersion returned no document`)
    return {
      name,
      document: decodeIamDocument(version.Document, `managed policy ${name} (${arn}) ${versionId}`)
    }
  }
}

/** An inline policy as IAM returned it (GetRolePolicy, GetUserPolicy): its URL-encoded document decoded. */
function inlinePolicy(name: string, document: string | undefined, operation: string): GrantedPolicy {
  if (document === undefined) throw new Error(`inline policy ${name}: ${operation} returned no document`)
  return {
    name,
    kind: 'inline',
    awsManaged: false,
    document: decodeIamDocument(document, `inline policy ${name}`),
    origin: 'iam'
  }
}
