import type { ReportV1 } from '../model.js'
import { renderMarkdown } from '../report/markdown.js'
import type { RoleSections } from '../report/markdown.js'
import { escapeText, code } from '../report/escape.js'
import { inputDefault } from '../config.js'
import { callGitHub, DEFAULT_CALL_POLICY, GitHubError, isNotFound } from './client.js'
import type { CallPolicy, GitHubClient, RepoRef } from './client.js'
import { COMMENT_LIMIT_CHARACTERS } from './comment.js'
import type { PublishResult } from './comment.js'

/** pr-branch's default. */
export const DEFAULT_PROPOSAL_BRANCH = inputDefault('pr-branch')

export interface ProposalFile {
  /** Repository path, relative, with `/` separators. */
  path: string
  content: string
}

interface PullRequestRequest extends RepoRef {
  /** The branch that holds the proposals; always the same one, force-updated. */
  branch?: string
  /** The branch to merge into; the repository's default branch when unset. */
  base?: string
  files: ProposalFile[]
  title?: string
  commitMessage?: string
  /** Added when the pull request is created (needs `issues: write`). */
  labels?: string[]
  /**
   * The policy-path template (`{account}`, `{role}`): only files it matches are carried over from the previous
   * branch state, so a commit pushed to the branch by hand never smuggles other files into the proposal.
   */
  policyPath?: string
  /**
   * A file committed with the proposal that is not one (the judged-roles state): it never makes or keeps a pull
   * request by itself, and the branch is not rewritten while the proposal and this file read the same.
   */
  alongside?: ProposalFile
  /**
   * Without `alongside`: a path carried over unchanged from the branch's head into the new proposal commit (the
   * judged-roles state, when it could not be read to be rewritten), so that commit does not drop it.
   */
  keep?: string
}

interface PullRequestOptions {
  /** Heading suffix of the body. */
  title?: string
  /** Where the full report is when the body had to be shortened (the run URL is best). */
  fullReportHint?: string
  policy?: CallPolicy
  /** A Markdown section after the report (the infrastructure-code diff), kept whole. */
  appendix?: string
  /** The roles' sections, when they were spooled as the roles were judged (default: rendered from the report). */
  sections?: RoleSections
}

interface PullRequestResult extends PublishResult {
  /** Whether a new commit was written to the branch. */
  committed: boolean
}

const FILE_MODE = '100644' as const

/** A file of the previous proposal branch kept as it was: its role was not re-judged in this run. */
interface CarriedFile {
  path: string
  /** The blob on the previous branch (reused as is). */
  sha: string
  /** The role the file belongs to, when this run's report names it. */
  roleArn?: string
  /** Why the role was not re-judged. */
  why: string
}

