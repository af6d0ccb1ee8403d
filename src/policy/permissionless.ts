/**
 * Calls that need no IAM permission: they succeed whatever the policy says, so seeing them proves nothing about
 * what the role needs. Source: AWS STS API reference, GetCallerIdentity ("No permissions are required to perform
 * this operation. If an administrator attaches a policy to your identity that explicitly denies access to the
 * sts:GetCallerIdentity action, you can still perform this operation.").
 */
const PERMISSIONLESS = new Set(['sts:getcalleridentity'])

/** True for an action (any case, `svc:Action`) that needs no permission and so is never usage. */
export function isPermissionless(action: string): boolean {
  return PERMISSIONLESS.has(action.toLowerCase())
}
