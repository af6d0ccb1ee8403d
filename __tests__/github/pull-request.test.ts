import { afterAll, afterEach, beforeEach, describe, expect, it } from '@jest/globals'
import { NO_EXCESS } from '../../src/policy/excess.js'
import type { CallPolicy } from '../../src/github/client.js'
import { createGitHubClient, DEFAULT_CALL_POLICY } from '../../src/github/client.js'
import type { ProposalFile } from '../../src/github/pull-request.js'
import { DEFAULT_PROPOSAL_BRANCH, publishPullRequest } from '../../src/github/pull-request.js'
import type { ReportV1, RoleResult } from '../../src/model.js'
import { buildReport } from '../../src/report/json.js'
import {
  cleanReport,
  deniedOnlyRole,
  failedRole,
  mixedReport,
  stealCredentialsRole,
  withoutDiff
} from '../support/sample-reports.js'

import { GitHubEmulator } from '../support/github-emulator.js'

const BRANCH = DEFAULT_PROPOSAL_BRANCH
const waits: number[] = []
const policy: CallPolicy = { ...DEFAULT_CALL_POLICY, sleep: ms => Promise.resolve(void waits.push(ms)) }
const emulators: GitHubEmulator[] = []
let emulator: GitHubEmulator

beforeEach(async () => {
  emulator = await GitHubEmulator.start({
    files: { 'README.md': '# infra\n', 'iam/least-privilege/111122223333/legacy.json': '{}\n' }
  })
  emulators.push(emulator)
})
afterEach(() => {
  expect(emulator.validationFailures).toEqual([])
})
afterAll(async () => {
  await Promise.all(emulators.map(e => e.close()))
})

const client = () => createGitHubClient('ghs_test', { baseUrl: emulator.url })

/** The proposal files as the action writes them: one JSON document per role with a policy file. */
function proposalFiles(report: ReportV1): ProposalFile[] {
  return report.roles
    .filter(role => role.policyFile && role.proposed.length > 0)
    .map(role => ({
      path: role.policyFile as string,
      content: JSON.stringify(role.proposed[0]?.document, null, 2) + '\n'
    }))
}

const request = (report: ReportV1, extra: Partial<Parameters<typeof publishPullRequest>[1]> = {}) => ({
  owner: 'octo-org',
  repo: 'infra',
  files: proposalFiles(report),
  labels: ['security', 'iam'],
  ...extra
})

/** A CloudTrail report of `roles`, generated at midnight UTC of `day`. */
const reportOn = (day: string, roles: RoleResult[]): ReportV1 =>
  buildReport(roles, 'cloudtrail', `${day}T00:00:00Z`)

/** The steal-credentials role under another name, with its own proposal file. */
function namedRole(name: string): RoleResult {
  const role = stealCredentialsRole()
  return {
    ...role,
    arn: role.arn.replace('stratus-red-team-ec2-steal-credentials-role', name),
    policyFile: `iam/least-privilege/111122223333/${name}.json`
  }
}

/** The role re-judged as using everything it is granted: no excess, no proposal. */
function usingAllGranted(role: RoleResult): RoleResult {
  return { ...withoutDiff(role), excess: NO_EXCESS, proposed: [] }
}