/**
 * Writes the proposal files on one fixed branch through the Git Data API and opens (or refreshes) one pull
 * request whose body is the report. The branch is always one commit on top of the base, rebuilt from the
 * previous branch state: the files this run wrote, plus the files of roles it did not re-judge (failed,
 * skipped, not enough evidence, not selected), carried over unchanged. When the files already read the same
 * on the branch (or on the base), no commit is made, so reruns converge on one branch and one pull request.
 *
 * The pull request is closed when every role of the report was analyzed and none has excess, or when every file
 * it changes belongs to a role this run analyzed and has no proposal for (the earlier proposal could remove access
 * the role now uses); never while it holds the file of a role not re-judged. A closed, unmerged one whose branch
 * still exists is reopened rather than duplicated.
 *
 * `operation`: `none` when there is nothing to propose, `created` for a new pull request, `updated` when a
 * new commit went to the branch of an open (or reopened) pull request, `unchanged` otherwise.
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
  // Without excess there is nothing to write, whatever files were passed.
  const files = report.summary.excess === 0 ? [] : request.files
  validateFiles(files)

  const base =
    request.base ??
    (
      await callGitHub(
        { what: 'read the repository', ...read },
        () => client.rest.repos.get({ ...repo }),
        policy
      )
    ).data.default_branch
  // The branch is moved by force: the base must never be it, or the proposal would land there unreviewed.
  if (branch === base) throw proposalBranchIsBase(branch, repo)
  const branchHead = await readBranchHead(client, repo, branch, policy)
  const readBaseSha = async () =>
    (
      await callGitHub(
        {
          what: `read the branch ${base}`,
          ...read,
          notFound: `the base branch ${base} does not exist or the token cannot see the repository`
        },
        () => client.rest.git.getRef({ ...repo, ref: `heads/${base}` }),
        policy
      )
    ).data.object.sha
  const knownBaseSha = branchHead || files.length > 0 ? await readBaseSha() : undefined
  // The file written alongside is never carried over as a proposal of its own.
  const written = request.alongside ? [...files, request.alongside] : files
  const carried =
    branchHead && knownBaseSha
      ? await carriedFiles(
          client,
          repo,
          branchHead,
          knownBaseSha,
          report,
          written,
          request.policyPath,
          policy
        )
      : []
  const everyRoleJudged = report.roles.every(role => role.status === 'analyzed')

  if (files.length === 0 && carried.length === 0) {
    if (everyRoleJudged && report.summary.excess === 0)
      return closeStalePullRequest(client, repo, branch, base, nothingLeftBody(report), policy)
    // Every file on the branch belongs to a role this run analyzed and has no proposal for (no excess any more,
    // or the proposal was withheld): that earlier proposal may remove access the role now uses.
    if (branchHead) return closeStalePullRequest(client, repo, branch, base, supersededBody(), policy)
    return { operation: 'none', committed: false }
  }

  const baseSha = knownBaseSha ?? (await readBaseSha())
  const baseCommit = await callGitHub(
    { what: `read commit ${baseSha}`, ...read },
    () => client.rest.git.getCommit({ ...repo, commit_sha: baseSha }),
    policy
  )
  const baseTree = baseCommit.data.tree.sha

  const tree = await callGitHub(
    { what: 'write the proposal files', ...write },
    () =>
      client.rest.git.createTree({
        ...repo,
        base_tree: baseTree,
        tree: [
          ...files.map(file => ({
            path: file.path,
            mode: FILE_MODE,
            type: 'blob' as const,
            content: file.content
          })),
          ...carried.map(file => ({ path: file.path, mode: FILE_MODE, type: 'blob' as const, sha: file.sha }))
        ]
      }),
    policy
  )
  const newTree = tree.data.sha

  if (newTree === baseTree) {
    // The base already reads like the proposal (it was merged): nothing to propose. A branch that still proposes
    // more holds only files of roles this run analyzed and has no proposal for.
    if (branchHead && branchHead.tree !== baseTree)
      return closeStalePullRequest(client, repo, branch, base, supersededBody(), policy)
    const open = await findOpenPullRequest(client, repo, branch, base, policy)
    return open
      ? { operation: 'unchanged', committed: false, url: open.html_url, number: open.number }
      : { operation: 'none', committed: false }
  }

  const alongside = request.alongside
  const keep = !alongside && request.keep && branchHead ? request.keep : undefined
  const keptSha =
    keep && branchHead ? (await readBlobs(client, repo, branchHead.tree, policy)).get(keep) : undefined
  const extra = alongside
    ? { path: alongside.path, mode: FILE_MODE, type: 'blob' as const, content: alongside.content }
    : keep && keptSha
      ? { path: keep, mode: FILE_MODE, type: 'blob' as const, sha: keptSha }
      : undefined
  const committedTree = extra
    ? (
        await callGitHub(
          { what: `write ${extra.path}`, ...write },
          () => client.rest.git.createTree({ ...repo, base_tree: newTree, tree: [extra] }),
          policy
        )
      ).data.sha
    : newTree

  const body = renderPullRequestBody(report, carried, options)
  const title = request.title ?? 'Least-privilege IAM policies'
  const prs = { permission: 'pull-requests: write' as const, repo }
  // Reopen before the branch moves: GitHub refuses to reopen a pull request whose branch was force-pushed since.
  const existing =
    (await findOpenPullRequest(client, repo, branch, base, policy)) ??
    (branchHead ? await reopenClosedPullRequest(client, repo, branch, base, policy) : undefined)

  let committed = false
  if (branchHead?.tree !== committedTree) {
    const commit = await callGitHub(
      { what: `commit the proposal files`, ...write },
      () =>
        client.rest.git.createCommit({
          ...repo,
          message: request.commitMessage ?? 'Least-privilege IAM policies from observed usage',
          tree: committedTree,
          parents: [baseSha]
        }),
      policy
    )
    await moveBranch(client, repo, branch, commit.data.sha, branchHead !== undefined, policy)
    committed = true
  }

  if (existing) {
    if (existing.body !== body || existing.title !== title) {
      await callGitHub(
        { what: `update pull request #${existing.number}`, ...prs },
        () => client.rest.pulls.update({ ...repo, pull_number: existing.number, title, body }),
        policy
      )
    }
    return {
      operation: committed || existing.reopened ? 'updated' : 'unchanged',
      committed,
      url: existing.html_url,
      number: existing.number
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

/** The report, after a section naming the files carried over from the previous run and why. */
function renderPullRequestBody(
  report: ReportV1,
  carried: CarriedFile[],
  options: PullRequestOptions
): string {
  const section = carriedSection(carried) + (options.appendix ?? '')
  const rendered = renderMarkdown(
    report,
    {
      // The section follows after one line break.
      maxLength: COMMENT_LIMIT_CHARACTERS - (section ? section.length + 1 : 0),
      ...(options.title ? { title: options.title } : {}),
      ...(options.fullReportHint ? { fullReportHint: options.fullReportHint } : {})
    },
    options.sections
  )
  return section ? `${rendered}\n${section}` : rendered
}

