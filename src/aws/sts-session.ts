/** One STS call that opens a role session: its client, its retry, and the credentials it returns, checked and masked. */
import { STSClient } from '@aws-sdk/client-sts'
import type { AssumedRoleUser, Credentials, STSClientConfig } from '@aws-sdk/client-sts'
import type { Logger } from '../logger.js'
import type { TemporaryCredentials } from './credentials.js'
import { withRetry } from './retry.js'
import type { RetryOptions } from './retry.js'

interface StsSessionOptions {
  /** The STS operation, for the error when it returns no credentials. */
  operation: string
  roleArn: string
  client: STSClientConfig
  send: (
    client: STSClient
  ) => Promise<{ Credentials?: Credentials | undefined; AssumedRoleUser?: AssumedRoleUser | undefined }>
  retry: RetryOptions
  log: Logger
  /** The one-line error for a call that failed, after the retries. */
  explain: (error: unknown) => string
}

export async function openStsSession(options: StsSessionOptions): Promise<TemporaryCredentials> {
  const client = new STSClient({ ...options.client, maxAttempts: 1 })
  try {
    const result = await withRetry(() => options.send(client), options.retry)
    const c = result.Credentials
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error(`STS ${options.operation} for ${options.roleArn} returned no credentials`)
    options.log.setSecret(c.AccessKeyId)
    options.log.setSecret(c.SecretAccessKey)
    options.log.setSecret(c.SessionToken)
    options.log.info(`Assumed ${options.roleArn} as ${result.AssumedRoleUser?.Arn ?? 'unknown session'}`)
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      ...(c.Expiration ? { expiration: c.Expiration } : {})
    }
  } catch (error) {
    throw new Error(options.explain(error))
  } finally {
    client.destroy()
  }
}
