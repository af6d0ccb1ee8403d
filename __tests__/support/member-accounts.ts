/**
 * The world of a many-accounts test: a hub account and member accounts behind one endpoint, each member with the
 * member role and app roles that grant the same actions; for end-to-end runs, the GitHub emulator and the OIDC token
 * endpoint of a workflow in octo-org/infra.
 */
import type { ReportV1, RoleResult } from '../../src/model.js'
import { AwsAccounts } from './aws-accounts.js'
import type { AwsEmulator, AwsEmulatorOptions } from './aws-emulator.js'
import { GitHubEmulator } from './github-emulator.js'
import { OidcTokenServer } from './oidc-token-server.js'

export const MEMBER_ROLE = 'iam-least-privilege-member'

interface MemberAccountsOptions {
  /** Roles of each member account besides the member role, with no policy (created first). */
  otherRoles?: string[]
  /** The app roles of each member account: each grants `grant` by one inline policy named app. */
  appRoles: string[]
  grant: string[]
  /** The actions Access Analyzer's policy generation reports each app role used. */
  used?: string[]
  emulator?: AwsEmulatorOptions
}

export function memberAccounts(
  hubAccountId: string,
  memberAccountIds: readonly string[],
  options: MemberAccountsOptions
): AwsAccounts {
  const world = new AwsAccounts(hubAccountId, memberAccountIds, options.emulator)
  for (const id of memberAccountIds) {
    const account = world.account(id)
    for (const name of [MEMBER_ROLE, ...(options.otherRoles ?? [])]) account.addRole({ name })
    for (const name of options.appRoles)
      account.addRole({
        name,
        inline: {
          app: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: options.grant, Resource: '*' }]
          }
        },
        ...(options.used
          ? { generation: { actions: options.used.map(action => ({ action })), isComplete: true } }
          : {})
      })
  }
  return world
}

/** The report's roles by the account id in their ARNs. */
export function byAccount(report: ReportV1): Map<string, RoleResult> {
  return new Map(report.roles.map(r => [/::(\d{12}):/.exec(r.arn)?.[1] ?? r.arn, r]))
}

/**
 * GitHub and its OIDC token endpoint for a workflow on main of octo-org/infra. `env` points a run at them and at every
 * service of `world`, with no static keys: the hub's credentials come through OIDC.
 */
export async function startGitHubWithOidc(world: AwsAccounts): Promise<{
  github: GitHubEmulator
  oidc: OidcTokenServer
  env: Record<string, string>
}> {
  const github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
  const oidc = new OidcTokenServer({
    claims: { sub: 'repo:octo-org/infra:ref:refs/heads/main', repository: 'octo-org/infra' }
  })
  const { env: oidcEnv } = await oidc.start()
  const endpoints = Object.entries(world.env()).filter(([name]) => name.startsWith('AWS_ENDPOINT_URL_'))
  return {
    github,
    oidc,
    env: {
      ...Object.fromEntries(endpoints),
      AWS_EC2_METADATA_DISABLED: 'true',
      GITHUB_API_URL: github.url,
      ...oidcEnv
    }
  }
}

/** The member role of `account` does not trust the hub session: AssumeRole is denied. */
export function denyAssumeRole(account: AwsEmulator): void {
  account.fault({ operation: 'AssumeRole', status: 403, code: 'AccessDenied', message: 'not trusted' })
}

/** Access Analyzer's daily policy generation quota of `account` is spent for the next `times` starts. */
export function spendGenerationQuota(account: AwsEmulator, times: number): void {
  account.fault({
    operation: 'StartPolicyGeneration',
    status: 402,
    code: 'ServiceQuotaExceededException',
    message: 'Policy generation daily quota exceeded.',
    times
  })
}
