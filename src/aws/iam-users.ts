/** IAM users named by `users` (or `user/` ARNs in `roles`): resolved with GetUser, patterns with one ListUsers. */
import { GetUserCommand, paginateListUsers } from '@aws-sdk/client-iam'
import type { IAMClient, User } from '@aws-sdk/client-iam'
import type { RoleSelector } from '../model.js'
import { accountFromArn, rolePatternMatch } from '../roles.js'
import type { ResolvedRole } from './iam.js'
import { awsErrorName, describeAwsError } from './retry.js'

function toResolved(user: User): ResolvedRole {
  const arn = user.Arn ?? ''
  return {
    arn,
    name: user.UserName ?? '',
    path: user.Path ?? '/',
    accountId: accountFromArn(arn),
    editable: true
  }
}

/** The users the selectors name, and the selectors that name none (with the reason). */
export async function resolveUsers(
  client: IAMClient,
  selectors: readonly RoleSelector[]
): Promise<{ users: ResolvedRole[]; failures: { input: string; arn?: string; reason: string }[] }> {
  const users = new Map<string, ResolvedRole>()
  const failures: { input: string; arn?: string; reason: string }[] = []
  let all: User[] | undefined
  for (const selector of selectors) {
    try {
      if (selector.kind === 'pattern') {
        if (!all) {
          all = []
          for await (const page of paginateListUsers({ client }, {})) all.push(...(page.Users ?? []))
        }
        const matched = all.filter(u => rolePatternMatch(selector.input, u.UserName ?? ''))
        if (matched.length === 0)
          failures.push({
            input: selector.input,
            reason: `no user name matches the pattern "${selector.input}"`
          })
        for (const u of matched) users.set(u.Arn ?? '', toResolved(u))
        continue
      }
      const name = selector.kind === 'arn' ? selector.name : selector.input
      const { User: user } = await client.send(new GetUserCommand({ UserName: name }))
      if (!user?.Arn) throw new Error(`GetUser returned no user for "${name}"`)
      if (selector.kind === 'arn' && user.Arn !== selector.input) {
        failures.push({
          input: selector.input,
          arn: selector.input,
          reason: `the credentials reach ${user.Arn}, not ${selector.input}: check the account id and path in the ARN`
        })
        continue
      }
      users.set(user.Arn, toResolved(user))
    } catch (error) {
      const reason =
        awsErrorName(error) === 'NoSuchEntityException'
          ? `user "${selector.input}" does not exist in this account (IAM NoSuchEntity)`
          : `could not read user "${selector.input}": ${describeAwsError(error)}; grant iam:GetUser, iam:ListUsers, iam:ListAttachedUserPolicies, iam:ListUserPolicies, iam:GetUserPolicy`
      failures.push({
        input: selector.input,
        ...(selector.kind === 'arn' ? { arn: selector.input } : {}),
        reason
      })
    }
  }
  return { users: [...users.values()], failures }
}
