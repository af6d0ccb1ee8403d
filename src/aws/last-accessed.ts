/**
 * IAM last-accessed data (access advisor): GenerateServiceLastAccessedDetails starts a job for a principal,
 * GetServiceLastAccessedDetails is polled until it is COMPLETED (or FAILED) and then read page by page (`Marker`).
 * The data covers at least the last 400 days; denied attempts count as access (AWS says so), which can only make
 * more look used, never less.
 */
import {
  GenerateServiceLastAccessedDetailsCommand,
  GetServiceLastAccessedDetailsCommand
} from '@aws-sdk/client-iam'
import type { IAMClient, ServiceLastAccessed } from '@aws-sdk/client-iam'
import { realSleep, withRetry, isTransientAwsError } from './retry.js'
import type { Sleep } from './retry.js'

export type LastAccessedGranularity = 'SERVICE_LEVEL' | 'ACTION_LEVEL'

/** One service of the report: when the principal last used it, and its tracked actions (ACTION_LEVEL only). */
export interface ServiceLastAccess {
  namespace: string
  name: string
  lastAuthenticated?: Date
  /** Tracked actions as `service:Action`; undefined when the service has no action-level tracking. */
  trackedActions?: { action: string; lastAccessed?: Date }[]
}

export interface LastAccessedReport {
  jobId: string
  completedAt?: Date
  services: ServiceLastAccess[]
}

interface PollOptions {
  sleep?: Sleep
  signal?: AbortSignal
  deadline: Date
  /** First wait between polls; doubled up to 10 s. */
  pollMs?: number
  now?: () => Date
}

const RETRY = { attempts: 5, baseMs: 200, maxMs: 5_000, isRetryable: isTransientAwsError }

/** Runs one last-accessed job for `arn` and reads every page of its report. */
export async function readLastAccessed(
  client: IAMClient,
  arn: string,
  granularity: LastAccessedGranularity,
  options: PollOptions
): Promise<LastAccessedReport> {
  const sleep = options.sleep ?? realSleep
  const now = options.now ?? (() => new Date())
  const retry = { ...RETRY, sleep }
  const started = await withRetry(
    () => client.send(new GenerateServiceLastAccessedDetailsCommand({ Arn: arn, Granularity: granularity })),
    retry
  )
  const jobId = started.JobId
  if (!jobId) throw new Error(`GenerateServiceLastAccessedDetails for ${arn} returned no JobId`)
  let wait = options.pollMs ?? 1_000
  const services: ServiceLastAccess[] = []
  let marker: string | undefined
  let completedAt: Date | undefined
  for (;;) {
    if (options.signal?.aborted)
      throw new Error(`last-accessed job ${jobId} for ${arn}: the run was cancelled`)
    const page = await withRetry(
      () =>
        client.send(
          new GetServiceLastAccessedDetailsCommand({ JobId: jobId, ...(marker ? { Marker: marker } : {}) })
        ),
      retry
    )
    if (page.JobStatus === 'FAILED')
      throw new Error(
        `last-accessed job ${jobId} for ${arn} failed: ${page.Error?.Code ?? 'unknown'}: ${page.Error?.Message ?? 'no message'}`
      )
    if (page.JobStatus !== 'COMPLETED') {
      if (now().getTime() + wait > options.deadline.getTime())
        throw new Error(`last-accessed job ${jobId} for ${arn} did not complete before timeout-minutes`)
      await sleep(wait, options.signal)
      wait = Math.min(wait * 2, 10_000)
      continue
    }
    completedAt = page.JobCompletionDate
    services.push(...(page.ServicesLastAccessed ?? []).map(serviceLastAccess))
    if (!page.IsTruncated || !page.Marker) break
    marker = page.Marker
  }
  return { jobId, ...(completedAt ? { completedAt } : {}), services }
}

/** A tracked action may be named with or without its service prefix: always `service:Action` here. */
function serviceLastAccess(s: ServiceLastAccessed): ServiceLastAccess {
  const namespace = s.ServiceNamespace ?? ''
  const tracked = s.TrackedActionsLastAccessed
  return {
    namespace,
    name: s.ServiceName ?? namespace,
    ...(s.LastAuthenticated ? { lastAuthenticated: s.LastAuthenticated } : {}),
    ...(tracked
      ? {
          trackedActions: tracked
            .filter(t => t.ActionName)
            .map(t => ({
              action: (t.ActionName ?? '').includes(':')
                ? (t.ActionName ?? '')
                : `${namespace}:${t.ActionName ?? ''}`,
              ...(t.LastAccessedTime ? { lastAccessed: t.LastAccessedTime } : {})
            }))
        }
      : {})
  }
}
