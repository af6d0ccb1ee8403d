import { errorMessage } from '../error-message.js'
import type { GrantedPolicy, RoleGrants } from '../model.js'
import {
  PolicyTextError,
  decodePolicyText,
  inexactNumberProblem,
  isObject,
  jsonErrorPlace
} from '../policy/document.js'
import { inexactNumber, inexactNumbersByEntry } from '../policy/json-numbers.js'
import { requireRoleArn, roleNameFromArn } from '../roles.js'
import { duplicateKeyPosition } from './duplicate-keys.js'
import { editability, isAwsManagedPolicyArn } from './editability.js'

/**
 * Reads granted policies from the files people actually have: a bare policy document, the output of
 * `aws iam get-policy-version` or `aws iam get-role-policy`, a JSON array of documents (what pull-request mode
 * writes when a proposal is split), and `aws iam get-account-authorization-details` exports. Parsing only:
 * nothing from a file is ever executed.
 */

class PolicyFileError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'PolicyFileError'
  }
}

/** Documents may arrive as objects, JSON strings, or URL-encoded JSON strings (raw IAM API output). */
function decodeDocument(value: unknown, label: string): unknown {
  if (typeof value !== 'string') return value
  let decoded: { document: unknown; json: string }
  try {
    decoded = decodePolicyText(value)
  } catch (error) {
    if (error instanceof PolicyTextError)
      throw new PolicyFileError(`${label}: the policy document ${error.problem}`)
    throw error
  }
  const duplicate = duplicateKeyPosition(decoded.json)
  if (duplicate !== undefined)
    throw new PolicyFileError(
      `${label}: a key appears twice in one object of the policy document (at position ${duplicate}); keep one`
    )
  return decoded.document
}

/** A file's text without the byte-order mark editors on Windows write first (JSON.parse refuses it). */
function withoutBom(text: string): string {
  return text.startsWith('\uFEFF') ? text.slice(1) : text
}

/** A policy read with a number other than the one written (rounded, or past what a double holds) is refused. */
function refuseInexactNumbers(text: string, file: string): void {
  const inexact = inexactNumber(text)
  if (inexact) throw new PolicyFileError(`${file}: ${inexactNumberProblem(inexact)}`)
}

/** Parses the JSON text of one policy file into granted policies (one per document it holds). */
export function parsePolicyFile(fileText: string, file: string): GrantedPolicy[] {
  const text = withoutBom(fileText)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new PolicyFileError(
      `${file}: not valid JSON (${jsonErrorPlace(e)}); give a policy document or aws iam output`
    )
  }
  const duplicate = duplicateKeyPosition(text)
  if (duplicate !== undefined)
    throw new PolicyFileError(
      `${file}: a key appears twice in one object (at position ${duplicate}); other tools may read the other value, so keep one`
    )
  refuseInexactNumbers(text, file)
  const base =
    file
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.json$/i, '') ?? file
  const granted = (name: string, document: unknown): GrantedPolicy => ({
    name,
    kind: 'inline',
    awsManaged: false,
    document: decodeDocument(document, `${file} (${name})`),
    origin: file
  })
  if (Array.isArray(json)) {
    if (json.length === 0) throw new PolicyFileError(`${file}: an empty array holds no policy document`)
    return json.map((doc, i) => granted(json.length === 1 ? base : `${base}.${i + 1}`, doc))
  }
  if (!isObject(json))
    throw new PolicyFileError(`${file}: expected a JSON object or array of policy documents`)
  if ('Statement' in json) return [granted(base, json)]
  if (isObject(json.PolicyVersion) && 'Document' in json.PolicyVersion)
    return [granted(base, json.PolicyVersion.Document)]
  if (typeof json.PolicyName === 'string' && 'PolicyDocument' in json)
    return [granted(json.PolicyName, json.PolicyDocument)]
  if (Array.isArray(json.RoleDetailList)) {
    throw new PolicyFileError(
      `${file}: this is an authorization-details export; pass it with --authorization-details`
    )
  }
  throw new PolicyFileError(
    `${file}: not a policy document (no Statement), nor get-policy-version or get-role-policy output`
  )
}

interface RoleDetail {
  Arn?: unknown
  RoleName?: unknown
  Path?: unknown
  CreateDate?: unknown
  RolePolicyList?: unknown
  AttachedManagedPolicies?: unknown
  PermissionsBoundary?: unknown
}

interface ManagedPolicyDetail {
  Arn: string
  PolicyName: string
  DefaultVersionId?: string
  PolicyVersionList?: { Document: unknown; VersionId?: string; IsDefaultVersion?: boolean }[]
}

/** The objects of an export's list (absent: none); anything else is a broken export. */
function entries(value: unknown, what: string): Record<string, unknown>[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(isObject))
    throw new PolicyFileError(`${what} is not a list of objects; export again`)
  return value
}

/** One role of an authorization-details export, or the reason it cannot be read. */
export type ExportedRole = { arn: string; name: string; grants?: RoleGrants; error?: string }

