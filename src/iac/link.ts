/**
 * Which role of the infrastructure code a deployed role is: by the iac-mapping file, by the Terraform state (address
 * ↔ ARN), by the role's `aws:cloudformation:*` tags (stack and logical id), by its literal name, or by the name
 * CloudFormation generates from the stack and the logical id (`Stack-LogicalId-SUFFIX`), in that order. Each link
 * says how it was made, and a role that cannot be linked says why.
 *
 * Which template is which stack: a CloudFormation role of the code whose logical id is the role's is taken when it is
 * the only one; when several templates define that logical id, the one whose file is named after the stack
 * (`<stack>.yaml`, `<stack>.template.json`, ...) is taken, and with none or several so named the role is not linked.
 */
import type { IacMapping } from './mapping.js'
import type { IacRole } from './model.js'
import type { TerraformStateRole } from './terraform/state.js'

/** What else is known about a deployed role than its name. */
export interface LinkHints {
  arn: string
  mapping?: IacMapping
  state?: readonly TerraformStateRole[]
  /** The deployed role's tags (IAM GetRole or the export): CloudFormation tags its roles with stack and logical id. */
  tags?: Readonly<Record<string, string>>
}

const STACK_NAME_TAG = 'aws:cloudformation:stack-name'
const LOGICAL_ID_TAG = 'aws:cloudformation:logical-id'

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
  const stackName = hints?.tags?.[STACK_NAME_TAG]
  const logicalId = hints?.tags?.[LOGICAL_ID_TAG]
  if (stackName && logicalId) {
    const tagged = roles.filter(r => r.location.kind === 'cloudformation' && r.logicalId === logicalId)
    if (tagged.length > 0)
      return linkInStack(
        tagged,
        stackName,
        `tags ${STACK_NAME_TAG}=${stackName}, ${LOGICAL_ID_TAG}=${logicalId}`
      )
  }
  const named = roles.filter(r => r.name === name)
  if (named.length === 1 && named[0])
    return { role: named[0], how: `role name ${name} written in ${where(named[0])}` }
  if (named.length > 1)
    return { why: `role name ${name} is defined more than once (${named.map(where).join(', ')}): not linked` }
  const generated = roles.filter(
    r => r.name === undefined && r.logicalId && generatedStack(name, r.logicalId) !== undefined
  )
  const first = generated[0]
  if (first) {
    const ids = new Set(generated.map(r => r.logicalId))
    if (ids.size > 1)
      return {
        why: `the generated name ${name} matches ${ids.size} logical ids (${generated.map(where).join(', ')})`
      }
    const stack = generatedStack(name, first.logicalId ?? '') ?? ''
    return linkInStack(
      generated,
      stack,
      `CloudFormation generated name (${stack}-${first.logicalId ?? ''}-suffix)`
    )
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

/** The stack of a name CloudFormation generated for `logicalId` (`Stack-LogicalId-SUFFIX`), if it is one. */
function generatedStack(name: string, logicalId: string): string | undefined {
  const marker = `-${logicalId}-`
  const at = name.lastIndexOf(marker)
  return at > 0 && GENERATED_SUFFIX.test(name.slice(at + marker.length)) ? name.slice(0, at) : undefined
}

/**
 * One of the roles of the same logical id in different templates: the only one, or the only one whose template is
 * named after the stack. Anything else is ambiguous and not linked.
 */
function linkInStack(candidates: readonly IacRole[], stack: string, by: string): IacLink {
  const only = candidates.length === 1 ? candidates[0] : undefined
  if (only) return { role: only, how: `${by}: ${where(only)}` }
  const named = candidates.filter(r => templateStem(r.location.file) === stack)
  const one = named.length === 1 ? named[0] : undefined
  if (one) return { role: one, how: `${by}: ${where(one)}, the template named after stack ${stack}` }
  return {
    why: `${by}: ${candidates.length} templates define the logical id (${candidates.map(where).join(', ')}) and ${named.length === 0 ? 'none is' : 'several are'} named after stack ${stack}; name the template ${stack}.yaml or map the role in iac-mapping`
  }
}

/** `infra/app-prod.template.json` → `app-prod`. */
function templateStem(file: string): string {
  const base = file.slice(file.lastIndexOf('/') + 1)
  return base.replace(/(\.template)?\.(ya?ml|json|template)$/i, '')
}
