import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { NO_EXCESS } from '../../src/policy/excess.js'
import type { CallPolicy } from '../../src/github/client.js'
import { createGitHubClient, DEFAULT_CALL_POLICY } from '../../src/github/client.js'
import {
  commentMarker,
  isAllClear,
  isForkPullRequest,
  publishStickyComment,
  renderForkNotice
} from '../../src/github/comment.js'
import { buildReport } from '../../src/report/json.js'
import { GitHubEmulator } from '../support/github-emulator.js'
import { cleanReport, failedRole, mixedReport, stealCredentialsRole } from '../support/sample-reports.js'

let emulator: GitHubEmulator
const waits: number[] = []
const policy: CallPolicy = { ...DEFAULT_CALL_POLICY, sleep: ms => Promise.resolve(void waits.push(ms)) }

beforeAll(async () => {
  emulator = await GitHubEmulator.start()
})
afterAll(async () => {
  await emulator.close()
})
afterEach(() => {
  expect(emulator.validationFailures).toEqual([])
})

const client = () => createGitHubClient('ghs_test', { baseUrl: emulator.url })
const target = (issueNumber: number, job = 'analyze') => ({
  owner: 'octo-org',
  repo: 'infra',
  issueNumber,
  workflow: 'least-privilege',
  job
})
const ours = (issue: number) => emulator.commentsOn(issue).filter(c => c.user.type === 'Bot')

