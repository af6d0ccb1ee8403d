/**
 * A usage source: where what a role did comes from. Each source is one module of this folder and one line of the
 * registry (registry.ts); the run knows nothing else about it.
 */
import type { AwsSession } from '../aws/session.js'
import type { Sleep } from '../aws/retry.js'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { DAY_MS } from '../model.js'
import type { RoleUsage } from '../model.js'

/** What a source is given: the run's options, its AWS session, its clock and budget. */
interface UsageContext {
  config: Config
  aws: AwsSession
  log: Logger
  startedAt: Date
  deadline: Date
  signal?: AbortSignal
  sleep?: Sleep
  /** The run's clock; default real time. */
  now?: () => Date
  /** When each role was last judged as recorded on the proposals branch (role ARN -> end of the usage window). */
  judged?: ReadonlyMap<string, string>
}

/** One role's usage: what it did, with the evidence and its limits, or why that cannot be known. */
type RoleUsageOutcome = { usage: RoleUsage } | { outcome: UsageOutcome }

/** Why a role has no usage; `waiting` when only a quota kept it back (a later run judges it: not a failure). */
export interface UsageOutcome {
  status: 'failed' | 'skipped'
  reason: string
  waiting?: true
  /** When the role was last judged (ISO 8601), when known. */
  lastJudged?: string
}

export interface UsageReading {
  /**
   * The role ARNs the source saw by itself (CloudTrail records name them): roles can then be selected without
   * asking IAM. Absent for a source that only answers for roles it is given.
   */
  rolesSeen?: readonly string[]
  /** Set when the source found no evidence at all: the input to fix and why; every role is then judged so. */
  noEvidence?: { input: string; reason: string }
  /** The usage of each role ARN, in the order given. */
  usageOf(roleArns: readonly string[]): Promise<RoleUsageOutcome[]>
}

export interface UsageProvider {
  /** Reads what is read once for every role (a scan of log files); a source that asks per role reads nothing yet. */
  open(context: UsageContext): Promise<UsageReading>
}

export function lookbackStart(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS)
}
