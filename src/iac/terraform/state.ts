/**
 * Terraform state as `terraform show -json` prints it: the deployed IAM roles by resource address, to link a role
 * of the account to the block that defines it (address ↔ ARN and name).
 */

export interface TerraformStateRole {
  /** The full address: `module.app.aws_iam_role.this[0]`. */
  address: string
  /** The module path (`module.app`, `module.app.module.inner`), or `` for the root module. */
  module: string
  /** The resource's address inside its module, without the instance key: `aws_iam_role.this`. */
  resource: string
  /** `count` index or `for_each` key, when the resource has one. */
  key?: number | string
  arn: string
  name: string
}

interface StateModule {
  address?: unknown
  resources?: unknown
  child_modules?: unknown
}

/** Reads the roles of `terraform show -json` output; throws a one-line error naming what is wrong. */
export function parseTerraformState(text: string, source = 'the Terraform state'): TerraformStateRole[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`${source} is not JSON: give the output of \`terraform show -json\``)
  }
  const root = (parsed as { values?: { root_module?: unknown } } | null)?.values?.root_module
  if (typeof parsed !== 'object' || parsed === null || !('format_version' in parsed))
    throw new Error(`${source} is not \`terraform show -json\` output (no format_version)`)
  // A state with no resources has no `values` at all.
  if (root === undefined) return []
  const roles: TerraformStateRole[] = []
  const visit = (m: StateModule): void => {
    const module = typeof m.address === 'string' ? m.address : ''
    for (const r of Array.isArray(m.resources) ? (m.resources as Record<string, unknown>[]) : []) {
      if (r.mode !== 'managed' || r.type !== 'aws_iam_role' || typeof r.address !== 'string') continue
      const values = (r.values ?? {}) as Record<string, unknown>
      if (typeof values.arn !== 'string' || typeof values.name !== 'string') continue
      const key = r.index
      roles.push({
        address: r.address,
        module,
        resource: `aws_iam_role.${String(r.name)}`,
        ...(typeof key === 'number' || typeof key === 'string' ? { key } : {}),
        arn: values.arn,
        name: values.name
      })
    }
    for (const child of Array.isArray(m.child_modules) ? (m.child_modules as StateModule[]) : []) visit(child)
  }
  visit(root as StateModule)
  return roles
}
