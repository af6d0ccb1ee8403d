import type { ReportV1 } from '../model.js'
import { renderMarkdown } from '../report/markdown.js'
import { callGitHub, DEFAULT_CALL_POLICY, isNotFound } from './client.js'
import type { CallPolicy, GitHubClient, RepoRef } from './client.js'
import { COMMENT_LIMIT_CHARACTERS } from './comment.js'
import type { PublishResult } from './comment.js'

export const DEFAULT_PROPOSAL_BRANCH = 'iam-least-privilege/proposals'

export interface ProposalFile {
  /** Repository path, relative, with `/` separators. */
  path: string
  content: string
}

export interface PullRequestRequest extends RepoRef {
  /** The branch that holds the proposals; always the same one, force-updated. */
  branch?: string
  /** The branch to merge into; the repository's default branch when unset. */
  base?: string
  files: ProposalFile[]
  title?: string
  commitMessage?: string
  /** Added when the pull request is created (needs `issues: write`). */
  labels?: string[]
}

export interface PullRequestOptions {
  /** Heading suffix of the body. */
  title?: string
  /** Where the full report is when the body had to be shortened (the run URL is best). */
  fullReportHint?: string
  policy?: CallPolicy
}

export interface PullRequestResult extends PublishResult {
  /** Whether a new commit was written to the branch. */
  committed: boolean
}

const FILE_MODE = '100644'

/**
 * Writes the proposal files on one fixed branch through the Git Data API and opens (or refreshes) one pull
 * request whose body is the report. The branch is always one commit on top of the base; when the files
 * already read the same on the branch (or on the base), no commit is made. Reruns therefore converge on one
 * branch, one pull request, and no duplicate commits.
 *
 * `operation`: `none` when there is nothing to propose, `created` for a new pull request, `updated` when a
 * new commit went to the branch of an open pull request, `unchanged` otherwise (its body is still refreshed).
 */
export async function publishPullRequest(
  client: GitHubClient,
  request: PullRequestRequest,
  report: ReportV1,
  options: PullRequestOptions = {}
): Promise<PullRequestResult> {
  const policy = options.policy ?? DEFAULT_CALL_POLICY
  const repo: RepoRef = { owner: request.owner, repo: request.repo }
  const branch = request.branch ?? DEFAULT_PROPOSAL_BRANCH
  const write = { permission: 'contents: write' as const, repo }
  const read = { permission: 'contents: read' as const, repo }
  const defaultBranch = async () =>
    (
      await callGitHub(
        { what: 'read the repository', ...read },
        () => client.rest.repos.get({ ...repo }),
        policy
      )
    ).data.default_branch
  if (report.summary.excess === 0 || request.files.length === 0) {
    return closeStalePullRequest(
      client,
      repo,
      branch,
      request.base ?? (await defaultBranch()),
      report,
      policy
    )
  }
  validateFiles(request.files)

  const base = request.base ?? (await defaultBranch())
  const baseRef = await callGitHub(
    {
      what: `read the branch ${base}`,
      ...read,
      notFound: `the base branch ${base} does not exist or the token cannot see the repository`
    },
    () => client.rest.git.getRef({ ...repo, ref: `heads/${base}` }),
    policy
  )
  const baseSha = baseRef.data.object.sha
  const baseCommit = await callGitHub(
    { what: `read commit ${baseSha}`, ...read },
    () => client.rest.git.getCommit({ ...repo, commit_sha: baseSha }),
    policy
  )
  const baseTree = baseCommit.data.tree.sha

  const branchHead = await readBranchHead(client, repo, branch, policy)

  const tree = await callGitHub(
    { what: 'write the proposal files', ...write },
    () =>
      client.rest.git.createTree({
        ...repo,
        base_tree: baseTree,
        tree: request.files.map(file => ({
          path: file.path,
          mode: FILE_MODE,
          type: 'blob',
          content: file.content
        }))
      }),
    policy
  )
  const newTree = tree.data.sha

  let committed = false
  if (newTree === baseTree) {
    // The base already reads like the proposal (it was merged): nothing to propose.
    const open = await findOpenPullRequest(client, repo, branch, base, policy)
    return open
      ? { operation: 'unchanged', committed, url: open.html_url, number: open.number }
      : { operation: 'none', committed }
  }
  if (branchHead?.tree !== newTree) {
    const commit = await callGitHub(
      { what: `commit the proposal files`, ...write },
      () =>
        client.rest.git.createCommit({
          ...repo,
          message: request.commitMessage ?? 'Least-privilege IAM policies from observed usage',
          tree: newTree,
          parents: [baseSha]
        }),
      policy
    )
    await moveBranch(client, repo, branch, commit.data.sha, branchHead !== undefined, policy)
    committed = true
  }

  const body = renderMarkdown(report, {
    maxLength: COMMENT_LIMIT_CHARACTERS,
    ...(options.title ? { title: options.title } : {}),
    ...(options.fullReportHint ? { fullReportHint: options.fullReportHint } : {})
  })
  const title = request.title ?? 'Least-privilege IAM policies'
  const prs = { permission: 'pull-requests: write' as const, repo }
  const open = await findOpenPullRequest(client, repo, branch, base, policy)
  if (open) {
    if (open.body !== body || open.title !== title) {
      await callGitHub(
        { what: `update pull request #${open.number}`, ...prs },
        () => client.rest.pulls.update({ ...repo, pull_number: open.number, title, body }),
        policy
      )
    }
    return {
      operation: committed ? 'updated' : 'unchanged',
      committed,
      url: open.html_url,
      number: open.number
    }
  }
  const created = await callGitHub(
    { what: `open a pull request from ${branch} into ${base}`, ...prs },
    () => client.rest.pulls.create({ ...repo, head: branch, base, title, body }),
    policy
  )
  if (request.labels && request.labels.length > 0) {
    const labels = request.labels
    await callGitHub(
      { what: `label pull request #${created.data.number}`, permission: 'issues: write', repo },
      () => client.rest.issues.addLabels({ ...repo, issue_number: created.data.number, labels }),
      policy
    )
  }
  return { operation: 'created', committed, url: created.data.html_url, number: created.data.number }
}

