/**
 * A policy file as the base branch of a pull request has it, read through the GitHub API at the base commit: the
 * pull request's author cannot change it, and it needs no history in the checkout (actions/checkout fetches one
 * commit).
 */
import { POLICY_FILE_MAX_BYTES } from '../granted/workspace-file.js'
import type { WorkspaceFile } from '../granted/workspace-file.js'
import { callGitHub, isNotFound } from './client.js'
import type { GitHubClient, RepoRef } from './client.js'

/** The commits a pull_request / pull_request_target event compares. */
interface PullRequestRefs {
  baseSha: string
  headSha?: string
  /** The pull request's number and `changed_files`, when the payload has them. */
  number?: number
  changedFiles?: number
}

/** The base and head commits of a pull-request event payload, when it carries them. */
export function pullRequestRefs(payload: unknown): PullRequestRefs | undefined {
  const pr = (
    payload as
      | {
          pull_request?: {
            base?: { sha?: unknown }
            head?: { sha?: unknown }
            number?: unknown
            changed_files?: unknown
          }
        }
      | undefined
  )?.pull_request
  const baseSha = pr?.base?.sha
  if (typeof baseSha !== 'string' || !/^[0-9a-f]{40,64}$/.test(baseSha)) return undefined
  const headSha = pr?.head?.sha
  const count = (v: unknown) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined)
  const number = count(pr?.number)
  const changedFiles = count(pr?.changed_files)
  return {
    baseSha,
    ...(typeof headSha === 'string' ? { headSha } : {}),
    ...(number !== undefined ? { number } : {}),
    ...(changedFiles !== undefined ? { changedFiles } : {})
  }
}

/** Reads one file of the repository at a commit; `absent` when the commit has no such file. */
export async function readFileAtCommit(
  client: GitHubClient,
  repo: RepoRef,
  path: string,
  sha: string
): Promise<WorkspaceFile> {
  let data: unknown
  try {
    const answer = await callGitHub(
      { what: `read ${path} at the base commit ${sha.slice(0, 7)}`, permission: 'contents: read', repo },
      () => client.rest.repos.getContent({ ...repo, path, ref: sha })
    )
    data = answer.data
  } catch (e) {
    if (isNotFound(e)) return { status: 'absent' }
    throw e
  }
  const file = data as { type?: unknown; encoding?: unknown; content?: unknown; size?: unknown }
  if (Array.isArray(data) || file.type !== 'file')
    return { status: 'refused', reason: `${path} at the base commit is not a regular file` }
  if (typeof file.size === 'number' && file.size > POLICY_FILE_MAX_BYTES)
    return {
      status: 'refused',
      reason: `${path} at the base commit is larger than ${POLICY_FILE_MAX_BYTES} bytes`
    }
  if (file.encoding !== 'base64' || typeof file.content !== 'string')
    return { status: 'refused', reason: `${path} at the base commit came without its content` }
  return { status: 'read', text: Buffer.from(file.content, 'base64').toString('utf8') }
}
