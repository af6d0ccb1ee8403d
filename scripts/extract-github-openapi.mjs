#!/usr/bin/env node
/**
 * Extracts the operations the GitHub emulator serves from GitHub's official OpenAPI description
 * (the `@octokit/openapi` package) into a small committed JSON file the emulator validates against.
 *
 * The package is deliberately not a dependency (about 400 MB). Install it anywhere outside the repository
 * and pass its location:
 *   npm install --prefix /tmp/octokit-openapi @octokit/openapi
 *   node scripts/extract-github-openapi.mjs /tmp/octokit-openapi/node_modules/@octokit/openapi
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const OPERATIONS = [
  ['get', '/repos/{owner}/{repo}'],
  ['get', '/repos/{owner}/{repo}/contents/{path}'],
  ['get', '/repos/{owner}/{repo}/git/ref/{ref}'],
  ['post', '/repos/{owner}/{repo}/git/refs'],
  ['patch', '/repos/{owner}/{repo}/git/refs/{ref}'],
  ['get', '/repos/{owner}/{repo}/git/commits/{commit_sha}'],
  ['post', '/repos/{owner}/{repo}/git/commits'],
  ['get', '/repos/{owner}/{repo}/git/trees/{tree_sha}'],
  ['post', '/repos/{owner}/{repo}/git/trees'],
  ['post', '/repos/{owner}/{repo}/git/blobs'],
  ['get', '/repos/{owner}/{repo}/compare/{basehead}'],
  ['get', '/repos/{owner}/{repo}/pulls'],
  ['post', '/repos/{owner}/{repo}/pulls'],
  ['patch', '/repos/{owner}/{repo}/pulls/{pull_number}'],
  ['get', '/repos/{owner}/{repo}/pulls/{pull_number}/files'],
  ['get', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/comments'],
  ['patch', '/repos/{owner}/{repo}/issues/comments/{comment_id}'],
  ['post', '/repos/{owner}/{repo}/issues/{issue_number}/labels']
]

const packageDir = process.argv[2]
const outFile = process.argv[3] ?? '__tests__/support/github-openapi.subset.json'
if (!packageDir) {
  console.error(
    'usage: node scripts/extract-github-openapi.mjs <path of the installed @octokit/openapi package> [out file]'
  )
  process.exit(2)
}

const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'))
const spec = JSON.parse(readFileSync(join(packageDir, 'generated', 'api.github.com.deref.json'), 'utf8'))

const operations = {}
for (const [method, path] of OPERATIONS) {
  const op = spec.paths[path]?.[method]
  if (!op)
    throw new Error(`${method.toUpperCase()} ${path} is not in the OpenAPI description: update OPERATIONS`)
  const body = op.requestBody?.content?.['application/json']
  const [status, response] = Object.entries(op.responses).find(([code]) => code.startsWith('2')) ?? []
  const responseSchema = response?.content?.['application/json']?.schema
  const item = responseSchema?.type === 'array' ? responseSchema.items : responseSchema
  operations[`${method.toUpperCase()} ${path}`] = {
    operationId: op.operationId,
    parameters: (op.parameters ?? []).map(p => ({
      name: p.name,
      in: p.in,
      required: p.required === true,
      schema: p.schema
    })),
    ...(body ? { requestBody: { required: op.requestBody.required === true, schema: body.schema } } : {}),
    // Only the names of the required top-level properties of the success answer: the full response
    // schemas (repository, pull request) would make this file a hundred times larger.
    ...(item
      ? {
          response: {
            status: Number(status),
            array: responseSchema.type === 'array',
            required: item.required ?? []
          }
        }
      : {})
  }
}

const subset = {
  source: `${pkg.name}@${pkg.version} generated/api.github.com.deref.json`,
  openapi: spec.openapi,
  apiVersion: spec.info?.version,
  operations
}
writeFileSync(outFile, JSON.stringify(subset, null, 2) + '\n')
console.log(`wrote ${Object.keys(operations).length} operations to ${outFile}`)
