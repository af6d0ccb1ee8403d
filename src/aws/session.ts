import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { AthenaClient } from '@aws-sdk/client-athena'
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail'
import { IAMClient } from '@aws-sdk/client-iam'
import type { S3Client } from '@aws-sdk/client-s3'
import type { Config } from '../config.js'
import type { Logger } from '../logger.js'
import { createTrailS3Client } from '../usage/cloudtrail/s3-files.js'
import { resolveCredentials } from './credentials.js'
import type { TemporaryCredentials } from './credentials.js'
import { sessionName } from './session-name.js'

interface AwsSessionDeps {
  log: Logger
  env?: NodeJS.ProcessEnv
  /** GitHub OIDC token source (the action passes core.getIDToken); without it role-to-assume cannot be used. */
  getIdToken?: (audience: string) => Promise<string>
  /** The session's credentials when they come from elsewhere than role-to-assume (one account of many). */
  credentials?: () => Promise<TemporaryCredentials | undefined>
}

/**
 * The AWS clients of one run, all on the same credentials: role-to-assume when given (assumed once, on first use),
 * else the default provider chain. Nothing is resolved until a client is asked for.
 */
export class AwsSession {
  private credentials?: Promise<TemporaryCredentials | undefined>
  private iamClient?: IAMClient
  private analyzerClient?: AccessAnalyzerClient
  /**
   * Whether this run has asked for AWS credentials. The optional Access Analyzer checks (ValidatePolicy,
   * CheckNoNewAccess) run only when it did, or when role-to-assume is set: a run that read everything from files
   * and local logs must not start calling AWS (and fail on missing credentials) just to check a proposal.
   */
  used = false

  constructor(
    private readonly config: Pick<
      Config,
      'roleToAssume' | 'audience' | 'roleSessionName' | 'roleDurationSeconds' | 'awsRegion'
    >,
    private readonly deps: AwsSessionDeps
  ) {}

  private creds(): Promise<TemporaryCredentials | undefined> {
    this.used = true
    if (this.deps.credentials) return (this.credentials ??= this.deps.credentials())
    this.credentials ??= resolveCredentials({
      ...(this.config.roleToAssume ? { roleToAssume: this.config.roleToAssume } : {}),
      audience: this.config.audience,
      sessionName: sessionName(
        this.config.roleSessionName,
        this.deps.env?.GITHUB_REPOSITORY,
        this.deps.env?.GITHUB_RUN_ID
      ),
      durationSeconds: this.config.roleDurationSeconds,
      region: this.config.awsRegion,
      getIdToken:
        this.deps.getIdToken ??
        (() =>
          Promise.reject(
            new Error('role-to-assume needs a GitHub OIDC token, which only exists inside GitHub Actions')
          )),
      log: this.deps.log,
      ...(this.deps.env ? { env: this.deps.env } : {})
    })
    return this.credentials
  }

  /**
   * A session on other credentials with this entry's token source and environment: `roleToAssume` for one OIDC
   * exchange of its own, or `credentials` (a member account's role); neither: the default chain.
   */
  derive(
    roleToAssume: string | undefined,
    credentials?: (env: NodeJS.ProcessEnv | undefined) => Promise<TemporaryCredentials | undefined>
  ): AwsSession {
    const { credentials: _inherited, ...deps } = this.deps
    return new AwsSession(
      { ...this.config, roleToAssume },
      { ...deps, ...(credentials ? { credentials: () => credentials(deps.env) } : {}) }
    )
  }

  /** The credentials of this session (undefined: the SDK default chain). */
  resolvedCredentials(): Promise<TemporaryCredentials | undefined> {
    return this.creds()
  }

  private async clientConfig(): Promise<{ region: string; credentials?: TemporaryCredentials }> {
    const credentials = await this.creds()
    return { region: this.config.awsRegion, ...(credentials ? { credentials } : {}) }
  }

  async iam(): Promise<IAMClient> {
    const config = await this.clientConfig()
    this.iamClient ??= new IAMClient(config)
    return this.iamClient
  }

  async s3(): Promise<S3Client> {
    return createTrailS3Client(await this.clientConfig())
  }

  async cloudtrail(region: string): Promise<CloudTrailClient> {
    return new CloudTrailClient({ ...(await this.clientConfig()), region })
  }

  async athena(): Promise<AthenaClient> {
    return new AthenaClient(await this.clientConfig())
  }

  async analyzer(): Promise<AccessAnalyzerClient> {
    const config = await this.clientConfig()
    this.analyzerClient ??= new AccessAnalyzerClient(config)
    return this.analyzerClient
  }
}

/** The run's AWS session; each entry builds one and passes it to the analysis. */
export function createAwsSession(config: Config, deps: AwsSessionDeps): AwsSession {
  return new AwsSession(config, deps)
}