describe('publishPullRequest', () => {
  it('writes the files on the branch in one commit on top of the base and opens one labelled pull request', async () => {
    const report = mixedReport()
    const result = await publishPullRequest(client(), request(report), report, { policy })

    expect(result).toMatchObject({ operation: 'created', committed: true, number: 1 })
    expect(result.url).toBe('https://github.com/octo-org/infra/pull/1')
    const [file] = proposalFiles(report)
    expect(emulator.readFile(BRANCH, file!.path)).toBe(file!.content)
    expect(emulator.readFile(BRANCH, 'iam/least-privilege/111122223333/legacy.json')).toBe('{}\n')
    expect(emulator.readFile('main', file!.path)).toBeUndefined()
    const history = emulator.history(BRANCH)
    expect(history).toHaveLength(2)
    expect(history[0]?.parents).toEqual([emulator.branchHead('main')])
    const [pr] = emulator.pullRequests()
    expect(pr).toMatchObject({ head: BRANCH, base: 'main', state: 'open', labels: ['security', 'iam'] })
    expect(pr?.body).toContain('stratus-red-team-ec2-steal-credentials-role')
  })

  it('converges over ten reruns: one branch, one pull request, no duplicate commits', async () => {
    const report = mixedReport()
    const operations: string[] = []
    for (let run = 0; run < 10; run++)
      operations.push((await publishPullRequest(client(), request(report), report, { policy })).operation)

    expect(operations).toEqual(['created', ...Array<string>(9).fill('unchanged')])
    expect(emulator.branches().sort()).toEqual(['iam-least-privilege/proposals', 'main'])
    expect(emulator.pullRequests()).toHaveLength(1)
    expect(emulator.createdCommits).toHaveLength(1)
    expect(emulator.requests.filter(r => r.operationId === 'git/create-ref')).toHaveLength(1)
    expect(emulator.requests.filter(r => r.operationId === 'git/update-ref')).toHaveLength(0)
    expect(emulator.requests.filter(r => r.operationId === 'pulls/update')).toHaveLength(0)
  })

  it('force-updates the branch with one new commit when the proposal or the base changes', async () => {
    const report = mixedReport()
    await publishPullRequest(client(), request(report), report, { policy })

    const changed = request(report)
    changed.files = changed.files.map(f => ({ ...f, content: f.content.replace('"Used"', '"UsedActions"') }))
    const updated = await publishPullRequest(client(), changed, report, { policy })
    expect(updated).toMatchObject({ operation: 'updated', committed: true, number: 1 })
    expect(emulator.history(BRANCH)).toHaveLength(2)
    expect(emulator.readFile(BRANCH, changed.files[0]!.path)).toContain('"UsedActions"')

    emulator.pushFiles('main', { 'docs/notes.md': 'moved on\n' })
    const rebased = await publishPullRequest(client(), changed, report, { policy })
    expect(rebased).toMatchObject({ operation: 'updated', committed: true })
    expect(emulator.history(BRANCH)[0]?.parents).toEqual([emulator.branchHead('main')])
    expect(emulator.readFile(BRANCH, 'docs/notes.md')).toBe('moved on\n')
    expect(emulator.createdCommits).toHaveLength(3)
    expect(emulator.pullRequests()).toHaveLength(1)
  })

  it('proposes nothing without excess, or when the base already holds the proposal', async () => {
    const before = emulator.requests.length
    expect(await publishPullRequest(client(), request(cleanReport()), cleanReport())).toEqual({
      operation: 'none',
      committed: false
    })
    // Only reads: is a proposal pull request from an earlier run still open?
    expect(emulator.requests.slice(before).every(r => r.method === 'GET')).toBe(true)

    const report = mixedReport()
    const files = proposalFiles(report)
    emulator.pushFiles('main', Object.fromEntries(files.map(f => [f.path, f.content])), 'merged proposal')
    expect(await publishPullRequest(client(), request(report), report, { policy })).toEqual({
      operation: 'none',
      committed: false
    })
    expect(emulator.createdCommits).toHaveLength(0)
    expect(emulator.pullRequests()).toHaveLength(0)
  })

  it('closes the open proposal pull request once nothing is left to propose', async () => {
    const report = mixedReport()
    const opened = await publishPullRequest(client(), request(report), report, { policy })
    expect(opened.operation).toBe('created')
    const closed = await publishPullRequest(client(), request(cleanReport()), cleanReport(), { policy })
    expect(closed).toMatchObject({ operation: 'closed', number: opened.number, url: opened.url })
    const [pr] = emulator.pullRequests()
    expect(pr).toMatchObject({ state: 'closed' })
    expect(pr?.body).toMatch(/nothing left to propose/)
    expect(await publishPullRequest(client(), request(cleanReport()), cleanReport(), { policy })).toEqual({
      operation: 'none',
      committed: false
    })
    expect(emulator.validationFailures).toEqual([])
  })

  it('carries over the file of a role not re-judged, and says why in the body', async () => {
    const report = mixedReport()
    const [file] = proposalFiles(report)
    await publishPullRequest(client(), request(report), report, { policy })
    const head = emulator.branchHead(BRANCH)

    // The next run could not read the role (a transient AccessDenied): its proposal stays on the branch.
    const failing = reportOn(
      '2026-11-28',
      report.roles.map(role =>
        role.policyFile === file!.path
          ? {
              ...role,
              status: 'failed' as const,
              reason: 'AccessDenied | on GetRole',
              excess: NO_EXCESS,
              proposed: []
            }
          : role
      )
    )
    const result = await publishPullRequest(client(), request(failing), failing, { policy })
    expect(result).toMatchObject({ operation: 'unchanged', committed: false, number: 1 })
    expect(emulator.branchHead(BRANCH)).toBe(head)
    expect(emulator.readFile(BRANCH, file!.path)).toBe(file!.content)
    const body = emulator.pullRequests()[0]!.body!
    expect(body).toContain('Not re-judged in this run')
    expect(body).toContain('AccessDenied \\| on GetRole')

    // A run that did not select the role at all keeps it too, on top of a base that moved.
    emulator.pushFiles('main', { 'docs/notes.md': 'moved on\n' })
    const other = reportOn('2026-11-29', [deniedOnlyRole()])
    const rebased = await publishPullRequest(client(), request(other), other, { policy })
    expect(rebased).toMatchObject({ operation: 'updated', committed: true })
    expect(emulator.readFile(BRANCH, file!.path)).toBe(file!.content)
    expect(emulator.readFile(BRANCH, 'docs/notes.md')).toBe('moved on\n')
    expect(emulator.pullRequests()[0]!.body).toContain('the role was not selected in this run')
    expect(emulator.pullRequests()[0]!.state).toBe('open')
  })

  it('carries over only files policy-path can produce, never a file pushed to the branch by hand', async () => {
    const report = mixedReport()
    const [file] = proposalFiles(report)
    const withPath = { policyPath: 'iam/least-privilege/{account}/{role}.json' }
    await publishPullRequest(client(), request(report, withPath), report, { policy })
    emulator.pushFiles(
      BRANCH,
      { '.github/workflows/evil.yml': 'on: push\n', [file!.path]: '{"by":"hand"}\n' },
      'by hand'
    )
    const other = reportOn('2026-11-29', [deniedOnlyRole()])
    const result = await publishPullRequest(client(), request(other, withPath), other, { policy })
    expect(result).toMatchObject({ operation: 'updated', committed: true })
    expect(emulator.readFile(BRANCH, '.github/workflows/evil.yml')).toBeUndefined()
    expect(emulator.readFile(BRANCH, file!.path)).toBe('{"by":"hand"}\n')
    expect(emulator.history(BRANCH)[0]?.parents).toEqual([emulator.branchHead('main')])
  })

  it('carries over the files of roles not re-judged after a reviewer pushed to the branch or updated it from the base', async () => {
    const first = reportOn('2026-11-27', [namedRole('app'), namedRole('batch')])
    const withPath = { policyPath: 'iam/least-privilege/{account}/{role}.json' }
    await publishPullRequest(client(), request(first, withPath), first, { policy })
    const batchFile = 'iam/least-privilege/111122223333/batch.json'
    const batchProposal = emulator.readFile(BRANCH, batchFile)
    expect(batchProposal).toBeDefined()

    // A reviewer commits a note on the branch, then presses "Update branch" after the base moved.
    emulator.pushFiles(BRANCH, { 'docs/review.md': 'looked at it\n' }, 'review notes')
    emulator.pushFiles('main', { 'docs/notes.md': 'moved on\n' })
    emulator.mergeInto(BRANCH, 'main')

    // The next run re-judges app (with a changed proposal) but cannot read batch.
    const second = reportOn('2026-11-28', [
      namedRole('app'),
      {
        ...namedRole('batch'),
        status: 'failed' as const,
        reason: 'AccessDenied',
        excess: NO_EXCESS,
        proposed: []
      }
    ])
    const files = request(second, withPath).files.map(f => ({ ...f, content: `${f.content}\n` }))
    const result = await publishPullRequest(client(), { ...request(second, withPath), files }, second, {
      policy
    })
    expect(result).toMatchObject({ operation: 'updated', committed: true, number: 1 })
    expect(emulator.readFile(BRANCH, batchFile)).toBe(batchProposal)
    expect(emulator.readFile(BRANCH, 'docs/notes.md')).toBe('moved on\n')
    expect(emulator.pullRequests()[0]!.body).toContain(batchFile)
  })

  it('closes a pull request whose every file belongs to a role re-judged without a proposal, whatever other roles did', async () => {
    const report = mixedReport()
    const [file] = proposalFiles(report)
    const opened = await publishPullRequest(client(), request(report), report, { policy })
    // The role of the only file now uses what it is granted; another role failed (it has no file here): the
    // earlier proposal would remove access the role uses, so it must not stay open for merging.
    const partlyFailed = reportOn('2026-11-28', [usingAllGranted(stealCredentialsRole()), failedRole()])
    const closed = await publishPullRequest(client(), request(partlyFailed), partlyFailed, { policy })
    expect(closed).toMatchObject({ operation: 'closed', number: opened.number })
    expect(emulator.pullRequests()[0]).toMatchObject({ state: 'closed' })
    expect(emulator.pullRequests()[0]!.body).toMatch(/proposal superseded/)

    // Excess again with a proposal: the same pull request comes back.
    const again = await publishPullRequest(client(), request(report), report, { policy })
    expect(again).toMatchObject({ operation: 'updated', number: opened.number })
    expect(emulator.readFile(BRANCH, file!.path)).toBe(file!.content)

    // The proposal is withheld now (a check failed): same answer.
    const withheld = reportOn('2026-11-29', [
      {
        ...withoutDiff(stealCredentialsRole()),
        proposed: [],
        proposalOutcome: 'withheld' as const,
        proposalNotes: ['proposal withheld: Access Analyzer CheckNoNewAccess found possible new access']
      }
    ])
    expect(await publishPullRequest(client(), request(withheld), withheld, { policy })).toMatchObject({
      operation: 'closed',
      number: opened.number
    })
  })

  it('closes it too when the files still written are already on the base', async () => {
    const first = reportOn('2026-11-27', [namedRole('app'), namedRole('batch')])
    const opened = await publishPullRequest(client(), request(first), first, { policy })
    const appFile = 'iam/least-privilege/111122223333/app.json'
    // app's proposal reached the base another way; batch now uses everything it is granted.
    emulator.pushFiles('main', { [appFile]: emulator.readFile(BRANCH, appFile)! })
    const second = reportOn('2026-11-28', [namedRole('app'), usingAllGranted(namedRole('batch'))])
    expect(await publishPullRequest(client(), request(second), second, { policy })).toMatchObject({
      operation: 'closed',
      number: opened.number
    })
  })

  it('reopens its closed pull request while the branch exists, and opens a new one once it is gone', async () => {
    const report = mixedReport()
    const opened = await publishPullRequest(client(), request(report), report, { policy })
    emulator.closePullRequest(opened.number!)
    const again = await publishPullRequest(client(), request(report), report, { policy })
    expect(again).toMatchObject({ operation: 'updated', committed: false, number: opened.number })
    expect(emulator.pullRequests()).toHaveLength(1)
    expect(emulator.pullRequests()[0]!.state).toBe('open')

    // Closed by our own run, then excess again with a changed proposal: the same pull request comes back.
    await publishPullRequest(client(), request(cleanReport()), cleanReport(), { policy })
    const changed = request(report)
    changed.files = changed.files.map(f => ({ ...f, content: f.content.replace('"Used"', '"UsedActions"') }))
    const reopened = await publishPullRequest(client(), changed, report, { policy })
    expect(reopened).toMatchObject({ operation: 'updated', committed: true, number: opened.number })
    expect(emulator.pullRequests().map(pr => pr.state)).toEqual(['open'])

    emulator.closePullRequest(opened.number!)
    emulator.deleteBranch(BRANCH)
    const fresh = await publishPullRequest(client(), request(report), report, { policy })
    expect(fresh).toMatchObject({ operation: 'created', number: opened.number! + 1 })
  })

  it('names the permission a 403 says is missing', async () => {
    const report = mixedReport()
    emulator.denyPermission('git/create-tree')
    await expect(publishPullRequest(client(), request(report), report, { policy })).rejects.toThrow(
      'GitHub refused to write the proposal files in octo-org/infra (403 Resource not accessible by integration): ' +
        'add `permissions: contents: write` to the workflow job'
    )
    emulator.denyPermission('pulls/create')
    await expect(publishPullRequest(client(), request(report), report, { policy })).rejects.toThrow(
      'add `permissions: pull-requests: write` to the workflow job'
    )
    emulator.denyPermission('issues/add-labels')
    await expect(publishPullRequest(client(), request(report), report, { policy })).rejects.toThrow(
      'GitHub refused to label pull request #1 in octo-org/infra (403 Resource not accessible by integration): add `permissions: issues: write` to the workflow job'
    )
  })

  it('says the token cannot see the repository on 404', async () => {
    const report = mixedReport()
    await expect(
      publishPullRequest(client(), request(report, { owner: 'octo-org', repo: 'secret' }), report, { policy })
    ).rejects.toThrow(
      'GitHub answered 404 while trying to read the repository: the token cannot see the repository octo-org/secret'
    )
  })

  it('retries through rate limits and still converges', async () => {
    const report = mixedReport()
    waits.length = 0
    emulator.rateLimit('git/create-tree', 'secondary')
    emulator.rateLimit('pulls/list', 'primary')
    const result = await publishPullRequest(client(), request(report), report, { policy })
    expect(result.operation).toBe('created')
    expect(waits).toHaveLength(2)
    expect(emulator.createdCommits).toHaveLength(1)
    expect(emulator.pullRequests()).toHaveLength(1)
  })

  it("keeps the body within GitHub's limit for a large report and says why a 422 happened", async () => {
    const roles = Array.from({ length: 300 }, (_, i) => ({
      ...mixedReport().roles.find(r => r.policyFile)!,
      arn: `arn:aws:iam::111122223333:role/app-${i}`,
      policyFile: `iam/least-privilege/111122223333/app-${i}.json`
    }))
    const large = reportOn('2026-11-27', roles)
    emulator.injectFault({ operationId: 'pulls/create', status: 422, message: 'Validation Failed' })
    await expect(publishPullRequest(client(), request(large), large, { policy })).rejects.toThrow(
      'GitHub failed to open a pull request from iam-least-privilege/proposals into main in octo-org/infra (422: Validation Failed)'
    )
    const result = await publishPullRequest(client(), request(large), large, {
      policy,
      fullReportHint: 'https://github.com/octo-org/infra/actions/runs/7'
    })
    expect(result.operation).toBe('created')
    const body = emulator.pullRequests()[0]!.body!
    expect(body.length).toBeLessThanOrEqual(65_536)
    expect(body).toContain('(https://github.com/octo-org/infra/actions/runs/7)')
    expect(emulator.readFile(BRANCH, 'iam/least-privilege/111122223333/app-299.json')).toBeDefined()
  })

  it('rejects a file path that leaves the repository', async () => {
    const report = mixedReport()
    const bad = request(report, { files: [{ path: '../outside.json', content: '{}' }] })
    await expect(publishPullRequest(client(), bad, report, { policy })).rejects.toThrow(
      'policy-path "../outside.json" is not a plain relative path inside the repository: fix policy-path'
    )
  })
})
