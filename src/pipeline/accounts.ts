/**
 * The roles of many accounts: each account is selected and read with its own session, up to account-concurrency
 * accounts at once (so each has its own Access Analyzer queue and quota). An account that cannot be reached fails its
 * own roles with the reason; the others go on.
 */
import { accountConfig } from '../aws/accounts.js'
import type { AccountPlan } from '../aws/accounts.js'
import type { AwsSession } from '../aws/session.js'
import type { Config } from '../config.js'
import { errorMessage } from '../error-message.js'
import type { RoleSelector } from '../model.js'
import { accountFromArn, selectorMatches } from '../roles.js'
import type { RunFiles } from './files.js'
import type { Logger } from '../logger.js'
import type { RoleCase } from './role-case.js'
import { selectCases } from './select.js'
import type { GrantSources } from './select.js'

interface AccountsContext {
  config: Config
  files: RunFiles
  log: Logger
  sources: GrantSources
  /** Reads once, for the roles of every account, what the run shares (log records); before any account's own reads. */
  readShared: (cases: RoleCase[]) => Promise<void>
  /** Reads the usage of one account's roles, with that account's session (and what readShared read). */
  readUsage: (config: Config, aws: AwsSession, cases: RoleCase[]) => Promise<void>
}

/** Runs `task` on every item, at most `limit` at once; results in the items' order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<R>
): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++
      results[index] = await task(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** The label of a selector's roles in one account, for a failure that names no single role. */
function selectorIn(selector: RoleSelector, accountId: string): string {
  return selector.kind === 'arn' ? selector.input : `arn:aws:iam::${accountId}:role/${selector.input}`
}

/** Every selected role of every account, each with the session of its account. */
export async function accountCases(
  plan: AccountPlan,
  ctx: AccountsContext
): Promise<{ cases: RoleCase[]; sessionOf: (c: RoleCase) => AwsSession }> {
  const { config, log } = ctx
  const concurrency = config.accountConcurrency ?? 10
  const selected = await mapConcurrent(plan.accounts, concurrency, async accountId => {
    const aws = plan.sessionOf(accountId)
    const scoped = accountConfig(config, plan, accountId)
    try {
      await aws.resolvedCredentials()
    } catch (error) {
      const reason = `account ${accountId}: ${errorMessage(error)}`
      log.warning(reason)
      const failed = scoped.roles.map((s): RoleCase => ({
        arn: selectorIn(s, accountId),
        name: s.input,
        accountId,
        outcome: { status: 'failed', reason }
      }))
      return { cases: failed, read: async () => {} }
    }
    const rolesSeen = ctx.sources.rolesSeen?.filter(arn => accountFromArn(arn) === accountId)
    const cases = await selectCases(
      { config: scoped, aws, files: ctx.files, log },
      { ...ctx.sources, ...(rolesSeen ? { rolesSeen } : {}) }
    )
    for (const c of cases) if (!c.accountId) c.accountId = accountId
    return { cases, read: () => ctx.readUsage(scoped, aws, cases) }
  })
  // What every account shares is read once for all their roles (one Athena query, one scan of log files).
  await ctx.readShared(selected.flatMap(s => s.cases))
  await mapConcurrent(selected, concurrency, s => s.read())
  const perAccount = selected.map(s => s.cases)
  const sessions = new Map<RoleCase, AwsSession>()
  perAccount.forEach((cases, i) => {
    const session = plan.sessionOf(plan.accounts[i] ?? '')
    for (const c of cases) sessions.set(c, session)
  })
  return {
    cases: withoutPartialMisses(config.roles, perAccount.flat()),
    sessionOf: c => sessions.get(c) ?? plan.hub
  }
}

/**
 * A name or pattern applies to every account: that it matches nothing in some of them is no failure, as long as it
 * matches a role somewhere. One that matches nowhere fails once, naming the accounts searched.
 */
function withoutPartialMisses(selectors: readonly RoleSelector[], cases: RoleCase[]): RoleCase[] {
  const out: RoleCase[] = []
  const missed = new Map<string, string[]>()
  for (const c of cases) {
    const selector = selectors.find(s => s.kind !== 'arn' && s.input === c.arn)
    if (!selector || c.outcome?.status !== 'failed') out.push(c)
    else if (NOT_FOUND.test(c.outcome.reason)) missed.set(c.arn, [...(missed.get(c.arn) ?? []), c.accountId])
    // Any other failure (access denied, throttled) is that account's own.
    else out.push({ ...c, arn: selectorIn(selector, c.accountId) })
  }
  for (const [input, accounts] of missed) {
    const selector = selectors.find(s => s.input === input)
    if (!selector || out.some(c => c.accountId !== '' && selectorMatches(selector, c))) continue
    const what =
      selector.kind === 'pattern'
        ? `no role name matches the pattern "${input}"`
        : `role "${input}" does not exist`
    out.push({
      arn: input,
      name: input,
      accountId: '',
      outcome: { status: 'failed', reason: `${what} in any of the accounts ${accounts.join(', ')}` }
    })
  }
  return out
}

const NOT_FOUND = /no role name matches the pattern|does not exist in this account/
