/**
 * Usage from an IAM Access Analyzer unused-access analyzer: each principal's findings (ListFindingsV2, GetFindingV2)
 * over the analyzer's tracking period, and on request AWS's recommended policy for its unused-permission finding.
 */
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { describeAwsError, realSleep } from '../aws/retry.js'
import {
  fetchRecommendation,
  findUnusedAccessAnalyzer,
  getFinding,
  listResourceFindings
} from '../aws/unused-access.js'
import type { UnusedAccessAnalyzer } from '../aws/unused-access.js'
import { errorMessage } from '../error-message.js'
import type { FetchedRecommendation, RoleUsage } from '../model.js'
import { isEvidence, usageFromFindings } from './unused-access.js'
import type { ReadFinding } from './unused-access.js'
import type { UsageProvider } from './source.js'

type Context = Parameters<UsageProvider['open']>[0]

export const unusedAccessSource: UsageProvider = {
  open(context) {
    let analyzer: Promise<{ client: AccessAnalyzerClient; analyzer: UnusedAccessAnalyzer }> | undefined
    const connect = async () => {
      const client = await context.aws.analyzer()
      return { client, analyzer: await findUnusedAccessAnalyzer(client, context.config.unusedAccessAnalyzer) }
    }
    return Promise.resolve({
      async usageOf(arns) {
        if (arns.length === 0) return []
        analyzer ??= connect()
        let found: { client: AccessAnalyzerClient; analyzer: UnusedAccessAnalyzer }
        try {
          found = await analyzer
        } catch (e) {
          // No analyzer: every principal fails with the same one-line reason; the run still reports.
          const reason = errorMessage(e).startsWith('unused-access-analyzer:')
            ? errorMessage(e)
            : `unused-access-analyzer: ListAnalyzers failed: ${describeAwsError(e)}`
          context.log.warning(reason)
          return arns.map(() => ({ outcome: { status: 'failed' as const, reason } }))
        }
        context.log.info(
          `unused-access analyzer ${found.analyzer.arn}: tracking period ${found.analyzer.unusedAccessAgeDays} days`
        )
        const out = []
        for (const arn of arns) {
          try {
            out.push({ usage: await principalUsage(context, found.client, found.analyzer, arn) })
          } catch (e) {
            out.push({
              outcome: {
                status: 'failed' as const,
                reason: `unused-access findings of ${arn}: ${describeAwsError(e)}`
              }
            })
          }
        }
        return out
      }
    })
  }
}

async function principalUsage(
  context: Context,
  client: AccessAnalyzerClient,
  analyzer: UnusedAccessAnalyzer,
  arn: string
): Promise<RoleUsage> {
  const summaries = await listResourceFindings(client, analyzer.arn, arn)
  const failed = summaries.find(s => isEvidence(s) && s.error)
  if (failed)
    throw new Error(
      `Access Analyzer could not analyze this principal (finding ${failed.id ?? '?'}: ${failed.error ?? ''})`
    )
  const read: ReadFinding[] = []
  for (const summary of summaries) {
    const details =
      isEvidence(summary) && summary.id ? (await getFinding(client, analyzer.arn, summary.id)).details : []
    read.push({ summary, details })
  }
  const usage = usageFromFindings(arn, analyzer, read, context.startedAt)
  if (!context.config.awsRecommendation) return usage
  const permission = read.find(
    f => f.summary.status === 'ACTIVE' && f.summary.findingType === 'UnusedPermission'
  )
  if (!permission?.summary.id) return usage
  return { ...usage, recommendation: await recommendation(context, client, analyzer, permission.summary.id) }
}

/** AWS's recommendation for the finding; its failure is reported with the role, never fails the role. */
async function recommendation(
  context: Context,
  client: AccessAnalyzerClient,
  analyzer: UnusedAccessAnalyzer,
  findingId: string
): Promise<FetchedRecommendation> {
  const opened = Date.now()
  try {
    const result = await fetchRecommendation(client, analyzer.arn, findingId, {
      sleep: context.sleep ?? realSleep,
      deadline: context.deadline,
      // The run's clock: started at startedAt, advancing in real time.
      now: () => new Date(context.startedAt.getTime() + (Date.now() - opened)),
      ...(context.signal ? { signal: context.signal } : {})
    })
    const steps = result.steps.flatMap(step => {
      const s = step.unusedPermissionsRecommendedStep
      if (!s?.recommendedAction) return []
      let document: unknown
      if (s.recommendedPolicy !== undefined) {
        try {
          document = JSON.parse(s.recommendedPolicy)
        } catch {
          document = s.recommendedPolicy
        }
      }
      return [
        {
          action: s.recommendedAction,
          ...(s.existingPolicyId ? { existingPolicyId: s.existingPolicyId } : {}),
          ...(document !== undefined ? { recommendedPolicy: document } : {})
        }
      ]
    })
    return {
      findingId,
      status: result.status,
      steps,
      ...(result.error ? { error: result.error } : {}),
      ...(result.status === 'IN_PROGRESS' ? { error: 'still in progress when timeout-minutes ran out' } : {})
    }
  } catch (e) {
    context.log.warning(`AWS recommendation for finding ${findingId}: ${describeAwsError(e)}`)
    return { findingId, status: 'unavailable', steps: [], error: describeAwsError(e) }
  }
}
