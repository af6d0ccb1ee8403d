/** A member account's role, assumed with sts:AssumeRole from the hub session, the session tagged with the run. */
import { AssumeRoleCommand } from '@aws-sdk/client-sts'
import type { Logger } from '../logger.js'
import type { TemporaryCredentials } from './credentials.js'
import { awsErrorName, describeAwsError, isTransientAwsError } from './retry.js'
import type { Sleep } from './retry.js'
import { openStsSession } from './sts-session.js'

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
  return openStsSession({
    operation: 'AssumeRole',
    roleArn: options.roleArn,
    client: { region: options.region, ...(options.hub ? { credentials: options.hub } : {}) },
    send: client =>
      client.send(
        new AssumeRoleCommand({
          RoleArn: options.roleArn,
          RoleSessionName: options.sessionName,
          DurationSeconds: options.durationSeconds,
          ...(tags.length > 0 ? { Tags: tags } : {})
        })
      ),
    retry: {
      attempts: 4,
      baseMs: 200,
      maxMs: 5000,
      isRetryable: isTransientAwsError,
      ...(options.sleep ? { sleep: options.sleep } : {})
    },
    log: options.log,
    explain: error => {
      const name = awsErrorName(error)
      if (name === 'AccessDenied' || name === 'AccessDeniedException')
        return `could not assume ${options.roleArn} from the hub session (${describeAwsError(error)}); its trust policy must allow sts:AssumeRole and sts:TagSession to the hub role`
      return `could not assume ${options.roleArn} with sts:AssumeRole: ${describeAwsError(error)}`
    }
  })
}