/** Reads every role of a `get-account-authorization-details` export with its inline, managed and boundary policies. */
export function parseAuthorizationDetails(text: string, file: string): ExportedRole[] {
  let json: unknown
  try {
    json = JSON.parse(withoutBom(text))
  } catch (e) {
    throw new PolicyFileError(`${file}: not valid JSON (${jsonErrorPlace(e)})`)
  }
  if (!isObject(json) || !Array.isArray(json.RoleDetailList)) {
    throw new PolicyFileError(
      `${file}: no RoleDetailList; expected the output of aws iam get-account-authorization-details`
    )
  }
  // A number read other than written fails the role (or the managed policy) that holds it, not the whole export.
  const inexactRoles = new Map<number, string>()
  const inexactPolicies = new Map<number, string>()
  for (const found of inexactNumbersByEntry(withoutBom(text))) {
    const byIndex =
      found.key === 'RoleDetailList' ? inexactRoles : found.key === 'Policies' ? inexactPolicies : undefined
    if (byIndex && found.index !== undefined && !byIndex.has(found.index))
      byIndex.set(found.index, inexactNumberProblem(found))
  }
  const policies = new Map<string, ManagedPolicyDetail>()
  const inexactPolicy = new Map<string, string>()
  for (const [i, p] of (Array.isArray(json.Policies) ? json.Policies : []).entries()) {
    if (!isObject(p) || typeof p.Arn !== 'string') continue
    policies.set(p.Arn, p as unknown as ManagedPolicyDetail)
    const problem = inexactPolicies.get(i)
    if (problem !== undefined) inexactPolicy.set(p.Arn, problem)
  }
  const managed = (arn: string, name: string, kind: 'managed' | 'boundary'): GrantedPolicy => {
    const problem = inexactPolicy.get(arn)
    if (problem !== undefined) throw new PolicyFileError(`${file}: managed policy ${arn} ${problem}`)
    const detail = policies.get(arn)
    const versions = detail?.PolicyVersionList ?? []
    const version =
      versions.find(v => v.IsDefaultVersion) ?? versions.find(v => v.VersionId === detail?.DefaultVersionId)
    if (!version) {
      throw new PolicyFileError(
        `${file}: managed policy ${arn} is attached but its document is not in the export's Policies list; export with --filter LocalManagedPolicy AWSManagedPolicy`
      )
    }
    return {
      name: detail?.PolicyName ?? name,
      arn,
      kind,
      awsManaged: isAwsManagedPolicyArn(arn),
      document: decodeDocument(version.Document, `${file} (${arn})`),
      origin: file
    }
  }
  return (json.RoleDetailList as unknown[]).map((entry, i) => {
    if (!isObject(entry)) {
      const where = `RoleDetailList[${i}]`
      return { arn: where, name: where, error: `${file}: ${where} is not a role object; export again` }
    }
    const role = entry as unknown as RoleDetail
    const arn = String(role.Arn)
    const name = typeof role.RoleName === 'string' ? role.RoleName : roleNameFromArn(arn)
    try {
      const what = `${file}: role ${name}`
      const inexact = inexactRoles.get(i)
      if (inexact !== undefined) throw new PolicyFileError(`${what} ${inexact}`)
      const identity = requireRoleArn(arn, `${what}: Arn`)
      // The Arn identifies the role everywhere else (records, selectors, IAM): a RoleName or Path that says
      // otherwise would judge one role by another's name or editability.
      if (role.RoleName !== undefined && role.RoleName !== identity.name)
        throw new PolicyFileError(
          `${what}: RoleName is not the name in its Arn (${identity.name}); export again`
        )
      if (role.Path !== undefined && role.Path !== identity.path)
        throw new PolicyFileError(`${what}: Path is not the path in its Arn (${identity.path}); export again`)
      const path = identity.path
      const inline: GrantedPolicy[] = entries(role.RolePolicyList, `${what}: RolePolicyList`).map(p => {
        if (typeof p.PolicyName !== 'string')
          throw new PolicyFileError(`${what}: an entry of RolePolicyList has no PolicyName; export again`)
        return {
          name: p.PolicyName,
          kind: 'inline',
          awsManaged: false,
          document: decodeDocument(p.PolicyDocument, `${file} (${identity.name}/${p.PolicyName})`),
          origin: file
        }
      })
      const attached = entries(role.AttachedManagedPolicies, `${what}: AttachedManagedPolicies`).map(p => {
        if (typeof p.PolicyArn !== 'string')
          throw new PolicyFileError(
            `${what}: an entry of AttachedManagedPolicies has no PolicyArn; export again`
          )
        return managed(p.PolicyArn, typeof p.PolicyName === 'string' ? p.PolicyName : p.PolicyArn, 'managed')
      })
      const boundary = role.PermissionsBoundary
      const boundaryArn = isObject(boundary) ? boundary.PermissionsBoundaryArn : boundary
      if (boundaryArn !== undefined && typeof boundaryArn !== 'string')
        throw new PolicyFileError(`${what}: PermissionsBoundary has no PermissionsBoundaryArn; export again`)
      const grants: RoleGrants = {
        arn,
        name: identity.name,
        path,
        accountId: identity.accountId,
        policies: [...attached, ...inline],
        ...(boundaryArn
          ? { boundary: managed(boundaryArn, boundaryArn.split('/').pop() ?? boundaryArn, 'boundary') }
          : {}),
        ...editability(path, identity.name)
      }
      if (role.CreateDate !== undefined && typeof role.CreateDate !== 'string')
        throw new PolicyFileError(`${what}: CreateDate is not a date; export again`)
      return {
        arn,
        name: identity.name,
        grants: role.CreateDate ? { ...grants, createdAt: role.CreateDate } : grants
      }
    } catch (e) {
      return { arn, name, error: errorMessage(e) }
    }
  })
}
