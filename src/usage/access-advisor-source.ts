/** Usage from IAM last-accessed data (access advisor): one ACTION_LEVEL job per role, no trail and no daily quota. */
import { readLastAccessed } from '../aws/last-accessed.js'
import { awsErrorName, describeAwsError } from '../aws/retry.js'
import { accessAdvisorUsage } from './access-advisor.js'
import { lookbackStart } from './source.js'
import type { UsageProvider } from './source.js'

/** Jobs run at once: IAM has no documented cap, and a few in flight keep a run of many roles short. */
const CONCURRENT_JOBS = 4

/** How late IAM's last-accessed data may be: AWS documents up to four hours. */
const REPORTING_DELAY_MS = 4 * 3_600_000

export const accessAdvisorSource: UsageProvider = {
  open(context) {
    return Promise.resolve({
      async usageOf(roleArns) {
        if (roleArns.length === 0) return []
        const { config, startedAt } = context
        // IAM reports use up to four hours after it happens: the last four hours are not covered.
        const end = new Date(startedAt.getTime() - REPORTING_DELAY_MS)
        const window = {
          start: lookbackStart(startedAt, config.lookbackDays).toISOString(),
          end: end.toISOString()
        }
        const client = await context.aws.iam()
        const read = async (roleArn: string) => {
          try {
            const report = await readLastAccessed(client, roleArn, 'ACTION_LEVEL', {
              deadline: context.deadline,
              ...(context.signal ? { signal: context.signal } : {}),
              ...(context.sleep ? { sleep: context.sleep } : {})
            })
            return { usage: accessAdvisorUsage(roleArn, report, window) }
          } catch (e) {
            const denied = awsErrorName(e) === 'AccessDenied'
            const hint = denied
              ? ' (allow iam:GenerateServiceLastAccessedDetails and iam:GetServiceLastAccessedDetails to the role the action uses)'
              : ''
            return {
              outcome: {
                status: 'failed' as const,
                reason: `access advisor: ${describeAwsError(e)}${hint}`
              }
            }
          }
        }
        const outcomes = new Map<number, Awaited<ReturnType<typeof read>>>()
        let next = 0
        const worker = async () => {
          while (next < roleArns.length) {
            const index = next++
            outcomes.set(index, await read(roleArns[index] ?? ''))
          }
        }
        await Promise.all(Array.from({ length: Math.min(CONCURRENT_JOBS, roleArns.length) }, worker))
        return roleArns.map(
          (_, i) =>
            outcomes.get(i) ?? { outcome: { status: 'failed' as const, reason: 'internal: not read' } }
        )
      }
    })
  }
}