/** At most this many carried files are listed one by one in the body (the rest are counted). */
const CARRIED_LISTED = 50

function carriedSection(carried: CarriedFile[]): string {
  if (carried.length === 0) return ''
  const rows = carried
    .slice(0, CARRIED_LISTED)
    .map(
      file => `| ${code(file.path)} | ${file.roleArn ? code(file.roleArn) : '—'} | ${escapeText(file.why)} |`
    )
  const more = carried.length > CARRIED_LISTED ? [`| … | ${carried.length - CARRIED_LISTED} more | |`] : []
  return [
    '### Not re-judged in this run',
    '',
    `${carried.length === 1 ? 'This file is' : 'These files are'} the proposal of an earlier run, kept unchanged ` +
      'because this run did not analyze the role:',
    '',
    '| File | Role | Why |',
    '| --- | --- | --- |',
    ...rows,
    ...more,
    ''
  ].join('\n')
}

/**
 * The files the proposal branch changed since it left the base (against their merge base, so commits a reviewer
 * pushed on top and merges of the base into the branch count too), except the files of roles this run analyzed
 * (their file is whatever this run wrote, or nothing) and the files this run writes.
 */
async function carriedFiles(
  client: GitHubClient,
  repo: RepoRef,
  head: BranchHead,
  baseSha: string,
  report: ReportV1,
  written: ProposalFile[],
  policyPath: string | undefined,
  policy: CallPolicy
): Promise<CarriedFile[]> {
  const mergeBaseTree = await readMergeBaseTree(client, repo, baseSha, head.sha, policy)
  if (!mergeBaseTree) return []
  const isPolicyFile = policyPathMatcher(policyPath)
  const [proposal, parent] = await Promise.all([
    readBlobs(client, repo, head.tree, policy),
    readBlobs(client, repo, mergeBaseTree, policy)
  ])
  const byFile = new Map(report.roles.filter(r => r.policyFile).map(r => [r.policyFile as string, r]))
  const replaced = new Set(written.map(file => file.path))
  const carried: CarriedFile[] = []
  for (const [path, sha] of proposal) {
    if (parent.get(path) === sha || replaced.has(path) || !isPolicyFile(path)) continue
    const role = byFile.get(path)
    if (role?.status === 'analyzed') continue
    carried.push({
      path,
      sha,
      ...(role ? { roleArn: role.arn } : {}),
      why: role
        ? `${role.status}${role.reason ? `: ${role.reason}` : ''}`
        : 'the role was not selected in this run'
    })
  }
  return carried.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
}

