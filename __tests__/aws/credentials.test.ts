import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { getIDToken } from '@actions/core'
import { resolveCredentials } from '../../src/aws/credentials.js'
import type { OidcCredentialOptions } from '../../src/aws/credentials.js'
import { MemoryLogger } from '../../src/logger.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { OidcTokenServer } from '../support/oidc-token-server.js'

const emulator = new AwsEmulator()
const tokens = new OidcTokenServer()
const saved = { ...process.env }
let env: Record<string, string>
let log: MemoryLogger
let roleArn: string

beforeAll(async () => {
  const { url } = await emulator.start()
  const oidc = await tokens.start()
  // The real @actions/core reads these from process.env; the STS endpoint too.
  env = { ...oidc.env, GITHUB_REPOSITORY: 'octo-org/octo-repo', GITHUB_REF: 'refs/heads/main' }
  Object.assign(process.env, env, { AWS_ENDPOINT_URL_STS: url })
  delete process.env.AWS_ACCESS_KEY_ID
  delete process.env.AWS_SECRET_ACCESS_KEY
  roleArn = emulator.roleArn(STRATUS_ROLES.githubActions)
})

beforeEach(() => {
  log = new MemoryLogger()
  emulator.clearFaults()
  Object.assign(emulator.oidc, {
    providerExists: true,
    audience: 'sts.amazonaws.com',
    subject: 'repo:octo-org/octo-repo:*'
  })
})

afterAll(async () => {
  process.env = saved
  await tokens.stop()
  await emulator.stop()
})

function options(extra: Partial<OidcCredentialOptions> = {}): OidcCredentialOptions {
  return {
    roleToAssume: roleArn,
    region: 'us-east-1',
    getIdToken: getIDToken,
    log,
    env,
    sleep: () => Promise.resolve(),
    ...extra
  }
}

describe('resolveCredentials', () => {
  it('returns undefined without role-to-assume (the SDK default chain applies)', async () => {
    await expect(resolveCredentials(options({ roleToAssume: '' }))).resolves.toBeUndefined()
  })

  it('exchanges the GitHub OIDC token (unsigned STS call) and masks every secret', async () => {
    const credentials = await resolveCredentials(
      options({ sessionName: 'least-privilege', durationSeconds: 900 })
    )

    expect(credentials?.accessKeyId).toMatch(/^ASIA/)
    expect(log.secrets).toEqual(
      expect.arrayContaining([
        credentials?.accessKeyId,
        credentials?.secretAccessKey,
        credentials?.sessionToken,
        tokens.issued.at(-1)
      ])
    )
    expect(tokens.audiences.at(-1)).toBe('sts.amazonaws.com')
    const call = emulator.requests.filter(r => r.operation === 'AssumeRoleWithWebIdentity').at(-1)
    expect(call).toMatchObject({
      status: 200,
      params: { RoleArn: roleArn, RoleSessionName: 'least-privilege', DurationSeconds: '900' }
    })
  })

  it('says the workflow lacks id-token: write when ACTIONS_ID_TOKEN_REQUEST_URL is missing', async () => {
    await expect(resolveCredentials(options({ env: {} }))).rejects.toThrow(
      'role-to-assume is set but ACTIONS_ID_TOKEN_REQUEST_URL is missing: the workflow lacks "permissions: id-token: write"'
    )
  })

  it('names the aud and sub claims to check when the trust policy refuses, without retrying', async () => {
    emulator.oidc.subject = 'repo:octo-org/other-repo:*'
    const before = emulator.count('AssumeRoleWithWebIdentity')
    const error = await resolveCredentials(options()).catch((e: Error) => e)

    expect((error as Error).message).toBe(
      `Could not assume ${roleArn}: its trust policy does not admit this workflow (AccessDenied: Not authorized to perform sts:AssumeRoleWithWebIdentity). ` +
        'Check the trust policy conditions: token.actions.githubusercontent.com:aud must be "sts.amazonaws.com" and ' +
        'token.actions.githubusercontent.com:sub must match "repo:octo-org/octo-repo:ref:refs/heads/main" (environment, pull_request and tag runs have other sub forms)'
    )
    expect(emulator.count('AssumeRoleWithWebIdentity') - before).toBe(1)
  })

  it('points at the missing OIDC identity provider on InvalidIdentityToken', async () => {
    emulator.oidc.providerExists = false
    await expect(resolveCredentials(options())).rejects.toThrow(
      /STS rejected the GitHub OIDC token \(InvalidIdentityTokenException: No OpenIDConnect provider found in your account for https:\/\/token\.actions\.githubusercontent\.com\)\. Check that the account has an IAM OIDC identity provider/
    )
  })

  it('retries IDPCommunicationError and throttling, then succeeds', async () => {
    emulator.fault({
      operation: 'AssumeRoleWithWebIdentity',
      status: 400,
      code: 'IDPCommunicationError',
      message: 'could not reach the IdP',
      times: 2
    })
    emulator.fault({
      operation: 'AssumeRoleWithWebIdentity',
      status: 400,
      code: 'Throttling',
      message: 'Rate exceeded'
    })
    const before = emulator.count('AssumeRoleWithWebIdentity')
    await expect(resolveCredentials(options())).resolves.toMatchObject({
      accessKeyId: expect.stringMatching(/^ASIA/)
    })
    expect(emulator.count('AssumeRoleWithWebIdentity') - before).toBe(4)
    expect(log.lines.filter(l => l.includes('retrying'))).toHaveLength(3)
  })

  it('gives up on transient errors after the bounded number of attempts', async () => {
    emulator.fault({
      operation: 'AssumeRoleWithWebIdentity',
      status: 500,
      code: 'InternalFailure',
      message: 'boom',
      times: 10
    })
    const before = emulator.count('AssumeRoleWithWebIdentity')
    await expect(resolveCredentials(options({ attempts: 3 }))).rejects.toThrow(
      /with STS AssumeRoleWithWebIdentity: InternalFailure: boom/
    )
    expect(emulator.count('AssumeRoleWithWebIdentity') - before).toBe(3)
  })
})
