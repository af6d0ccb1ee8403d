/**
 * The iac-mapping file: for roles neither their name nor the Terraform state links, which block of the code defines
 * them. A JSON object keyed by role ARN or role name:
 * `{ "arn:aws:iam::111122223333:role/app": { "file": "infra/main.tf", "address": "aws_iam_role.app" } }`.
 */

export interface IacMappingTarget {
  /** Repository-relative path of the file that defines the role. */
  file: string
  /** `aws_iam_role.app` (Terraform) or the logical id (CloudFormation). */
  address: string
}

export type IacMapping = ReadonlyMap<string, IacMappingTarget>

/** Reads a mapping file; throws a one-line error naming the entry that is wrong. */
export function parseIacMapping(text: string, source: string): IacMapping {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`${source} is not JSON: write an object of role ARN or name → { "file", "address" }`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new Error(`${source} must be a JSON object of role ARN or name → { "file", "address" }`)
  const mapping = new Map<string, IacMappingTarget>()
  for (const [role, target] of Object.entries(parsed)) {
    const { file, address } = (target ?? {}) as { file?: unknown; address?: unknown }
    if (typeof file !== 'string' || typeof address !== 'string' || file === '' || address === '')
      throw new Error(`${source}: "${role}" must map to { "file": "path", "address": "resource address" }`)
    mapping.set(role, { file: file.replace(/^\.\//, ''), address })
  }
  return mapping
}
