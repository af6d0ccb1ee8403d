/** Credentials: a GitHub OIDC token exchanged with STS AssumeRoleWithWebIdentity, or the SDK default chain. */
import { AssumeRoleWithWebIdentityCommand } from '@aws-sdk/client-sts'
import { inputDefault } from '../config.js'
import type { Logger } from '../logger.js'
import { awsErrorName, describeAwsError, isTransientAwsError } from './retry.js'
import type { Sleep } from './retry.js'
import { openStsSession } from './sts-session.js'

/** Temporary credentials; the shape every SDK v3 client accepts as `credentials`. */
export interface TemporaryCredentials {
  accessKeyId: string
  secretAccessKey: string
  sessionToken: string
  expiration?: Date
}

// The action's defaults, for callers that leave an option out.
const DEFAULT_AUDIENCE = inputDefault('audience')
const DEFAULT_SESSION_NAME = inputDefault('role-session-name')
const DEFAULT_DURATION_SECONDS = Number(inputDefault('role-duration-seconds'))

export interface OidcCredentialOptions {
  /** Role ARN to assume; empty or undefined means: use the SDK default credential chain. */
  roleToAssume?: string
  audience?: string
  sessionName?: string
  durationSeconds?: number
  region: string
  /** Fetches the GitHub OIDC token (the action passes `core.getIDToken`). */
  getIdToken: (audience: string) => Promise<string>
  log: Logger
  /** Environment read for the OIDC request URL and the repository claims; default process.env. */
  env?: Record<string, string | undefined>
  /** STS endpoint override (else AWS_ENDPOINT_URL_STS or the Regional default). */
  endpoint?: string
  /** Attempts for transient errors (IDPCommunicationError, throttling, 5xx, network); default 5. */
  attempts?: number
  sleep?: Sleep
}

const TRANSIENT_STS_ERRORS = new Set(['IDPCommunicationErrorException', 'IDPCommunicationError'])

function isTransientStsError(error: unknown): boolean {
  const name = awsErrorName(error)
  return (name !== undefined && TRANSIENT_STS_ERRORS.has(name)) || isTransientAwsError(error)
}

/**
 * Returns temporary credentials for `roleToAssume`, or undefined when it is not set (the SDK default chain applies).
 * Every secret is passed to `log.setSecret` before anything else can log it.
 */
export async function resolveCredentials(
  options: OidcCredentialOptions
): Promise<TemporaryCredentials | undefined> {
  const roleArn = options.roleToAssume?.trim()
  if (!roleArn) return undefined
  const env = options.env ?? process.env
  const audience = options.audience || DEFAULT_AUDIENCE
  if (!env.ACTIONS_ID_TOKEN_REQUEST_URL) {
    throw new Error(
      `role-to-assume is set but ACTIONS_ID_TOKEN_REQUEST_URL is missing: the workflow lacks "permissions: id-token: write"; add it to the job (or the workflow) so GitHub issues an OIDC token`
    )
  }
  let token: string
  try {
    // @actions/core retries the token request itself (502/503/504).
    token = await options.getIdToken(audience)
  } catch (error) {
    throw new Error(
      `Could not get the GitHub OIDC token for audience "${audience}": ${describeAwsError(error)}`
    )
  }
  options.log.setSecret(token)

  return openStsSession({
    operation: 'AssumeRoleWithWebIdentity',
    roleArn,
    client: { region: options.region, ...(options.endpoint ? { endpoint: options.endpoint } : {}) },
    send: client =>
      client.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: options.sessionName || DEFAULT_SESSION_NAME,
          WebIdentityToken: token,
          DurationSeconds: options.durationSeconds ?? DEFAULT_DURATION_SECONDS
        })
      ),
    retry: {
      attempts: options.attempts ?? 5,
      baseMs: 200,
      maxMs: 5000,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      isRetryable: isTransientStsError,
      onRetry: (error, attempt, delay) =>
        options.log.info(
          `AssumeRoleWithWebIdentity attempt ${attempt} failed (${describeAwsError(error)}); retrying in ${delay} ms`
        )
    },
    log: options.log,
    explain: error => explainAssumeRoleError(error, roleArn, audience, env)
  })
}

function explainAssumeRoleError(
  error: unknown,
  roleArn: string,
  audience: string,
  env: Record<string, string | undefined>
): string {
  const name = awsErrorName(error)
  const cause = describeAwsError(error)
  if (name === 'AccessDenied' || name === 'AccessDeniedException') {
    const repo = env.GITHUB_REPOSITORY
    const ref = env.GITHUB_REF
    const sub = repo ? `repo:${repo}:${ref ? `ref:${ref}` : '...'}` : 'repo:<owner>/<repo>:...'
    return (
      `Could not assume ${roleArn}: its trust policy does not admit this workflow (${cause}). ` +
      `Check the trust policy conditions: token.actions.githubusercontent.com:aud must be "${audience}" and ` +
      `token.actions.githubusercontent.com:sub must match "${sub}" (environment, pull_request and tag runs have other sub forms)`
    )
  }
  if (name === 'InvalidIdentityTokenException' || name === 'InvalidIdentityToken') {
    return (
      `Could not assume ${roleArn}: STS rejected the GitHub OIDC token (${cause}). ` +
      `Check that the account has an IAM OIDC identity provider for https://token.actions.githubusercontent.com ` +
      `whose audience list includes "${audience}"`
    )
  }
  if (name === 'ExpiredTokenException') {
    return `Could not assume ${roleArn}: the GitHub OIDC token expired before STS accepted it (${cause}); rerun the job`
  }
  return `Could not assume ${roleArn} with STS AssumeRoleWithWebIdentity: ${cause}`
}
