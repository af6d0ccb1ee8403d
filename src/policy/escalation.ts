/**
 * Actions that open a privilege-escalation path when granted broadly. The list follows the public research by
 * Rhino Security Labs, "AWS IAM Privilege Escalation – Methods and Mitigation" (Spencer Gietzen, 2018, 21 methods):
 * each action below is a step of one of those methods (for example iam:CreatePolicyVersion alone, or iam:PassRole
 * with lambda:CreateFunction and lambda:InvokeFunction).
 */
import type { CatalogIndex } from './catalog.js'

const ESCALATION_ACTIONS = [
  'iam:AddUserToGroup',
  'iam:AttachGroupPolicy',
  'iam:AttachRolePolicy',
  'iam:AttachUserPolicy',
  'iam:CreateAccessKey',
  'iam:CreateLoginProfile',
  'iam:CreatePolicyVersion',
  'iam:PassRole',
  'iam:PutGroupPolicy',
  'iam:PutRolePolicy',
  'iam:PutUserPolicy',
  'iam:SetDefaultPolicyVersion',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateLoginProfile',
  'sts:AssumeRole',
  'ec2:RunInstances',
  'lambda:CreateFunction',
  'lambda:CreateEventSourceMapping',
  'lambda:InvokeFunction',
  'lambda:UpdateFunctionCode',
  'glue:CreateDevEndpoint',
  'glue:UpdateDevEndpoint',
  'cloudformation:CreateStack',
  'datapipeline:CreatePipeline',
  'datapipeline:PutPipelineDefinition'
] as const

const LOWER = new Set<string>(ESCALATION_ACTIONS.map(a => a.toLowerCase()))

export function isPrivilegeEscalation(action: string): boolean {
  return LOWER.has(action.toLowerCase())
}

/** Catalog ids of the escalation actions. */
export function escalationIds(catalog: CatalogIndex): Set<number> {
  const ids = new Set<number>()
  for (const action of ESCALATION_ACTIONS) {
    const id = catalog.idOf(action)
    if (id !== undefined) ids.add(id)
  }
  return ids
}
