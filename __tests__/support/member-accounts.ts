/**
 * The world of a many-accounts test: a hub account and member accounts behind one endpoint, each member with the
 * member role and app roles that grant the same actions; for end-to-end runs, the GitHub emulator and the OIDC token
 * endpoint of a workflow in octo-org/infra.
 */
import type { ReportV1, RoleResult } from '../../src/model.js'
import { AwsAccounts } from './aws-accounts.js'
import type { AwsEmulatorOptions } from './aws-emulator.js'
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

/** GitHub and its OIDC token endpoint for a workflow on main of octo-org/infra; `env` points a run at both. */
export async function startGitHubWithOidc(): Promise<{
  github: GitHubEmulator
  oidc: OidcTokenServer
  env: Record<string, string>
}> {
  const github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
  const oidc = new OidcTokenServer({
    claims: { sub: 'repo:octo-org/infra:ref:refs/heads/main', repository: 'octo-org/infra' }
  })
  const { env } = await oidc.start()
  return { github, oidc, env: { GITHUB_API_URL: github.url, ...env } }
}
