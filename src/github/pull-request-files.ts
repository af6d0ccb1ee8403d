/**
 * The files a pull request takes away from its base commit: those it deletes, and the old path of those it renames.
 * The gate reads them as the base has them, so that deleting a file (one holding a Deny, say) or moving a policy is
 * judged like any other change. GitHub lists at most 3,000 files of a pull request: past that the list is not known
 * to be complete, and the gate fails rather than judge part of it.
 */
import { callGitHub } from './client.js'
import type { GitHubClient, RepoRef } from './client.js'

export const PULL_REQUEST_FILES_LIMIT = 3000

/**
 * `changedFiles` is the pull request's `changed_files` from the event payload, when it has it. Throws, naming the
 * pull request, when the list may be incomplete.
 */
export async function removedFiles(
  client: GitHubClient,
  repo: RepoRef,
  pullNumber: number,
  changedFiles: number | undefined
): Promise<string[]> {
  const incomplete = (count: number) =>
    new Error(
      `pull request #${pullNumber} changes ${count} files, and GitHub lists at most ${PULL_REQUEST_FILES_LIMIT}: the gate cannot see which infrastructure code it deletes or renames; split the pull request`
    )
  if (changedFiles !== undefined && changedFiles > PULL_REQUEST_FILES_LIMIT) throw incomplete(changedFiles)
  const files = await callGitHub(
    { what: `list the files of pull request #${pullNumber}`, permission: 'pull-requests: read', repo },
    () => client.paginate(client.rest.pulls.listFiles, { ...repo, pull_number: pullNumber, per_page: 100 })
  )
  if (files.length >= PULL_REQUEST_FILES_LIMIT && changedFiles !== files.length)
    throw incomplete(Math.max(files.length, changedFiles ?? 0))
  return files.flatMap(f =>
    f.status === 'removed'
      ? [f.filename]
      : f.status === 'renamed' && f.previous_filename
        ? [f.previous_filename]
        : []
  )
}
