/** A member account's role, assumed with sts:AssumeRole from the hub session, the session tagged with the run. */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import type { Logger } from '../logger.js'
import type { TemporaryCredentials } from './credentials.js'
import { awsErrorName, describeAwsError, isTransientAwsError, withRetry } from './retry.js'
import type { Sleep } from './retry.js'

interface MemberRoleOptions {
  roleArn: string
  /** The hub session's credentials; undefined: the SDK default chain (the CLI on a laptop). */
  hub: TemporaryCredentials | undefined
  sessionName: string
  durationSeconds: number
  region: string
  /** GITHUB_REPOSITORY and GITHUB_RUN_ID, when known: the session is tagged with them. */
  repository?: string | undefined
  runId?: string | undefined
  log: Logger
  sleep?: Sleep
}

/** Session tag values allow letters, digits, spaces and _.:/=+-@, up to 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').slice(0, 256)
}

export async function assumeMemberRole(options: MemberRoleOptions): Promise<TemporaryCredentials> {
  const tags = [
    ...(options.repository ? [{ Key: 'repository', Value: tagValue(options.repository) }] : []),
    ...(options.runId ? [{ Key: 'run-id', Value: tagValue(options.runId) }] : [])
  ]
  const client = new STSClient({
    region: options.region,
    maxAttempts: 1,
    ...(options.hub ? { credentials: options.hub } : {})
  })
  try {
    const result = await withRetry(
      () =>
        client.send(
          new AssumeRoleCommand({
            RoleArn: options.roleArn,
            RoleSessionName: options.sessionName,
            DurationSeconds: options.durationSeconds,
            ...(tags.length > 0 ? { Tags: tags } : {})
          })
        ),
      {
        attempts: 4,
        baseMs: 200,
        maxMs: 5000,
        isRetryable: isTransientAwsError,
        ...(options.sleep ? { sleep: options.sleep } : {})
      }
    )
    const c = result.Credentials
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
      throw new Error(`STS AssumeRole for ${options.roleArn} returned no credentials`)
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
    const name = awsErrorName(error)
    if (name === 'AccessDenied' || name === 'AccessDeniedException')
      throw new Error(
        `could not assume ${options.roleArn} from the hub session (${describeAwsError(error)}); its trust policy must allow sts:AssumeRole and sts:TagSession to the hub role`
      )
    throw new Error(`could not assume ${options.roleArn} with sts:AssumeRole: ${describeAwsError(error)}`)
  } finally {
    client.destroy()
  }
}
