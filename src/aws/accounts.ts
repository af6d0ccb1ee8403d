/**
 * Many accounts in one run: which accounts, and the AWS session of each. An account is reached with one OIDC
 * exchange of its own (role-to-assume with {account}) or with member-role assumed from the hub session (role-to-assume
 * without {account}, or the credentials already in the environment).
 */
import { ACCOUNT_PLACEHOLDER } from '../config.js'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { RoleSelector } from '../model.js'
import { assumeMemberRole } from './member-role.js'
import { activeOrganizationAccounts } from './organizations.js'
import type { AwsSession } from './session.js'
import { sessionName } from './session-name.js'

export interface AccountPlan {
  /** Sorted account ids. */
  accounts: string[]
  /** The session of the run as a whole (the organization listing, the trail, shared usage sources). */
  hub: AwsSession
  sessionOf(accountId: string): AwsSession
  /** The selectors that apply to one account: its role ARNs, and every name and pattern. */
  selectorsOf(accountId: string): RoleSelector[]
}

function withAccount(template: string, accountId: string): string {
  return template.split(ACCOUNT_PLACEHOLDER).join(accountId)
}

/** Whether the configuration spans accounts (each reached with credentials of its own). */
export function spansAccounts(config: Config): boolean {
  return (
    config.memberRole !== undefined ||
    config.roleToAssume?.includes(ACCOUNT_PLACEHOLDER) === true ||
    config.accounts !== undefined
  )
}

/** The config of one account: its selectors, and {account} filled in where an input holds it. */
export function accountConfig(config: Config, plan: AccountPlan, accountId: string): Config {
  return {
    ...config,
    roles: plan.selectorsOf(accountId),
    ...(config.accessRoleArn ? { accessRoleArn: withAccount(config.accessRoleArn, accountId) } : {})
  }
}

export async function planAccounts(config: Config, hub: AwsSession, log: Logger): Promise<AccountPlan> {
  const oidcTemplate = config.roleToAssume?.includes(ACCOUNT_PLACEHOLDER) ? config.roleToAssume : undefined
  // With one OIDC exchange per account there is no hub role: the environment's credentials (if any) stand in.
  const hubSession = oidcTemplate ? hub.derive(undefined) : hub
  const fromRoles = config.roles.flatMap(s => (s.kind === 'arn' ? [s.accountId] : []))
  const listed =
    config.accounts === 'organization'
      ? await activeOrganizationAccounts(config.awsRegion, await hubSession.resolvedCredentials())
      : (config.accounts ?? [])
  if (config.accounts === 'organization')
    log.info(`accounts: organization lists ${listed.length} active account(s)`)
  const accounts = [...new Set([...listed, ...fromRoles])].sort()
  const sessions = new Map<string, AwsSession>()
  const sessionOf = (accountId: string): AwsSession => {
    let session = sessions.get(accountId)
    if (session) return session
    if (oidcTemplate) {
      session = hub.derive(withAccount(oidcTemplate, accountId))
    } else {
      const memberRole = withAccount(config.memberRole ?? '', accountId)
      session = hub.derive(undefined, async env =>
        assumeMemberRole({
          roleArn: memberRole,
          hub: await hubSession.resolvedCredentials(),
          sessionName: sessionName(config.roleSessionName, env?.GITHUB_REPOSITORY, env?.GITHUB_RUN_ID),
          durationSeconds: config.roleDurationSeconds,
          region: config.awsRegion,
          repository: env?.GITHUB_REPOSITORY,
          runId: env?.GITHUB_RUN_ID,
          log
        })
      )
    }
    sessions.set(accountId, session)
    return session
  }
  return {
    accounts,
    hub: hubSession,
    sessionOf,
    selectorsOf: accountId => config.roles.filter(s => s.kind !== 'arn' || s.accountId === accountId)
  }
}
