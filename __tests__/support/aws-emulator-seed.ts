/**
 * The seeded account: the Stratus Red Team roles of the sample CloudTrail records, with their real granted policies
 * (AWS managed documents from examples/data/managed-policies, inline documents as the public Terraform wrote them),
 * and generated policies that reflect what each role really did in those records. Access Analyzer counts denied calls
 * as used, so the roles whose every call was denied still show those actions.
 */
import { readFileSync } from 'node:fs'
import type { AwsEmulator } from './aws-emulator.js'

const MANAGED_DIR = new URL('../../examples/data/managed-policies/', import.meta.url)

/** The document of `aws iam get-policy-version` output saved in examples/data/managed-policies. */
export function awsManagedDocument(name: string): object {
  const text = readFileSync(new URL(`${name}.json`, MANAGED_DIR), 'utf8')
  return (JSON.parse(text) as { PolicyVersion: { Document: object } }).PolicyVersion.Document
}

const allow = (Action: string | string[], Resource: string | string[] = '*'): object => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource }]
})

export const INSTANCE = 'arn:aws:ec2:${Region}:${Account}:instance/${InstanceId}'
export const SSM_DOCUMENT = 'arn:aws:ssm:${Region}:${Account}:document/${DocumentName}'
const SUBNET = 'arn:aws:ec2:${Region}:${Account}:subnet/${SubnetId}'
const SECURITY_GROUP = 'arn:aws:ec2:${Region}:${Account}:security-group/${SecurityGroupId}'
const NETWORK_INTERFACE = 'arn:aws:ec2:${Region}:${Account}:network-interface/${NetworkInterfaceId}'
const VOLUME = 'arn:aws:ec2:${Region}:${Account}:volume/${VolumeId}'
const IMAGE = 'arn:aws:ec2:${Region}::image/${ImageId}'

/** What the SSM agent on the instances called (the managed-instance role's traffic in the records). */
const SSM_AGENT_CALLS = [
  { action: 'ssm:GetDocument', resources: [SSM_DOCUMENT] },
  { action: 'ssm:ListInstanceAssociations' },
  { action: 'ssm:PutComplianceItems', resources: [INSTANCE] },
  { action: 'ssm:PutInventory', resources: [INSTANCE] },
  { action: 'ssm:UpdateInstanceAssociationStatus', resources: [INSTANCE] },
  { action: 'ssm:UpdateInstanceInformation', resources: [INSTANCE] }
]

export const STRATUS_ROLES = {
  stealCredentials: 'stratus-red-team-ec2-steal-credentials-role',
  enumerate: 'stratus-red-team-ec2-enumerate-role',
  getPasswordData: 'stratus-red-team-ec2-get-password-data-role',
  getUserData: 'stratus-red-team-get-usr-data-role',
  leaveOrg: 'stratus-red-team-leave-org-role',
  launchUnusualInstances: 'stratus-red-team-ec2lui-role-idtzskbvtd',
  rdsServiceLinked: 'AWSServiceRoleForRDS',
  sso: 'AWSReservedSSO_account-admin_599c9e90e350d2ff',
  githubActions: 'iam-least-privilege-gha'
} as const

export function seedStratusAccount(emulator: AwsEmulator): void {
  const account = emulator.accountId
  const ssmCore = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'
  const admin = 'arn:aws:iam::aws:policy/AdministratorAccess'
  const rdsPolicy = 'arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy'
  const luiPolicy = `arn:aws:iam::${account}:policy/stratus-red-team-ec2lui-policy-idtzskbvtd`
  emulator.addManagedPolicy({ arn: ssmCore, document: awsManagedDocument('AmazonSSMManagedInstanceCore') })
  emulator.addManagedPolicy({ arn: admin, document: awsManagedDocument('AdministratorAccess') })
  // Not shipped in examples/data: a stand-in holding only the network-interface actions the records show.
  emulator.addManagedPolicy({
    arn: rdsPolicy,
    path: '/aws-service-role/',
    document: allow([
      'ec2:CreateNetworkInterface',
      'ec2:DeleteNetworkInterface',
      'ec2:DescribeSubnets',
      'ec2:DescribeVpcs'
    ])
  })
  emulator.addManagedPolicy({ arn: luiPolicy, document: allow('ec2:DescribeInstances') })

  emulator.addRole({
    name: STRATUS_ROLES.stealCredentials,
    inline: { 'ec2-describe': allow('ec2:Describe*') },
    attached: [ssmCore],
    generation: {
      actions: [{ action: 'ec2:DescribeInstances' }, ...SSM_AGENT_CALLS, { action: 'sts:GetCallerIdentity' }],
      isComplete: true
    }
  })
  emulator.addRole({
    name: STRATUS_ROLES.enumerate,
    attached: [ssmCore],
    generation: { actions: SSM_AGENT_CALLS, isComplete: true }
  })
  emulator.addRole({
    name: STRATUS_ROLES.getPasswordData,
    inline: { 'ec2-describe': allow('ec2:Describe*') },
    // Every call was denied (Client.UnauthorizedOperation); Access Analyzer lists it anyway.
    generation: { actions: [{ action: 'ec2:GetPasswordData', resources: [INSTANCE] }], isComplete: true }
  })
  emulator.addRole({
    name: STRATUS_ROLES.getUserData,
    inline: { 'ec2-describe-instances': allow('ec2:DescribeInstances') },
    generation: {
      actions: [{ action: 'ec2:DescribeInstanceAttribute', resources: [INSTANCE] }],
      isComplete: true
    }
  })
  emulator.addRole({
    name: STRATUS_ROLES.leaveOrg,
    inline: { 'ec2-describe': allow('ec2:Describe*') },
    generation: { actions: [{ action: 'organizations:LeaveOrganization' }], isComplete: true }
  })
  emulator.addRole({
    name: STRATUS_ROLES.launchUnusualInstances,
    attached: [luiPolicy],
    // RunInstances failed with Client.VcpuLimitExceeded: authorized, so really used.
    generation: {
      actions: [
        {
          action: 'ec2:RunInstances',
          resources: [INSTANCE, SUBNET, SECURITY_GROUP, VOLUME, IMAGE, NETWORK_INTERFACE]
        }
      ],
      isComplete: true
    }
  })
  emulator.addRole({
    name: STRATUS_ROLES.rdsServiceLinked,
    path: '/aws-service-role/rds.amazonaws.com/',
    attached: [rdsPolicy],
    generation: {
      actions: [
        { action: 'ec2:CreateNetworkInterface', resources: [NETWORK_INTERFACE, SUBNET, SECURITY_GROUP] },
        { action: 'ec2:DeleteNetworkInterface', resources: [NETWORK_INTERFACE] },
        { action: 'ec2:DescribeSubnets' },
        { action: 'ec2:DescribeVpcs' }
      ],
      isComplete: true
    }
  })
  emulator.addRole({ name: STRATUS_ROLES.sso, path: '/aws-reserved/sso.amazonaws.com/', attached: [admin] })
  emulator.addRole({
    name: STRATUS_ROLES.githubActions,
    inline: { 'access-analyzer': allow('access-analyzer:*') }
  })
}
