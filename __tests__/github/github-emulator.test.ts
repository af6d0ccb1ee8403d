import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createGitHubClient } from '../../src/github/client.js'
import { GitHubEmulator } from '../support/github-emulator.js'

let emulator: GitHubEmulator
beforeAll(async () => {
  emulator = await GitHubEmulator.start({ files: { 'dir.txt': 'hello\n', 'dir/hello.txt': 'hello\n' } })
})
afterAll(async () => {
  await emulator.close()
})

describe('GitHub emulator', () => {
  const repo = { owner: 'octo-org', repo: 'infra' }

  it('computes git object ids as git does', async () => {
    const octokit = createGitHubClient('ghs_test', { baseUrl: emulator.url })
    const blob = await octokit.rest.git.createBlob({ ...repo, content: 'hello\n' })
    expect(blob.data.sha).toBe('ce013625030ba8dba906f756967f9e9ca394464a')
    const ref = await octokit.rest.git.getRef({ ...repo, ref: 'heads/main' })
    const commit = await octokit.rest.git.getCommit({ ...repo, commit_sha: ref.data.object.sha })
    // `git write-tree` of dir.txt and dir/hello.txt, both "hello\n" (dir.txt sorts before dir/).
    expect(commit.data.tree.sha).toBe('fd352e143245dd9b9fd5b429562b2286aab731b1')
    const tree = await octokit.rest.git.getTree({
      ...repo,
      tree_sha: commit.data.tree.sha,
      recursive: 'true'
    })
    expect(tree.data.tree.map(e => e.path)).toEqual(['dir.txt', 'dir', 'dir/hello.txt'])
    expect(emulator.validationFailures).toEqual([])
  })

  it('rejects a request body that breaks the OpenAPI description with 422 and records it', async () => {
    const octokit = createGitHubClient('ghs_test', { baseUrl: emulator.url })
    // Deliberately wrong requests, which Octokit's types would refuse.
    const raw = octokit.request as unknown as (
      route: string,
      params: Record<string, unknown>
    ) => Promise<unknown>
    await expect(
      raw('POST /repos/{owner}/{repo}/git/trees', {
        ...repo,
        tree: [{ path: 'a', mode: '100600', type: 'blob', content: 'x' }]
      })
    ).rejects.toMatchObject({ status: 422 })
    await expect(
      raw('PATCH /repos/{owner}/{repo}/git/refs/{ref}', {
        ...repo,
        ref: 'heads/main',
        force: true
      })
    ).rejects.toMatchObject({ status: 422 })
    await expect(
      raw('POST /repos/{owner}/{repo}/pulls', {
        ...repo,
        head: 'x',
        base: 'main',
        title: 't',
        reviewers: ['a']
      })
    ).rejects.toMatchObject({ status: 422 })
    await expect(raw('GET /repos/{owner}/{repo}/pulls', { ...repo, state: 'merged' })).rejects.toMatchObject({
      status: 422
    })
    await expect(raw('DELETE /repos/{owner}/{repo}', repo)).rejects.toMatchObject({ status: 404 })
    expect(emulator.validationFailures.map(f => f.errors.join(' '))).toEqual([
      expect.stringContaining('/tree/0/mode must be equal to one of the allowed values'),
      expect.stringContaining("must have required property 'sha'"),
      'request body property reviewers is not defined for pulls/create',
      expect.stringContaining('query parameter state=merged'),
      'no such operation in the OpenAPI subset'
    ])
    emulator.validationFailures.length = 0
  })

  it('answers 401 without a token and 404 for another repository', async () => {
    const response = await fetch(`${emulator.url}/repos/octo-org/infra`)
    expect(response.status).toBe(401)
    const octokit = createGitHubClient('ghs_test', { baseUrl: emulator.url })
    await expect(octokit.rest.repos.get({ owner: 'someone', repo: 'else' })).rejects.toMatchObject({
      status: 404
    })
    expect(emulator.validationFailures).toEqual([])
  })

  it('serves a child process that finds it through GITHUB_API_URL, as the end-to-end tests run dist/index.js', async () => {
    // Asynchronous on purpose: a synchronous spawn would block the emulator that runs in this process.
    const script = [
      "import { getOctokit } from '@actions/github'",
      "const octokit = getOctokit('ghs_child')",
      "const { data } = await octokit.rest.repos.get({ owner: 'octo-org', repo: 'infra' })",
      'console.log(data.default_branch)'
    ].join('\n')
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env.PATH, GITHUB_API_URL: emulator.url }
    })
    expect(stdout.trim()).toBe('main')
    expect(emulator.requests.at(-1)).toMatchObject({ operationId: 'repos/get', status: 200 })
    expect(emulator.validationFailures).toEqual([])
  })
})
