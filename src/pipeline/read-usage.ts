/**
 * Usage from several sources for every role, merged into one verdict per role (policy/merge-usage.ts). With both
 * access-advisor and access-analyzer, access advisor is read first and serves as a prefilter: a role whose every
 * granted service went unused over the window is judged from it alone, and policy generations (50 a day) are spent
 * only on the roles that need action-level data. Each role says what judged it.
 */
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import type { MergedSource, RoleUsage, UsageSource } from '../model.js'
import { judgeEvidence } from '../policy/evidence.js'
import { mergeUsages } from '../policy/merge-usage.js'
import { servicesNeedingActionData } from '../policy/prefilter.js'
import type { UsageReading } from '../usage/source.js'
import { awaitsUsage } from './role-case.js'
import type { RoleCase } from './role-case.js'

type Outcome = Awaited<ReturnType<UsageReading['usageOf']>>[number]

/** A source that produced no usage for a role still shows in the evidence: with why it could not judge. */
function emptyUsage(roleArn: string, source: UsageSource): RoleUsage {
  return {
    roleArn,
    source,
    window: { start: '', end: '' },
    complete: false,
    actions: [],
    serviceLevelOnly: [],
    evidence: { notes: [] }
  }
}

/** Reads every source for the roles awaiting usage and merges each role's usages. */
export async function readMergedUsage(
  config: Config,
  readings: ReadonlyMap<UsageSource, UsageReading>,
  cases: RoleCase[],
  log: Logger
): Promise<void> {
  const pending = cases.filter(awaitsUsage)
  const outcomes = new Map<UsageSource, Map<string, Outcome>>()
  const read = async (source: UsageSource, roles: RoleCase[]) => {
    const reading = readings.get(source)
    if (!reading || roles.length === 0) return
    const answers = await reading.usageOf(roles.map(c => c.arn))
    const bySource = outcomes.get(source) ?? new Map<string, Outcome>()
    roles.forEach((c, i) => {
      const answer = answers[i]
      if (answer) bySource.set(c.arn, answer)
    })
    outcomes.set(source, bySource)
  }
  const evidenceOptions = (c: RoleCase) => ({
    minObservationDays: config.minObservationDays,
    allowIncomplete: config.allowIncomplete,
    ...(c.grants?.createdAt !== undefined ? { roleCreatedAt: c.grants.createdAt } : {})
  })

  const prefilter = config.sources.includes('access-advisor') && config.sources.includes('access-analyzer')
  const judgedBy = new Map<string, string>()
  if (prefilter) {
    await read('access-advisor', pending)
    const needAnalyzer: RoleCase[] = []
    for (const c of pending) {
      const advisor = outcomes.get('access-advisor')?.get(c.arn)
      const usage = advisor && 'usage' in advisor ? advisor.usage : undefined
      const needing =
        usage && c.grants && judgeEvidence(usage, evidenceOptions(c)).sufficient
          ? servicesNeedingActionData(c.grants, usage)
          : undefined
      if (needing && needing.length === 0) {
        judgedBy.set(
          c.arn,
          `access-advisor alone: every granted service was unused over the window, so no policy generation was spent`
        )
      } else {
        needAnalyzer.push(c)
        judgedBy.set(
          c.arn,
          needing
            ? `access-advisor and access-analyzer: action-level data needed for ${needing.slice(0, 10).join(', ')}${needing.length > 10 ? ` and ${needing.length - 10} more` : ''}`
            : 'access-advisor and access-analyzer: access advisor could not judge the role alone'
        )
      }
    }
    log.info(
      `access advisor judged ${pending.length - needAnalyzer.length} of ${pending.length} role(s) alone; ${needAnalyzer.length} need policy generation`
    )
    await read('access-analyzer', needAnalyzer)
    for (const source of config.sources)
      if (source !== 'access-advisor' && source !== 'access-analyzer') await read(source, pending)
  } else {
    for (const source of config.sources) await read(source, pending)
  }

  for (const c of pending) {
    const parts: MergedSource[] = []
    const failures: { status: 'failed' | 'skipped'; reason: string; source: UsageSource }[] = []
    for (const source of config.sources) {
      if (judgedBy.get(c.arn)?.startsWith('access-advisor alone') && source === 'access-analyzer') continue
      const answer = outcomes.get(source)?.get(c.arn)
      const noEvidence = readings.get(source)?.noEvidence
      if (answer && 'usage' in answer) {
        const verdict = judgeEvidence(answer.usage, evidenceOptions(c))
        const insufficient = noEvidence?.reason ?? (verdict.sufficient ? undefined : verdict.reason)
        parts.push({ usage: answer.usage, ...(insufficient ? { insufficient } : {}) })
      } else {
        const failure = answer?.outcome ?? { status: 'failed' as const, reason: 'internal: no usage read' }
        failures.push({ ...failure, source })
        log.warning(
          `${c.name}: ${source} could not judge the role (${failure.reason}); the other sources still do`
        )
        parts.push({
          usage: emptyUsage(c.arn, source),
          insufficient: `${failure.status}: ${failure.reason}`
        })
      }
    }
    if (failures.length === parts.length) {
      c.outcome = {
        status: failures.some(f => f.status === 'failed') ? 'failed' : 'skipped',
        reason: failures.map(f => `${f.source}: ${f.reason}`).join('; ')
      }
      continue
    }
    c.usage = mergeUsages(parts)
    const by = judgedBy.get(c.arn)
    if (by) c.judgedBy = by
  }
}
