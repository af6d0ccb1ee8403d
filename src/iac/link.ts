/**
 * Which role of the infrastructure code a deployed role is: by its literal name, or by the name CloudFormation
 * generates from the stack and the logical id (`Stack-LogicalId-SUFFIX`). Each link says how it was made, and a role
 * that cannot be linked says why.
 */
import type { IacRole } from './model.js'

export type IacLink = { role: IacRole; how: string } | { role?: undefined; why: string }

/** CloudFormation appends a 12- or 13-character suffix of upper-case letters and digits. */
const GENERATED_SUFFIX = /^[A-Z0-9]{12,13}$/

export function linkRole(name: string, roles: readonly IacRole[]): IacLink {
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

function where(role: IacRole): string {
  return `${role.location.file}:${role.location.startLine} (${role.location.address})`
}

function isGeneratedName(name: string, logicalId: string): boolean {
  const marker = `-${logicalId}-`
  const at = name.lastIndexOf(marker)
  return at > 0 && GENERATED_SUFFIX.test(name.slice(at + marker.length))
}