describe('publishStickyComment', () => {
  it('creates the comment once, then updates it in place, and leaves it alone when nothing changed', async () => {
    const issue = emulator.addIssue()
    const created = await publishStickyComment(client(), target(issue), mixedReport(), { policy })
    expect(created.operation).toBe('created')
    expect(created.url).toMatch(/\/pull\/\d+#issuecomment-\d+$/)
    const [comment] = ours(issue)
    expect(comment?.body.split('\n')[0]).toBe('<!-- iam-least-privilege:least-privilege:analyze -->')
    expect(comment?.body).toContain('stratus-red-team-ec2-steal-credentials-role')

    const single = buildReport([stealCredentialsRole()], 'cloudtrail', '2026-11-28T00:00:00Z')
    const updated = await publishStickyComment(client(), target(issue), single, { policy })
    expect(updated).toMatchObject({ operation: 'updated', number: created.number })
    expect(ours(issue)).toHaveLength(1)
    expect(ours(issue)[0]?.body).not.toContain('leave-org-role')

    const unchanged = await publishStickyComment(client(), target(issue), single, { policy })
    expect(unchanged).toMatchObject({ operation: 'unchanged', number: created.number })
    expect(emulator.requests.filter(r => r.operationId === 'issues/update-comment')).toHaveLength(1)
  })

  it('finds its comment on a later page and never edits a person quoting the marker', async () => {
    const issue = emulator.addIssue()
    const marker = commentMarker('least-privilege', 'analyze')
    const quote = emulator.seedComment(issue, `${marker}\nquoting the bot`, {
      login: 'alice',
      id: 7,
      type: 'User'
    })
    for (let i = 0; i < 120; i++)
      emulator.seedComment(issue, `comment ${i}`, { login: 'bob', id: 8, type: 'User' })

    const created = await publishStickyComment(client(), target(issue), mixedReport(), { policy })
    expect(created.operation).toBe('created')
    const again = await publishStickyComment(
      client(),
      target(issue),
      buildReport([stealCredentialsRole()], 'cloudtrail', 'x'),
      { policy }
    )
    expect(again).toMatchObject({ operation: 'updated', number: created.number })
    expect(emulator.commentsOn(issue).find(c => c.id === quote.id)?.body).toBe(`${marker}\nquoting the bot`)
    expect(ours(issue)).toHaveLength(1)
    const pages = emulator.requests.filter(
      r => r.operationId === 'issues/list-comments' && r.url.includes('page=2')
    )
    expect(pages.length).toBeGreaterThanOrEqual(2)
  })

  it('makes a marker per workflow and job that names cannot forge or close', () => {
    expect(commentMarker('deploy: prod', 'plan')).not.toBe(commentMarker('deploy', ' prod:plan'))
    expect(commentMarker('a --> <b>', 'job')).toBe('<!-- iam-least-privilege:a - b:job -->')
  })

  it('keeps one comment per workflow job', async () => {
    const issue = emulator.addIssue()
    await publishStickyComment(client(), target(issue, 'prod'), mixedReport(), { policy })
    await publishStickyComment(client(), target(issue, 'staging'), mixedReport(), { policy })
    await publishStickyComment(client(), target(issue, 'prod'), mixedReport(), { policy })
    expect(ours(issue).map(c => c.body.split('\n')[0])).toEqual([
      '<!-- iam-least-privilege:least-privilege:prod -->',
      '<!-- iam-least-privilege:least-privilege:staging -->'
    ])
  })

  it('replaces the comment with an all-clear once nothing is excess, and writes nothing new when all is clear', async () => {
    const issue = emulator.addIssue()
    await publishStickyComment(client(), target(issue), mixedReport(), { policy })
    const clear = await publishStickyComment(client(), target(issue), cleanReport(), { policy })
    expect(clear.operation).toBe('updated')
    expect(ours(issue)[0]?.body).toContain('✅ All clear: 1 role analyzed')

    const fresh = emulator.addIssue()
    expect(await publishStickyComment(client(), target(fresh), cleanReport(), { policy })).toEqual({
      operation: 'none'
    })
    expect(emulator.commentsOn(fresh)).toEqual([])
  })

  it('names the missing permission on 403 and the pull request on 404', async () => {
    const issue = emulator.addIssue()
    emulator.denyPermission('issues/create-comment')
    await expect(publishStickyComment(client(), target(issue), mixedReport(), { policy })).rejects.toThrow(
      'GitHub refused to comment on pull request #' +
        `${issue} in octo-org/infra (403 Resource not accessible by integration): add \`permissions: pull-requests: write\` to the workflow job`
    )
    await expect(publishStickyComment(client(), target(99_999), mixedReport(), { policy })).rejects.toThrow(
      'pull request #99999 does not exist or the token cannot see the repository'
    )
  })

  it('waits out primary and secondary rate limits, a bounded number of times', async () => {
    const issue = emulator.addIssue()
    waits.length = 0
    emulator.rateLimit('issues/list-comments', 'primary')
    emulator.rateLimit('issues/create-comment', 'secondary')
    const result = await publishStickyComment(client(), target(issue), mixedReport(), { policy })
    expect(result.operation).toBe('created')
    expect(waits).toHaveLength(2)
    expect(waits[1]).toBe(1000)
    expect(ours(issue)).toHaveLength(1)

    emulator.rateLimit('issues/list-comments', 'secondary', 10)
    const before = emulator.requests.length
    await expect(publishStickyComment(client(), target(issue), mixedReport(), { policy })).rejects.toThrow(
      /^GitHub rate limit hit while trying to list the comments of pull request #\d+ in octo-org\/infra \(4 attempts/
    )
    expect(emulator.requests.length - before).toBe(4)
    emulator.clearFaults()

    // A primary limit that resets in an hour is not waited for.
    const reset = String(Math.floor(Date.now() / 1000) + 3600)
    emulator.injectFault({
      operationId: 'issues/list-comments',
      status: 403,
      message: 'API rate limit exceeded for installation ID 1.',
      headers: { 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': reset }
    })
    await expect(publishStickyComment(client(), target(issue), mixedReport(), { policy })).rejects.toThrow(
      /\(1 attempt, next retry in 3\d{3} s\): run again later$/
    )
  })
})

describe('fork pull requests', () => {
  it('are recognized by their head repository', () => {
    const base = { repo: { full_name: 'octo-org/infra' } }
    expect(isForkPullRequest({ head: { repo: { full_name: 'mallory/infra' } }, base })).toBe(true)
    expect(isForkPullRequest({ head: { repo: null }, base })).toBe(true)
    expect(isForkPullRequest({ head: { repo: { full_name: 'octo-org/infra' } }, base })).toBe(false)
  })

  it('get a notice that says nothing was analyzed, with hostile names escaped', () => {
    const notice = renderForkNotice({ headRepo: 'mallory/<img src=x>@team', baseRepo: 'octo-org/infra' })
    expect(notice).toContain('**Nothing was analyzed: this is not a pass.**')
    expect(notice).not.toContain('<img')
    expect(notice).not.toMatch(/@team/)
  })
})

describe('isAllClear', () => {
  it('is not held back by a service-linked role nobody can change, but is by a role not judged', () => {
    const clean = { ...stealCredentialsRole(), excess: NO_EXCESS }
    const serviceLinked = { ...failedRole(), status: 'skipped' as const, editable: false }
    expect(isAllClear(buildReport([clean, serviceLinked], 'cloudtrail', '2026-11-27T00:00:00Z'))).toBe(true)
    expect(isAllClear(buildReport([clean, failedRole()], 'cloudtrail', '2026-11-27T00:00:00Z'))).toBe(false)
  })
})
