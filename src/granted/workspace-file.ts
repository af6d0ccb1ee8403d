/**
 * Policy files of the checked-out workspace. In a pull-request gate they are written by the pull request's author,
 * so they are hostile input: never followed through a symbolic link, never read outside the workspace, capped in
 * size, and never quoted back (a message names the file, nothing of its content).
 */
import { lstatSync, readdirSync, readFileSync, realpathSync } from 'node:fs'
import { isAbsolute, join, relative } from 'node:path'

/** Far above any real policy file (IAM documents are at most 10,240 characters). */
export const POLICY_FILE_MAX_BYTES = 512 * 1024

export type WorkspaceFile =
  { status: 'absent' } | { status: 'read'; text: string } | { status: 'refused'; reason: string }

/** A role name that can become one path segment: never `.`, `..` or anything holding a separator. */
export function isSafePathSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !/[/\\\0]/.test(name)
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
}

/** Reads `relPath` below `workspace` as UTF-8, refusing links, non-files, paths that leave it and large files. */
export function readWorkspaceFile(workspace: string, relPath: string): WorkspaceFile {
  if (isAbsolute(relPath) || relPath.split(/[/\\]/).some(part => part === '..'))
    return { status: 'refused', reason: `${relPath} is not a path inside the workspace` }
  const full = join(workspace, relPath)
  let stat
  try {
    stat = lstatSync(full)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return { status: 'absent' }
    return { status: 'refused', reason: `${relPath} cannot be read (${code ?? 'error'})` }
  }
  if (stat.isSymbolicLink())
    return {
      status: 'refused',
      reason: `${relPath} is a symbolic link: policy files are read only as regular files`
    }
  if (!stat.isFile()) return { status: 'refused', reason: `${relPath} is not a regular file` }
  try {
    // A linked folder on the way would take the read elsewhere.
    if (!inside(realpathSync(workspace), realpathSync(full)))
      return { status: 'refused', reason: `${relPath} resolves outside the workspace: refused` }
  } catch (e) {
    return {
      status: 'refused',
      reason: `${relPath} cannot be resolved (${(e as NodeJS.ErrnoException).code ?? 'error'})`
    }
  }
  if (stat.size > POLICY_FILE_MAX_BYTES)
    return {
      status: 'refused',
      reason: `${relPath} is ${stat.size} bytes, more than the ${POLICY_FILE_MAX_BYTES} a policy file may have`
    }
  return { status: 'read', text: readFileSync(full, 'utf8') }
}

export interface DiscoveredPolicyFile {
  path: string
  accountId: string
  roleName: string
}

/** How many policy files a run judges; a workspace with more is refused, never judged in part. */
export const POLICY_FILE_LIMIT = 10_000

/**
 * Every file below the fixed part of `template` (policy-path) whose path the template matches, with the account
 * and role it names. Symbolic links are listed too (so that reading them is refused with a reason), never entered.
 * The walk stops one file past `limit`: more than `limit` files means some were not listed.
 */
export function discoverPolicyFiles(
  workspace: string,
  template: string,
  limit = POLICY_FILE_LIMIT
): DiscoveredPolicyFile[] {
  const firstVariable = template.indexOf('{')
  const prefix = template.slice(0, template.lastIndexOf('/', firstVariable) + 1)
  const names: string[] = []
  const pattern = new RegExp(
    `^${template
      .split(/(\{account\}|\{role\})/)
      .map(part => {
        if (part === '{account}') {
          names.push('account')
          return '(\\d{12})'
        }
        if (part === '{role}') {
          names.push('role')
          return '([\\w+=,.@-]{1,64})'
        }
        return part.replace(/[.*+?^$()|[\]\\{}]/g, '\\$&')
      })
      .join('')}$`
  )
  const found: DiscoveredPolicyFile[] = []
  const walk = (dir: string) => {
    let entries
    try {
      entries = readdirSync(join(workspace, dir), { withFileTypes: true })
    } catch {
      return
    }
    for (const entry of entries) {
      if (found.length > limit) return
      const path = `${dir}${entry.name}`
      if (entry.isDirectory()) walk(`${path}/`)
      else {
        const m = pattern.exec(path)
        if (!m) continue
        const value = (name: string) => m[names.indexOf(name) + 1] ?? ''
        const roleName = value('role')
        if (!isSafePathSegment(roleName)) continue
        found.push({ path, accountId: value('account'), roleName })
      }
    }
  }
  try {
    const root = realpathSync(workspace)
    const start = realpathSync(join(workspace, prefix))
    if (start === root || inside(root, start)) walk(prefix)
  } catch {
    // No such folder: no policy files.
  }
  return found.sort((a, b) => (a.path < b.path ? -1 : 1))
}
