/** Service-linked and IAM Identity Center roles cannot be edited in IAM: we report on them but propose nothing. */
export function editability(path: string, name: string): { editable: boolean; notEditableReason?: string } {
  if (path.startsWith('/aws-service-role/')) {
    return { editable: false, notEditableReason: 'service-linked role: AWS owns and maintains its policies' }
  }
  if (path.startsWith('/aws-reserved/sso.amazonaws.com/') || name.startsWith('AWSReservedSSO_')) {
    return {
      editable: false,
      notEditableReason: 'IAM Identity Center role: edit its permission set in IAM Identity Center instead'
    }
  }
  return { editable: true }
}

/** AWS managed policies (`arn:<partition>:iam::aws:policy/...`): AWS maintains them; a role can only detach them. */
export function isAwsManagedPolicyArn(arn: string): boolean {
  return /^arn:[\w-]+:iam::aws:/.test(arn)
}
