import { getOctokit } from '@actions/github'
import type { Logger } from '../logger.js'

/** The Octokit that `@actions/github` builds (REST methods and pagination). */
export type GitHubClient = ReturnType<typeof getOctokit>

export interface RepoRef {
  owner: string
  repo: string
}

/** The `permissions:` entries of a workflow job that our calls need. */
type GitHubPermission =
  'contents: write' | 'pull-requests: write' | 'issues: write' | 'contents: read' | 'pull-requests: read'

/**
 * An Octokit for the GitHub REST API. `baseUrl` defaults to `GITHUB_API_URL` as read by `@actions/github`
 * when it was first loaded (GitHub Enterprise Server and the test emulator set it).
 */
export function createGitHubClient(token: string, options: { baseUrl?: string } = {}): GitHubClient {
  if (!token) {
    throw new Error(
      'github-token is empty: pass a token (the default `${{ github.token }}` works) to publish to GitHub'
    )
  }
  return getOctokit(token, options.baseUrl ? { baseUrl: options.baseUrl } : {})
}

/** How calls wait out rate limits. */
export interface CallPolicy {
  /** Retries after a rate-limit answer; the request is never retried for any other error. */
  rateLimitRetries: number
  /** Longest single wait; a longer one fails at once with the reset time. */
  maxWaitSeconds: number
  sleep: (ms: number) => Promise<void>
  logger?: Logger
}

export const DEFAULT_CALL_POLICY: CallPolicy = {
  rateLimitRetries: 3,
  maxWaitSeconds: 60,
  sleep: ms => new Promise(resolve => setTimeout(resolve, ms))
}

/** A GitHub call that failed, said in one line that names the step and what to do. */
export class GitHubError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined
  ) {
    super(message)
    this.name = 'GitHubError'
  }
}

interface CallContext {
  /** What we were doing, as a verb phrase: `create the branch iam-least-privilege/proposals`. */
  what: string
  permission: GitHubPermission
  repo: RepoRef
  /** What a 404 means for this call; by default that the token cannot see the repository. */
  notFound?: string
}

interface HttpFailure {
  status: number
  headers: Record<string, string | number | undefined>
  message: string
}

/**
 * Runs one GitHub request: waits out rate limits (403/429 with `x-ratelimit-remaining: 0` or `retry-after`)
 * a bounded number of times, and turns failures into a GitHubError saying what to fix.
 */
export async function callGitHub<T>(
  context: CallContext,
  request: () => Promise<T>,
  policy: CallPolicy = DEFAULT_CALL_POLICY
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await request()
    } catch (error) {
      const failure = httpFailure(error)
      if (!failure) throw error
      const waitSeconds = rateLimitWait(failure)
      if (waitSeconds === undefined) throw explain(context, failure)
      if (attempt >= policy.rateLimitRetries || waitSeconds > policy.maxWaitSeconds) {
        throw new GitHubError(
          `GitHub rate limit hit while trying to ${context.what} in ${slug(context.repo)} ` +
            `(${attempt + 1} attempt${attempt === 0 ? '' : 's'}, next retry in ${Math.ceil(waitSeconds)} s): run again later`,
          failure.status
        )
      }
      policy.logger?.info(
        `GitHub rate limit: waiting ${Math.ceil(waitSeconds)} s before retrying to ${context.what}`
      )
      await policy.sleep(waitSeconds * 1000)
    }
  }
}

/** True when the error is a 404 answer (e.g. a branch that does not exist yet). */
export function isNotFound(error: unknown): boolean {
  return httpFailure(error)?.status === 404
}

function httpFailure(error: unknown): HttpFailure | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const e = error as { status?: unknown; message?: unknown; response?: { headers?: unknown; data?: unknown } }
  if (typeof e.status !== 'number') return undefined
  const data = e.response?.data as { message?: unknown; errors?: unknown } | undefined
  const base =
    typeof data?.message === 'string' ? data.message : typeof e.message === 'string' ? e.message : ''
  const details = Array.isArray(data?.errors) ? data.errors.map(detailOf).filter(Boolean) : []
  const message = details.length > 0 ? `${base}: ${details.join('; ')}` : base
  return { status: e.status, headers: (e.response?.headers ?? {}) as HttpFailure['headers'], message }
}

function detailOf(error: unknown): string {
  if (typeof error === 'string') return error
  if (typeof error !== 'object' || error === null) return ''
  const e = error as { message?: unknown; field?: unknown; code?: unknown }
  if (typeof e.message === 'string') return e.message
  return [e.field, e.code].filter(part => typeof part === 'string').join(' ')
}

/** Seconds to wait before retrying, or undefined when the failure is not a rate limit. */
function rateLimitWait(failure: HttpFailure): number | undefined {
  if (failure.status !== 403 && failure.status !== 429) return undefined
  const retryAfter = Number(failure.headers['retry-after'])
  const remaining = failure.headers['x-ratelimit-remaining']
  const secondary = /secondary rate limit/i.test(failure.message)
  if (failure.headers['retry-after'] !== undefined && Number.isFinite(retryAfter))
    return Math.max(0, retryAfter)
  if (String(remaining) === '0') {
    const reset = Number(failure.headers['x-ratelimit-reset'])
    return Number.isFinite(reset) ? Math.max(0, reset - Date.now() / 1000) + 1 : 60
  }
  if (failure.status === 429 || secondary) return 60
  return undefined
}

function explain(context: CallContext, failure: HttpFailure): GitHubError {
  const where = slug(context.repo)
  const said = failure.message ? `: ${oneLine(failure.message)}` : ''
  switch (failure.status) {
    case 401:
      return new GitHubError(
        `GitHub rejected the token (401) while trying to ${context.what} in ${where}: check github-token`,
        401
      )
    case 403:
      if (/not accessible by (integration|personal access token)/i.test(failure.message)) {
        return new GitHubError(
          `GitHub refused to ${context.what} in ${where} (403 ${oneLine(failure.message)}): ` +
            `add \`permissions: ${context.permission}\` to the workflow job`,
          403
        )
      }
      return new GitHubError(`GitHub refused to ${context.what} in ${where} (403${said})`, 403)
    case 404:
      if (context.notFound) {
        return new GitHubError(
          `GitHub answered 404 while trying to ${context.what} in ${where}: ${context.notFound}`,
          404
        )
      }
      return new GitHubError(
        `GitHub answered 404 while trying to ${context.what}: the token cannot see the repository ${where} ` +
          `(check the repository name and that the token has access to it)`,
        404
      )
    default:
      return new GitHubError(
        `GitHub failed to ${context.what} in ${where} (${failure.status}${said})`,
        failure.status
      )
  }
}

function slug(repo: RepoRef): string {
  return `${repo.owner}/${repo.repo}`
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim()
}
