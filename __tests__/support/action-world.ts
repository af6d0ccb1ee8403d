/**
 * The world an action run talks to: the AWS emulator (Access Analyzer, IAM, STS), the GitHub emulator and the
 * OIDC token endpoint, with the step environment that points the action at them.
 */
import { expect } from '@jest/globals'
import { AwsEmulator } from './aws-emulator.js'
import { STRATUS_ROLES } from './aws-emulator-seed.js'
import { GitHubEmulator } from './github-emulator.js'
import { OidcTokenServer } from './oidc-token-server.js'

export const TRAIL = 'arn:aws:cloudtrail:us-east-1:111122223333:trail/management-events'
const ACCESS_ROLE = 'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole'

export interface World {
  aws: AwsEmulator
  github: GitHubEmulator
  oidc: OidcTokenServer
  env: Record<string, string>
}

export async function startWorld(): Promise<World> {
  const aws = new AwsEmulator({ pollsInProgress: 1 })
  await aws.start()
  aws.oidc.subject = 'repo:octo-org/infra:*'
  const github = await GitHubEmulator.start({ owner: 'octo-org', repo: 'infra' })
  const oidc = new OidcTokenServer({
    claims: { sub: 'repo:octo-org/infra:ref:refs/heads/main', repository: 'octo-org/infra' }
  })
  const { env: oidcEnv } = await oidc.start()
  const {
    AWS_ENDPOINT_URL_ACCESSANALYZER = '',
    AWS_ENDPOINT_URL_IAM = '',
    AWS_ENDPOINT_URL_STS = ''
  } = aws.env()
  // No static keys: the action must get its credentials through OIDC.
  const env = {
    AWS_ENDPOINT_URL_ACCESSANALYZER,
    AWS_ENDPOINT_URL_IAM,
    AWS_ENDPOINT_URL_STS,
    AWS_EC2_METADATA_DISABLED: 'true',
    GITHUB_API_URL: github.url,
    ...oidcEnv
  }
  return { aws, github, oidc, env }
}

export async function stopWorld(world: World | undefined): Promise<void> {
  await world?.aws.stop()
  await world?.github.close()
  await world?.oidc.stop()
}

export function awsInputs(world: World, roles: string[]): Record<string, string> {
  return {
    roles: roles.join('\n'),
    'role-to-assume': world.aws.roleArn(STRATUS_ROLES.githubActions),
    'aws-region': 'us-east-1',
    'trail-arn': TRAIL,
    'access-role-arn': ACCESS_ROLE,
    'github-token': 'ghs_emulated_token'
  }
}

/** Every value the action masked must appear nowhere else in its log. */
export function expectSecretsMasked(stdout: string): void {
  const secrets = [...stdout.matchAll(/^::add-mask::(.+)$/gm)].map(m => m[1] ?? '')
  expect(secrets.length).toBeGreaterThanOrEqual(3)
  const rest = stdout
    .split('\n')
    .filter(line => !line.startsWith('::add-mask::'))
    .join('\n')
  for (const secret of secrets) expect(rest.includes(secret)).toBe(false)
}

/** The event of pull request `number`, from the repository's own branch `change` onto main at `baseSha`. */
export function pullRequestEvent(number: number, baseSha: string): { eventName: string; payload: object } {
  return {
    eventName: 'pull_request',
    payload: {
      number,
      pull_request: {
        number,
        head: { ref: 'change', sha: 'f'.repeat(40), repo: { full_name: 'octo-org/infra' } },
        base: { ref: 'main', sha: baseSha, repo: { full_name: 'octo-org/infra' } }
      }
    }
  }
}