/**
 * Nothing left to propose: an open proposal pull request from an earlier run would still ask to remove what is no
 * longer excess, so it is closed with a body that says why.
 */
async function closeStalePullRequest(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  base: string,
  report: ReportV1,
  policy: CallPolicy
): Promise<PullRequestResult> {
  const open = await findOpenPullRequest(client, repo, branch, base, policy)
  if (!open) return { operation: 'none', committed: false }
  const body =
    '## IAM least privilege: nothing left to propose\n\n' +
    `The latest run found ${report.summary.excess === 0 ? 'no excess permissions' : 'no proposal to write'} ` +
    `for the ${report.summary.roles} role(s) it analyzed, so this pull request is closed. ` +
    'The job summary of that run has the details.\n'
  await callGitHub(
    { what: `close pull request #${open.number}`, permission: 'pull-requests: write', repo },
    () => client.rest.pulls.update({ ...repo, pull_number: open.number, body, state: 'closed' }),
    policy
  )
  return { operation: 'closed', committed: false, url: open.html_url, number: open.number }
}

function validateFiles(files: ProposalFile[]): void {
  const seen = new Set<string>()
  for (const file of files) {
    const parts = file.path.split('/')
    if (file.path.startsWith('/') || parts.some(p => p === '' || p === '.' || p === '..' || p === '.git')) {
      throw new Error(
        `policy-path ${JSON.stringify(file.path)} is not a plain relative path inside the repository: fix policy-path`
      )
    }
    if (seen.has(file.path))
      throw new Error(`two proposals map to the same file ${file.path}: make policy-path unique per role`)
    seen.add(file.path)
  }
}

async function readBranchHead(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  policy: CallPolicy
): Promise<{ sha: string; tree: string } | undefined> {
  const context = { what: `read the branch ${branch}`, permission: 'contents: read' as const, repo }
  let sha: string
  try {
    sha = (
      await callGitHub(context, () => client.rest.git.getRef({ ...repo, ref: `heads/${branch}` }), policy)
    ).data.object.sha
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
  const commit = await callGitHub(
    { ...context, what: `read commit ${sha}` },
    () => client.rest.git.getCommit({ ...repo, commit_sha: sha }),
    policy
  )
  return { sha, tree: commit.data.tree.sha }
}

async function moveBranch(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  sha: string,
  exists: boolean,
  policy: CallPolicy
): Promise<void> {
  const context = {
    what: `point the branch ${branch} at the proposal`,
    permission: 'contents: write' as const,
    repo
  }
  if (exists) {
    await callGitHub(
      context,
      () => client.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha, force: true }),
      policy
    )
    return
  }
  await callGitHub(
    context,
    () => client.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha }),
    policy
  )
}

async function findOpenPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  base: string,
  policy: CallPolicy
): Promise<{ number: number; html_url: string; body: string | null; title: string } | undefined> {
  const open = await callGitHub(
    { what: `list the pull requests from ${branch}`, permission: 'pull-requests: write', repo },
    () =>
      client.rest.pulls.list({
        ...repo,
        head: `${repo.owner}:${branch}`,
        base,
        state: 'open',
        per_page: 100
      }),
    policy
  )
  return open.data[0]
}