/** The tree of the merge base of two commits; undefined when their histories share no commit. */
async function readMergeBaseTree(
  client: GitHubClient,
  repo: RepoRef,
  baseSha: string,
  headSha: string,
  policy: CallPolicy
): Promise<string | undefined> {
  try {
    const compared = await callGitHub(
      { what: `compare the proposal branch with its base`, permission: 'contents: read', repo },
      () =>
        client.rest.repos.compareCommitsWithBasehead({
          ...repo,
          basehead: `${baseSha}...${headSha}`,
          per_page: 1
        }),
      policy
    )
    return compared.data.merge_base_commit.commit.tree.sha
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** Whether a path is one `policy-path` can produce: `{account}` is 12 digits, `{role}` a role name. */
function policyPathMatcher(template: string | undefined): (path: string) => boolean {
  if (!template) return () => true
  const pattern = template
    .split(/(\{account\}|\{role\})/)
    .map(part =>
      part === '{account}'
        ? '\\d{12}'
        : part === '{role}'
          ? '[\\w+=,.@-]{1,64}'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    )
    .join('')
  const regex = new RegExp(`^${pattern}$`)
  return path => regex.test(path)
}

/** path -> blob SHA of every file of a tree. */
async function readBlobs(
  client: GitHubClient,
  repo: RepoRef,
  treeSha: string,
  policy: CallPolicy
): Promise<Map<string, string>> {
  const tree = await callGitHub(
    { what: `read tree ${treeSha}`, permission: 'contents: read', repo },
    () => client.rest.git.getTree({ ...repo, tree_sha: treeSha, recursive: 'true' }),
    policy
  )
  if (tree.data.truncated) {
    throw new Error(
      `the tree ${treeSha} of the proposal branch is too large for one GitHub API answer, so the files of roles not re-judged cannot be carried over; set pr-branch to a new branch name`
    )
  }
  const blobs = new Map<string, string>()
  for (const entry of tree.data.tree)
    if (entry.type === 'blob' && entry.path && entry.sha) blobs.set(entry.path, entry.sha)
  return blobs
}

function nothingLeftBody(report: ReportV1): string {
  return (
    '## IAM least privilege: nothing left to propose\n\n' +
    `The latest run analyzed all ${report.summary.roles} selected role(s) and found no excess permissions, ` +
    'so this pull request is closed. The job summary of that run has the details.\n'
  )
}

function supersededBody(): string {
  return (
    '## IAM least privilege: proposal superseded\n\n' +
    'The latest run analyzed every role whose policy file this pull request changes and has no proposal to ' +
    'write for them (they use what they are granted now, or the proposal was withheld), so this pull request ' +
    'is closed: its files could remove access those roles use. The job summary of that run has the details; ' +
    'a later run with something to propose reopens it.\n'
  )
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
  body: string,
  policy: CallPolicy
): Promise<PullRequestResult> {
  const open = await findOpenPullRequest(client, repo, branch, base, policy)
  if (!open) return { operation: 'none', committed: false }
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

interface BranchHead {
  sha: string
  tree: string
}

async function readBranchHead(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  policy: CallPolicy
): Promise<BranchHead | undefined> {
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

export function proposalBranchIsBase(branch: string, repo: RepoRef): Error {
  return new Error(
    `pr-branch "${branch}" is the default branch of ${repo.owner}/${repo.repo}: set pr-branch to a branch of its own, so that proposals reach ${branch} only through a reviewed pull request`
  )
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

interface PullRequestFound {
  number: number
  html_url: string
  body: string | null
  title: string
  reopened?: boolean
}

async function findOpenPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  base: string,
  policy: CallPolicy
): Promise<PullRequestFound | undefined> {
  return (await listPullRequests(client, repo, branch, base, 'open', policy))[0]
}

/** The latest closed, unmerged proposal pull request, reopened; undefined when there is none or GitHub refuses. */
async function reopenClosedPullRequest(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  base: string,
  policy: CallPolicy
): Promise<PullRequestFound | undefined> {
  const closed = (await listPullRequests(client, repo, branch, base, 'closed', policy))
    .filter(pr => !pr.merged_at)
    .sort((a, b) => b.number - a.number)[0]
  if (!closed) return undefined
  try {
    await callGitHub(
      { what: `reopen pull request #${closed.number}`, permission: 'pull-requests: write', repo },
      () => client.rest.pulls.update({ ...repo, pull_number: closed.number, state: 'open' }),
      policy
    )
  } catch (error) {
    // GitHub refuses to reopen some pull requests (e.g. a branch recreated since); a new one is opened instead.
    if (error instanceof GitHubError && error.status === 422) return undefined
    throw error
  }
  return { ...closed, reopened: true }
}

async function listPullRequests(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  base: string,
  state: 'open' | 'closed',
  policy: CallPolicy
): Promise<(PullRequestFound & { merged_at: string | null })[]> {
  const found = await callGitHub(
    { what: `list the pull requests from ${branch}`, permission: 'pull-requests: write', repo },
    () =>
      client.rest.pulls.list({
        ...repo,
        head: `${repo.owner}:${branch}`,
        base,
        state,
        per_page: 100
      }),
    policy
  )
  return found.data
}
