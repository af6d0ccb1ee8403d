/**
 * A usage source that reads log records (CloudTrail files, the Athena table) serves every account of the run: it is
 * asked once for the roles of all of them (one query, whose partition pruning names every account), and each account
 * then takes its own roles' answers from that one reading.
 */
import type { UsageReading } from '../usage/source.js'
import { awaitsUsage } from './role-case.js'
import type { RoleCase } from './role-case.js'

type Outcome = Awaited<ReturnType<UsageReading['usageOf']>>[number]

/** `reading` asked once for every case awaiting usage; a role it was not asked about is asked on its own. */
export async function readOnceForAll(
  reading: UsageReading,
  cases: readonly RoleCase[]
): Promise<UsageReading> {
  const arns = [...new Set(cases.filter(awaitsUsage).map(c => c.arn))]
  const answers = new Map<string, Outcome>()
  if (arns.length > 0) {
    const outcomes = await reading.usageOf(arns)
    arns.forEach((arn, i) => {
      const outcome = outcomes[i]
      if (outcome) answers.set(arn, outcome)
    })
  }
  return {
    ...(reading.rolesSeen ? { rolesSeen: reading.rolesSeen } : {}),
    ...(reading.noEvidence ? { noEvidence: reading.noEvidence } : {}),
    async usageOf(roleArns) {
      const missing = roleArns.filter(arn => !answers.has(arn))
      if (missing.length > 0) {
        const late = await reading.usageOf(missing)
        missing.forEach((arn, i) => {
          const outcome = late[i]
          if (outcome) answers.set(arn, outcome)
        })
      }
      return roleArns.map(
        arn => answers.get(arn) ?? { outcome: { status: 'failed', reason: 'internal: no usage read' } }
      )
    }
  }
}
