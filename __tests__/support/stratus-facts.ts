/**
 * What the real Stratus Red Team roles did in the sample CloudTrail records (examples/data), written from the data:
 * the authorized calls only, in catalog spelling, sorted.
 */

/** The SSM agent's calls on the steal-credentials role's instance. */
export const STEAL_CREDENTIALS_SSM_CALLS = [
  'ssm:GetDocument',
  'ssm:ListInstanceAssociations',
  'ssm:PutComplianceItems',
  'ssm:PutInventory',
  'ssm:UpdateInstanceAssociationStatus',
  'ssm:UpdateInstanceInformation'
]

/** Everything the steal-credentials role used (sts:GetCallerIdentity needs no permission and is not usage). */
export const STEAL_CREDENTIALS_USED = ['ec2:DescribeInstances', ...STEAL_CREDENTIALS_SSM_CALLS]

/** The SSM agent's calls on the enumerate role's instance. */
export const ENUMERATE_SSM_CALLS = [
  'ssm:PutComplianceItems',
  'ssm:PutInventory',
  'ssm:UpdateInstanceAssociationStatus',
  'ssm:UpdateInstanceInformation'
]
