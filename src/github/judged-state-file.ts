/**
 * The judged-roles state file (usage/judged-state.ts) on GitHub: read from the proposals branch and the default
 * branch through the contents API (never from the runner's checkout), written as one commit on top of the proposals
 * branch after the pull request is published.
 */
import type { Logger } from '../logger.js'
import {
  JUDGED_STATE_MAX_BYTES,
  JUDGED_STATE_PATH,
  JudgedStateError,
  mergeJudgedStates,
  parseJudgedState,
  serializeJudgedState
} from '../usage/judged-state.js'
import type { JudgedState } from '../usage/judged-state.js'
import { errorMessage } from '../error-message.js'
import { callGitHub, isNotFound } from './client.js'
import { proposalBranchIsBase } from './pull-request.js'
import type { GitHubClient, RepoRef } from './client.js'

/** The text of the state file on a branch; undefined when the branch or the file does not exist. */
async function readStateText(
  client: GitHubClient,
  repo: RepoRef,
  branch: string | undefined
): Promise<string | undefined> {
  let data: unknown
  try {
    const answer = await callGitHub(
      {
        what: `read ${JUDGED_STATE_PATH}${branch ? ` on ${branch}` : ' on the default branch'}`,
        permission: 'contents: read',
        repo
      },
      () =>
        client.rest.repos.getContent({ ...repo, path: JUDGED_STATE_PATH, ...(branch ? { ref: branch } : {}) })
    )
    data = answer.data
  } catch (e) {
    if (isNotFound(e)) return undefined
    throw e
  }
  const file = data as { type?: unknown; encoding?: unknown; content?: unknown; size?: unknown }
  if (Array.isArray(data) || file.type !== 'file') throw new JudgedStateError('it is not a regular file')
  if (typeof file.size === 'number' && file.size > JUDGED_STATE_MAX_BYTES)
    throw new JudgedStateError(`it is larger than ${JUDGED_STATE_MAX_BYTES} bytes`)
  if (file.encoding !== 'base64' || typeof file.content !== 'string')
    throw new JudgedStateError('GitHub returned it without its content')
  return Buffer.from(file.content, 'base64').toString('utf8')
}

/**
 * The newest judgement of each role over the proposals branch and the default branch. Anything wrong with either
 * copy (unreadable, corrupt, too large) is a warning: that copy is left out and the run orders roles on what AWS
 * lists. With `strict`, a proposals-branch copy GitHub could not be asked for throws instead: a state about to be
 * written over it must not drop the entries it holds (a corrupt copy is still left out: rewriting it mends it).
 */
export async function readJudgedState(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  log: Logger,
  now: Date,
  strict = false
): Promise<JudgedState> {
  const states: JudgedState[] = []
  for (const ref of [branch, undefined]) {
    const where = `${JUDGED_STATE_PATH} on ${ref ?? 'the default branch'}`
    try {
      const text = await readStateText(client, repo, ref)
      if (text === undefined) continue
      const { state, ignored } = parseJudgedState(text, now)
      if (ignored > 0)
        log.warning(
          `${where}: ignored ${ignored} entr${ignored === 1 ? 'y' : 'ies'} that are not a role ARN with a past date`
        )
      states.push(state)
    } catch (e) {
      if (strict && ref === branch && !(e instanceof JudgedStateError)) throw e
      log.warning(
        `${where} was not used (${errorMessage(e)}): roles are ordered on the policy generations AWS lists (the last 7 days); the next successful run rewrites it`
      )
    }
  }
  return mergeJudgedStates(...states)
}

/**
 * Adds this run's judgements to the state and commits the file on top of the proposals branch (creating the branch
 * from the default branch when it does not exist). The roles this run did not judge keep their entries; a newer
 * entry is never replaced by an older one; past the size cap the roles of `selected` are kept first. No commit when
 * the branch already reads the same.
 * Returns whether a commit was made.
 */
export async function writeJudgedState(
  client: GitHubClient,
  repo: RepoRef,
  branch: string,
  state: JudgedState,
  log: Logger,
  now: Date,
  selected?: ReadonlySet<string>
): Promise<boolean> {
  const write = { permission: 'contents: write' as const, repo }
  const read = { permission: 'contents: read' as const, repo }
  const defaultBranch = (
    await callGitHub({ what: 'read the repository', ...read }, () => client.rest.repos.get({ ...repo }))
  ).data.default_branch
  if (branch === defaultBranch) throw proposalBranchIsBase(branch, repo)
  let head: string | undefined
  try {
    head = (
      await callGitHub({ what: `read the branch ${branch}`, ...read }, () =>
        client.rest.git.getRef({ ...repo, ref: `heads/${branch}` })
      )
    ).data.object.sha
  } catch (e) {
    if (!isNotFound(e)) throw e
  }
  // What the branch holds now (the proposal commit of this run may have replaced the previous state commit).
  let onBranch: JudgedState = new Map()
  let current: string | undefined
  try {
    current = await readStateText(client, repo, head ? branch : undefined)
    if (current !== undefined) onBranch = parseJudgedState(current, now).state
  } catch (e) {
    if (!(e instanceof JudgedStateError)) throw e
  }
  const { text, dropped } = serializeJudgedState(mergeJudgedStates(onBranch, state), selected)
  if (dropped > 0)
    log.warning(
      `${JUDGED_STATE_PATH}: left out the ${dropped} oldest judgement(s) to stay under ${JUDGED_STATE_MAX_BYTES} bytes; those roles count as never judged`
    )
  if (text === current) return false
  const parent =
    head ??
    (
      await callGitHub({ what: `read the branch ${defaultBranch}`, ...read }, () =>
        client.rest.git.getRef({ ...repo, ref: `heads/${defaultBranch}` })
      )
    ).data.object.sha
  const parentTree = (
    await callGitHub({ what: `read commit ${parent}`, ...read }, () =>
      client.rest.git.getCommit({ ...repo, commit_sha: parent })
    )
  ).data.tree.sha
  const tree = await callGitHub({ what: `write ${JUDGED_STATE_PATH}`, ...write }, () =>
    client.rest.git.createTree({
      ...repo,
      base_tree: parentTree,
      tree: [{ path: JUDGED_STATE_PATH, mode: '100644', type: 'blob', content: text }]
    })
  )
  const commit = await callGitHub({ what: `commit ${JUDGED_STATE_PATH}`, ...write }, () =>
    client.rest.git.createCommit({
      ...repo,
      message: 'Record when each role was last judged (orders the next runs)',
      tree: tree.data.sha,
      parents: [parent]
    })
  )
  const what = `point the branch ${branch} at the state commit`
  // A fast-forward only: a run that moved the branch meanwhile wins, and this run's entries wait for the next one.
  if (head)
    await callGitHub({ what, ...write }, () =>
      client.rest.git.updateRef({ ...repo, ref: `heads/${branch}`, sha: commit.data.sha, force: false })
    )
  else
    await callGitHub({ what, ...write }, () =>
      client.rest.git.createRef({ ...repo, ref: `refs/heads/${branch}`, sha: commit.data.sha })
    )
  return true
}
