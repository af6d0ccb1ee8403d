/**
 * The action's entry (src/main.ts) run in this process through the real @actions/core, against the AWS emulator
 * (Access Analyzer, IAM, STS), the GitHub emulator and the OIDC token endpoint. The dist/ bundle is checked by the
 * end-to-end tests; these cover the entry itself.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ReportV1 } from '../../src/model.js'
import { runActionInProcess } from '../support/action-in-process.js'
import { errorLines } from '../support/run-action.js'
import { awsInputs, expectSecretsMasked, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { awsManagedDocument, STRATUS_ROLES } from '../support/aws-emulator-seed.js'

/** The event of a pull request from `headRepo` into octo-org/infra. */
const pullRequestEvent = (number: number, headRepo: string) => ({
  number,
  pull_request: {
    number,
    head: { ref: 'patch-1', repo: { full_name: headRepo } },
    base: { ref: 'main', repo: { full_name: 'octo-org/infra' } }
  }
})

describe('the action in process', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(() => stopWorld(world))

  it('opens the proposal pull request through OIDC credentials, then fails the step on the failing role', async () => {
    const inputs = {
      ...awsInputs(world, [STRATUS_ROLES.stealCredentials, 'no-such-role']),
      mode: 'pull-request',
      'pr-labels': 'security'
    }
    const run = await runActionInProcess({ inputs, env: world.env })
    expect(run.code).toBe(1)
    expect(errorLines(run)).toEqual([
      '::error::1 of 2 role(s) failed (no-such-role); the first: role "no-such-role" does not exist in this account (IAM NoSuchEntity)'
    ])
    expectSecretsMasked(run.stdout)
    expect(world.aws.count('AssumeRoleWithWebIdentity')).toBe(1)
    expect(run.outputs).toMatchObject({ 'roles-analyzed': '1', 'roles-failed': '1' })
    expect(run.outputs['pull-request-url']).toMatch(/\/octo-org\/infra\/pull\/\d+$/)
    const [pr] = world.github.pullRequests()
    expect(pr).toMatchObject({ head: 'iam-least-privilege/proposals', labels: ['security'] })
    const report = JSON.parse(readFileSync(run.outputs.report ?? '', 'utf8')) as ReportV1
    expect(report.summary).toMatchObject({ roles: 2, analyzed: 1, failed: 1 })
    expect(JSON.parse(readFileSync(run.outputs.sarif ?? '', 'utf8'))).toMatchObject({ version: '2.1.0' })
    expect(run.summary).toContain(STRATUS_ROLES.stealCredentials)
    expect(run.stdout).toMatch(/least-privilege pull request (created|opened)/)
  })

  it('comments once on a pull request and fails the high-risk gate on what its policy file adds', async () => {
    const number = world.github.addIssue()
    const account = world.aws.accountId
    const granted = awsManagedDocument('AmazonSSMManagedInstanceCore') as { Statement: object[] }
    const edited = {
      ...granted,
      Statement: [...granted.Statement, { Effect: 'Allow', Action: 's3:*', Resource: '*' }]
    }
    const options = {
      eventName: 'pull_request',
      payload: pullRequestEvent(number, 'octo-org/infra'),
      inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), mode: 'comment', 'fail-on': 'high' },
      env: world.env,
      workspace: {
        [`iam/least-privilege/${account}/${STRATUS_ROLES.enumerate}.json`]: JSON.stringify(edited, null, 2)
      }
    }
    const first = await runActionInProcess(options)
    expect(first.code).toBe(1)
    expect(errorLines(first)).toHaveLength(1)
    expect(world.github.commentsOn(number)).toHaveLength(1)
    expect(first.outputs['comment-url']).toMatch(/#issuecomment-\d+$/)
    const second = await runActionInProcess(options)
    expect(world.github.commentsOn(number)).toHaveLength(1)
    expect(second.outputs['comment-url']).toBe(first.outputs['comment-url'])
  })

  it('publishes a notice, and fails the gate with one clear line, on a pull request from a fork', async () => {
    const number = world.github.addIssue()
    const before = world.github.requests.length
    const env = { ...world.env }
    delete env.ACTIONS_ID_TOKEN_REQUEST_URL
    delete env.ACTIONS_ID_TOKEN_REQUEST_TOKEN
    const run = await runActionInProcess({
      eventName: 'pull_request',
      payload: pullRequestEvent(number, 'someone/infra'),
      inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), mode: 'comment', 'fail-on': 'excess' },
      env
    })
    // Nothing was analyzed, so the gate (fail-on excess) cannot pass; the reason is one clear line.
    expect(run.code).toBe(1)
    expect(errorLines(run)).toEqual([
      '::error::fail-on excess: nothing was analyzed for this pull request from a fork, so the gate cannot pass'
    ])
    expect(run.stdout).toMatch(/^::notice::.*fork/m)
    expect(run.summary).toContain('someone/infra')
    expect(run.summary).toMatch(/not a pass/)
    expect(world.github.requests.length).toBe(before)
  })

  it('warns that comment mode outside a pull request publishes the job summary only', async () => {
    const run = await runActionInProcess({
      inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), mode: 'comment' },
      env: world.env
    })
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^::warning::mode is comment but this run was triggered by schedule/m)
    expect(run.outputs['comment-url']).toBeUndefined()
    expect(run.summary).toContain(STRATUS_ROLES.enumerate)
  })

  it('fails the step in one line naming a bad input, before any AWS call', async () => {
    const before = world.aws.requests.length
    const run = await runActionInProcess({
      inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), 'lookback-days': '365' },
      env: world.env
    })
    expect(run.code).toBe(1)
    expect(errorLines(run)).toEqual([
      '::error::lookback-days: 365 is more than 90; only source access-advisor reads further back (up to 400 days); use 90 or less, or add access-advisor to source'
    ])
    expect(world.aws.requests.length).toBe(before)
    expect(run.outputs).toEqual({})
  })

  it('ignores options only the CLI takes, as inputs action.yml does not declare', async () => {
    const run = await runActionInProcess({
      inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), since: 'not a date', format: 'html' },
      env: world.env
    })
    expect(errorLines(run)).toEqual([])
    expect(run.code).toBe(0)
    expect(run.outputs['roles-analyzed']).toBe('1')
  })
})

describe('the action in process, CloudTrail source without AWS', () => {
  it('offers no SARIF when no role was judged, and says why', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'empty-trail-'))
    const run = await runActionInProcess({
      inputs: {
        roles: 'arn:aws:iam::123837392027:role/app',
        source: 'cloudtrail',
        'cloudtrail-path': empty,
        'granted-source': 'files'
      },
      workspace: {
        'iam/least-privilege/123837392027/app.json': JSON.stringify(
          awsManagedDocument('AmazonSSMManagedInstanceCore')
        )
      }
    })
    expect(run.code).toBe(0)
    expect(run.outputs).toMatchObject({ 'roles-analyzed': '0', sarif: '' })
    expect(run.stdout).toMatch(/^::notice::no role was analyzed, so the sarif output is empty/m)
    const report = JSON.parse(readFileSync(run.outputs.report ?? '', 'utf8')) as ReportV1
    expect(report.roles[0]?.status).toBe('insufficient-evidence')
  })

  it('warns that pull_request_target reads the base branch', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'empty-trail-'))
    const run = await runActionInProcess({
      eventName: 'pull_request_target',
      inputs: { roles: 'arn:aws:iam::123837392027:role/app', source: 'cloudtrail', 'cloudtrail-path': empty }
    })
    expect(run.stdout).toMatch(/^::warning::pull_request_target runs with the base branch checked out/m)
  })
})
