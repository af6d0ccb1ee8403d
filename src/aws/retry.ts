/** Retries for AWS calls: a should-retry predicate, full-jitter exponential backoff, an injectable sleep. */

/** Waits `ms`; when `signal` aborts, the wait ends at once and its timer is cleared (so the process can exit). */
export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>

export const realSleep: Sleep = (ms, signal) =>
  new Promise(resolve => {
    if (signal?.aborted) return resolve()
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })

export interface RetryOptions {
  /** Total attempts, the first included. */
  attempts: number
  baseMs: number
  maxMs: number
  isRetryable: (error: unknown) => boolean
  sleep?: Sleep
  random?: () => number
  /** Called before each retry (for a log line). */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void
}

/** Full jitter: a random delay between 0 and min(maxMs, baseMs * 2^retry). */
export function backoffDelay(
  retry: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random
): number {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** retry))
}

export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn()
    } catch (error) {
      if (attempt >= options.attempts || !options.isRetryable(error)) throw error
      const delay = backoffDelay(attempt - 1, options.baseMs, options.maxMs, options.random)
      options.onRetry?.(error, attempt, delay)
      await sleep(delay)
    }
  }
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'LimitExceededException'
])
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN'])

/** Throttling, 5xx and network failures: worth another attempt. Authorization and validation errors are not. */
export function isTransientAwsError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false
  const e = error as {
    name?: string
    code?: string
    $metadata?: { httpStatusCode?: number }
    $retryable?: unknown
  }
  if (e.name && THROTTLING_NAMES.has(e.name)) return true
  if (e.name === 'InternalServerException' || e.name === 'ServiceFailureException') return true
  if (e.name === 'TimeoutError') return true
  if (e.code && NETWORK_CODES.has(e.code)) return true
  const status = e.$metadata?.httpStatusCode
  if (status !== undefined && (status === 429 || status >= 500)) return true
  return e.$retryable !== undefined && e.$retryable !== null
}

/** The AWS error name and message, for one-line reasons. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error)
    return error.name && error.name !== 'Error' ? `${error.name}: ${error.message}` : error.message
  return String(error)
}

export function awsErrorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { name?: string }).name : undefined
}
