import type { ReportV1 } from '../model.js'
import { escapeText, htmlCommentText } from '../report/escape.js'
import { renderMarkdown } from '../report/markdown.js'
import type { RoleSections } from '../report/markdown.js'
import { isJudged } from '../report/role-facts.js'
import { callGitHub, DEFAULT_CALL_POLICY } from './client.js'
import type { CallPolicy, GitHubClient, RepoRef } from './client.js'

/** GitHub refuses comments and pull-request bodies longer than this. */
export const COMMENT_LIMIT_CHARACTERS = 65_536

/** The hidden line that finds our comment again: one sticky comment per workflow and job. */
export function commentMarker(workflow: string, job: string): string {
  return `<!-- iam-least-privilege:${markerPart(workflow)}:${markerPart(job)} -->`
}

/** `%` and `:` are encoded so that `a:b` + `c` and `a` + `b:c` give different markers. */
function markerPart(name: string): string {
  return htmlCommentText(name).replace(/%/g, '%25').replace(/:/g, '%3A')
}

interface StickyCommentTarget extends RepoRef {
  /** The pull request (or issue) number. */
  issueNumber: number
  workflow: string
  job: string
}

interface StickyCommentOptions {
  title?: string
  /** Where the full report is when the comment had to be shortened (the run URL is best). */
  fullReportHint?: string
  policy?: CallPolicy
  /** The roles' sections, when they were spooled as the roles were judged (default: rendered from the report). */
  sections?: RoleSections
}

export interface PublishResult {
  operation: 'created' | 'updated' | 'unchanged' | 'closed' | 'none'
  url?: string
  number?: number
}

/**
 * Creates or updates our sticky comment on a pull request. The comment is found by its marker among the
 * comments written by a bot (so a person quoting it is never overwritten). When nothing is excess and every
 * role was judged, an existing comment is replaced by an all-clear text and no new comment is created.
 * `number` in the result is the comment id.
 */
export async function publishStickyComment(
  client: GitHubClient,
  target: StickyCommentTarget,
  report: ReportV1,
  options: StickyCommentOptions = {}
): Promise<PublishResult> {
  const policy = options.policy ?? DEFAULT_CALL_POLICY
  const marker = commentMarker(target.workflow, target.job)
  const repo = { owner: target.owner, repo: target.repo }
  const notFound = `pull request #${target.issueNumber} does not exist or the token cannot see the repository`

  const comments = await callGitHub(
    {
      what: `list the comments of pull request #${target.issueNumber}`,
      permission: 'pull-requests: write',
      repo,
      notFound
    },
    () =>
      client.paginate(client.rest.issues.listComments, {
        ...repo,
        issue_number: target.issueNumber,
        per_page: 100
      }),
    policy
  )
  const ours = comments.find(c => c.user?.type === 'Bot' && (c.body ?? '').split('\n', 1)[0] === marker)

  const clear = isAllClear(report)
  if (clear && !ours) return { operation: 'none' }
  const body = clear
    ? renderAllClear(report, marker, options.title)
    : renderMarkdown(
        report,
        {
          maxLength: COMMENT_LIMIT_CHARACTERS,
          marker,
          ...(options.title ? { title: options.title } : {}),
          ...(options.fullReportHint ? { fullReportHint: options.fullReportHint } : {})
        },
        options.sections
      )

  if (ours) {
    if (ours.body === body) return { operation: 'unchanged', url: ours.html_url, number: ours.id }
    const updated = await callGitHub(
      { what: `update comment ${ours.id}`, permission: 'pull-requests: write', repo, notFound },
      () => client.rest.issues.updateComment({ ...repo, comment_id: ours.id, body }),
      policy
    )
    return { operation: 'updated', url: updated.data.html_url, number: updated.data.id }
  }
  const created = await callGitHub(
    {
      what: `comment on pull request #${target.issueNumber}`,
      permission: 'pull-requests: write',
      repo,
      notFound
    },
    () => client.rest.issues.createComment({ ...repo, issue_number: target.issueNumber, body }),
    policy
  )
  return { operation: 'created', url: created.data.html_url, number: created.data.id }
}

/** Nothing to remove and nothing left unjudged. */
export function isAllClear(report: ReportV1): boolean {
  // What a pull request adds, and every exemption, is always shown in full, never replaced by the all-clear text.
  const shown = (role: ReportV1['roles'][number]) =>
    (role.change?.added.length ?? 0) > 0 ||
    role.change?.checkNoNewAccess === 'FAIL' ||
    role.kept !== undefined
  return report.summary.excess === 0 && report.roles.every(isJudged) && !report.roles.some(shown)
}

/** The text that replaces the sticky comment once nothing is excess. */
function renderAllClear(report: ReportV1, marker: string, title?: string): string {
  const heading = title ? `IAM least privilege: ${escapeText(title)}` : 'IAM least privilege'
  const roles = report.summary.roles === 1 ? '1 role' : `${report.summary.roles} roles`
  return (
    `${marker}\n## ${heading}\n\n` +
    `✅ All clear: ${roles} analyzed, every granted and observable action was used in the observation window. ` +
    'Unobservable and conditional grants, if any, are listed in the job summary.\n'
  )
}

/** Whether a pull request comes from a fork, from the `pull_request` event payload. */
export function isForkPullRequest(pullRequest: {
  head: { repo: { full_name: string } | null }
  base: { repo: { full_name: string } }
}): boolean {
  return pullRequest.head.repo?.full_name !== pullRequest.base.repo.full_name
}

/**
 * The notice for a pull request from a fork: GitHub gives such runs a read-only token and no OIDC token, so
 * we can neither assume the AWS role nor comment. Meant for the job summary and the log (a comment would be
 * refused).
 */
export function renderForkNotice(details: { headRepo: string | undefined; baseRepo: string }): string {
  const from = details.headRepo ? `the fork ${escapeText(details.headRepo)}` : 'a fork that no longer exists'
  return [
    '## IAM least privilege: not run for this pull request',
    '',
    `> [!WARNING]`,
    `> This pull request comes from ${from}, not from ${escapeText(details.baseRepo)}. GitHub gives workflows ` +
      'started by a fork a read-only token and no OIDC token, so the AWS role cannot be assumed and no comment ' +
      'can be written. **Nothing was analyzed: this is not a pass.**',
    '',
    'To analyze these changes, push the branch to this repository, or run the workflow on the base branch ' +
      'after the merge. Running it on `pull_request_target` instead would hand secrets to code from the fork.'
  ].join('\n')
}
