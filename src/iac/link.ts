/**
 * Which role of the infrastructure code a deployed role is: by the iac-mapping file, by the Terraform state (address
 * ↔ ARN), by its literal name, or by the name CloudFormation generates from the stack and the logical id
 * (`Stack-LogicalId-SUFFIX`), in that order. Each link says how it was made, and a role that cannot be linked says why.
 */
import type { IacMapping } from './mapping.js'
import type { IacRole } from './model.js'
import type { TerraformStateRole } from './terraform/state.js'

/** What else is known about a deployed role than its name. */
export interface LinkHints {
  arn: string
  mapping?: IacMapping
  state?: readonly TerraformStateRole[]
}

export type IacLink = { role: IacRole; how: string } | { role?: undefined; why: string }

/** CloudFormation appends a 12- or 13-character suffix of upper-case letters and digits. */
const GENERATED_SUFFIX = /^[A-Z0-9]{12,13}$/

export function linkRole(name: string, roles: readonly IacRole[], hints?: LinkHints): IacLink {
  const mapped = hints?.mapping?.get(hints.arn) ?? hints?.mapping?.get(name)
  if (mapped) {
    const role = roles.find(r => r.location.file === mapped.file && r.location.address === mapped.address)
    return role
      ? { role, how: `iac-mapping: ${where(role)}` }
      : { why: `iac-mapping maps it to ${mapped.address} in ${mapped.file}, which defines no role there` }
  }
  const state = hints?.state?.find(s => s.arn === hints.arn)
  if (state) return linkByState(state, roles)
  const named = roles.filter(r => r.name === name)
  if (named.length === 1 && named[0])
    return { role: named[0], how: `role name ${name} written in ${where(named[0])}` }
  if (named.length > 1)
    return { why: `role name ${name} is defined more than once (${named.map(where).join(', ')}): not linked` }
  const generated = roles.filter(
    r => r.name === undefined && r.logicalId && isGeneratedName(name, r.logicalId)
  )
  if (generated.length === 1 && generated[0])
    return {
      role: generated[0],
      how: `CloudFormation generated name (stack-${generated[0].logicalId ?? ''}-suffix) of ${where(generated[0])}`
    }
  if (generated.length > 1)
    return {
      why: `the generated name ${name} matches ${generated.length} logical ids (${generated.map(where).join(', ')})`
    }
  return {
    why: `no role named ${name} in the infrastructure code, and no logical id whose generated name it is; name the role literally (RoleName / name)`
  }
}

function linkByState(state: TerraformStateRole, roles: readonly IacRole[]): IacLink {
  if (state.module !== '')
    return {
      why: `the Terraform state has it at ${state.address}, inside ${state.module}, whose code is not read; map it in iac-mapping`
    }
  const found = roles.filter(r => r.location.kind === 'terraform' && r.location.address === state.resource)
  if (found.length === 1 && found[0])
    return { role: found[0], how: `Terraform state (${state.address}): ${where(found[0])}` }
  return found.length === 0
    ? { why: `the Terraform state has it at ${state.address}, which the code under iac-path does not define` }
    : {
        why: `the Terraform state has it at ${state.address}, defined in several folders (${found.map(where).join(', ')}); map it in iac-mapping`
      }
}

function where(role: IacRole): string {
  return `${role.location.file}:${role.location.startLine} (${role.location.address})`
}

function isGeneratedName(name: string, logicalId: string): boolean {
  const marker = `-${logicalId}-`
  const at = name.lastIndexOf(marker)
  return at > 0 && GENERATED_SUFFIX.test(name.slice(at + marker.length))
}
