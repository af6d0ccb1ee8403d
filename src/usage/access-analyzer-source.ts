/** Usage from IAM Access Analyzer policy generation: one job per role over the trail, under the service's quotas. */
import { runPolicyGenerations } from './generation-scheduler.js'
import { DAY_MS } from '../model.js'
import { lookbackStart } from './source.js'
import type { UsageProvider } from './source.js'

export const accessAnalyzerSource: UsageProvider = {
  open(context) {
    return Promise.resolve({
      async usageOf(roleArns) {
        if (roleArns.length === 0) return []
        const { config, startedAt } = context
        const window = {
          // Policy generation reads at most 90 days; a longer lookback-days is access advisor's (config.ts).
          start: lookbackStart(startedAt, Math.min(config.lookbackDays, 90)).toISOString(),
          end: startedAt.toISOString()
        }
        const outcomes = await runPolicyGenerations(
          roleArns.map(roleArn => ({
            roleArn,
            trailArn: config.trailArn ?? '',
            regions: [...config.trailRegions],
            accessRoleArn: config.accessRoleArn ?? '',
            window
          })),
          {
            client: await context.aws.analyzer(),
            log: context.log,
            deadline: context.deadline,
            ...(config.reanalyzeAfterDays ? { reuseToleranceMs: config.reanalyzeAfterDays * DAY_MS } : {}),
            ...(context.signal ? { signal: context.signal } : {}),
            ...(context.sleep ? { sleep: context.sleep } : {}),
            ...(context.now ? { now: context.now } : {}),
            ...(context.judged ? { judged: context.judged } : {})
          }
        )
        return outcomes.map(o =>
          o.status === 'succeeded' && o.usage
            ? { usage: o.usage }
            : {
                outcome: {
                  status: o.status === 'skipped' ? 'skipped' : 'failed',
                  reason: o.reason ?? `policy generation ${o.status}`,
                  ...(o.waiting ? { waiting: o.waiting } : {}),
                  ...(o.lastJudged ? { lastJudged: o.lastJudged } : {})
                }
              }
        )
      }
    })
  }
}
