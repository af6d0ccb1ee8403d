/**
 * Hand-built reports for the publishing tests, modelled on the Stratus Red Team roles in examples/data:
 * the EC2 steal-credentials role (inline ec2:Describe* + AmazonSSMManagedInstanceCore, SSM agent calls only),
 * a role whose calls were all denied (not enough evidence), a failed role and an IAM Identity Center role.
 */
import { NO_CONDITIONAL, NO_UNOBSERVABLE, compactUnobservable } from '../../src/policy/action-groups.js'
import { NO_EXCESS, compactExcess } from '../../src/policy/excess.js'
import type { ExcessAction, ReportV1, RoleResult } from '../../src/model.js'
import { buildReport } from '../../src/report/json.js'
import { STEAL_CREDENTIALS_USED } from './stratus-facts.js'

const WINDOW = { start: '2026-08-29T00:00:00Z', end: '2026-11-27T00:00:00Z' }
const SSM_CORE = 'AmazonSSMManagedInstanceCore'

const SSM_CORE_EXCESS: ExcessAction[] = [
  ['ssm:DescribeAssociation', 'Read'],
  ['ssm:DescribeDocument', 'Read'],
  ['ssm:GetDeployablePatchSnapshotForInstance', 'Read'],
  ['ssm:GetManifest', 'Read'],
  ['ssm:GetParameter', 'Read'],
  ['ssm:GetParameters', 'Read'],
  ['ssm:ListAssociations', 'List'],
  ['ssm:PutConfigurePackageResult', 'Write'],
  ['ssm:UpdateAssociationStatus', 'Write'],
  ['ssmmessages:CreateControlChannel', 'Write'],
  ['ssmmessages:CreateDataChannel', 'Write'],
  ['ssmmessages:OpenControlChannel', 'Write'],
  ['ssmmessages:OpenDataChannel', 'Write'],
  ['ec2messages:AcknowledgeMessage', 'Write'],
  ['ec2messages:DeleteMessage', 'Write'],
  ['ec2messages:FailMessage', 'Write'],
  ['ec2messages:GetEndpoint', 'Write'],
  ['ec2messages:GetMessages', 'Write'],
  ['ec2messages:SendReply', 'Write']
].map(([action, accessLevel]) => ({
  action: action as string,
  accessLevel: accessLevel as ExcessAction['accessLevel'],
  grantedBy: [SSM_CORE]
}))

/** A role's report entry before any verdict: failed, nothing used, granted or proposed. */
export function blankRole(arn = 'arn:aws:iam::111122223333:role/app'): RoleResult {
  return {
    arn,
    status: 'failed',
    window: { start: '', end: '' },
    complete: true,
    used: [],
    excess: NO_EXCESS,
    unobservable: NO_UNOBSERVABLE,
    conditional: NO_CONDITIONAL,
    proposed: [],
    editable: true
  }
}

export function stealCredentialsRole(): RoleResult {
  return {
    arn: 'arn:aws:iam::111122223333:role/stratus-red-team-ec2-steal-credentials-role',
    status: 'analyzed',
    window: WINDOW,
    complete: true,
    used: [...STEAL_CREDENTIALS_USED],
    excess: compactExcess([
      ...SSM_CORE_EXCESS,
      { action: 'ec2:DescribeVpcs', accessLevel: 'List', grantedBy: ['stratus-ec2-describe#DescribeAll'] },
      {
        action: 'ec2:DescribeSnapshots',
        accessLevel: 'List',
        grantedBy: ['stratus-ec2-describe#DescribeAll']
      }
    ]),
    unobservable: NO_UNOBSERVABLE,
    conditional: NO_CONDITIONAL,
    proposed: [
      {
        name: 'stratus-red-team-ec2-steal-credentials-role-least-privilege',
        characters: 300,
        document: {
          Version: '2012-10-17',
          Statement: [
            {
              Sid: 'Used',
              Effect: 'Allow',
              Action: [...STEAL_CREDENTIALS_USED],
              Resource: '*'
            }
          ]
        }
      }
    ],
    checks: { validatePolicy: [], checkNoNewAccess: 'PASS', evaluator: 'PASS' },
    editable: true,
    evidence: {
      filesRead: 12,
      filesSkipped: [],
      eventsMatched: 431,
      deniedCalls: 0,
      permissionlessCalls: 3,
      unmapped: [],
      notes: ['sts:GetCallerIdentity needs no permission and is not counted as usage']
    },
    diff: '--- current\n+++ proposed\n@@ -1,3 +1,3 @@\n-    "Action": "ec2:Describe*",\n+    "Action": "ec2:DescribeInstances",\n',
    policyFile: 'iam/least-privilege/111122223333/stratus-red-team-ec2-steal-credentials-role.json',
    policyFileInRepository: true
  }
}

export function deniedOnlyRole(): RoleResult {
  return {
    ...blankRole('arn:aws:iam::111122223333:role/stratus-red-team-get-usr-data-role'),
    status: 'insufficient-evidence',
    reason: 'every call in the window was denied (Client.UnauthorizedOperation): zero authorized events',
    window: WINDOW,
    evidence: { filesRead: 12, eventsMatched: 4, deniedCalls: 4, notes: [] }
  }
}

export function failedRole(): RoleResult {
  return {
    ...blankRole('arn:aws:iam::111122223333:role/stratus-red-team-leave-org-role'),
    reason: 'IAM GetRolePolicy failed: AccessDenied (the analysis role lacks iam:GetRolePolicy)',
    window: WINDOW,
    complete: false
  }
}

export function ssoRole(): RoleResult {
  return {
    arn: 'arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_AdministratorAccess_0123456789abcdef',
    status: 'analyzed',
    window: WINDOW,
    complete: true,
    used: ['bedrock:InvokeModel'],
    excess: compactExcess([
      {
        action: 'iam:PassRole',
        accessLevel: 'Write',
        grantedBy: ['AdministratorAccess'],
        risk: 'privilege-escalation'
      },
      {
        action: 'iam:CreateAccessKey',
        accessLevel: 'Write',
        grantedBy: ['AdministratorAccess'],
        risk: 'privilege-escalation'
      },
      {
        action: 'iam:PutRolePolicy',
        accessLevel: 'Permissions management',
        grantedBy: ['AdministratorAccess'],
        risk: 'privilege-escalation'
      },
      { action: 's3:PutBucketTagging', accessLevel: 'Tagging', grantedBy: ['AdministratorAccess'] }
    ]),
    unobservable: compactUnobservable([
      { action: 's3:GetObject', reason: 'S3 data events are not logged by the trail' }
    ]),
    conditional: NO_CONDITIONAL,
    proposed: [],
    editable: false,
    notEditableReason: 'IAM Identity Center role: change its permission set instead'
  }
}

/** Steal-credentials, denied-only, failed and SSO roles, from CloudTrail. */
export function mixedReport(): ReportV1 {
  return buildReport(
    [stealCredentialsRole(), deniedOnlyRole(), failedRole(), ssoRole()],
    'cloudtrail',
    '2026-11-27T00:00:00Z'
  )
}

/** One analyzed role that used everything it is granted. */
/** A role result without its policy diff. */
export function withoutDiff<T extends { diff?: string }>(role: T): Omit<T, 'diff'> {
  const { diff: _diff, ...rest } = role
  return rest
}

export function cleanReport(): ReportV1 {
  const role = stealCredentialsRole()
  return buildReport([{ ...withoutDiff(role), excess: NO_EXCESS }], 'cloudtrail', '2026-11-27T00:00:00Z')
}
