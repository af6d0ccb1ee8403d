/**
 * The infrastructure code of a folder: every file a reader accepts, read as hostile input (no symbolic links, no
 * path outside the folder, size and count capped), and each language's reading.
 */
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs'
import { join, relative } from 'node:path'
import { errorMessage } from '../error-message.js'
import type { WorkspaceFile } from '../granted/workspace-file.js'
import type { IacReader, IacReading, IacSourceFile, UnreadBlock } from './model.js'
import { IAC_READERS } from './readers.js'

/** Far above any real template or module file (CloudFormation accepts 1 MB). */
const IAC_FILE_MAX_BYTES = 1024 * 1024
/** A folder with more files than this is refused, never read in part. */
const IAC_FILE_LIMIT = 5_000
const IAC_EXTENSION = /\.(tf|tofu|ya?ml|json|template)$/i
/** The files Terraform and OpenTofu read from a module folder. */
const TERRAFORM_FILE = /\.(tf|tofu)(\.json)?$/i
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.terraform', 'cdk.out'])

export interface IacWorkspace {
  files: { reader: IacReader; file: IacSourceFile }[]
  reading: IacReading
}

/** Reads `dir`; file paths are relative to `base` (the repository), so that reports and edits name them so. */
export async function readIacFolder(dir: string, base: string): Promise<IacWorkspace> {
  const problems: string[] = []
  const unreadFiles: string[] = []
  const found: { reader: IacReader; file: IacSourceFile }[] = []
  const unreadBlocks: UnreadBlock[] = []
  let seen = 0
  const walk = (folder: string) => {
    let entries
    try {
      entries = readdirSync(folder, { withFileTypes: true })
    } catch (e) {
      problems.push(`${relative(base, folder) || '.'} cannot be read (${errorMessage(e)})`)
      return
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(folder, entry.name)
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) walk(full)
        continue
      }
      if (++seen > IAC_FILE_LIMIT) return
      const path = relative(base, full).split('\\').join('/')
      if (entry.isSymbolicLink() && TERRAFORM_FILE.test(path)) {
        // Never followed, but Terraform follows it: what it grants is unknown.
        const link = symbolicLink(path, readlinkSync(full))
        problems.push(`${path}: ${link.why}`)
        unreadBlocks.push(link)
        continue
      }
      if (!entry.isFile()) continue // symbolic links and devices are never followed
      if (!IAC_EXTENSION.test(path)) continue
      if (lstatSync(full).size > IAC_FILE_MAX_BYTES) {
        problems.push(`${path}: more than ${IAC_FILE_MAX_BYTES} bytes; not read`)
        unreadFiles.push(path)
        continue
      }
      const text = readFileSync(full, 'utf8')
      const unread = unreadFile(path, text)
      if (unread) {
        problems.push(`${path}: ${unread.why}`)
        unreadBlocks.push(unread)
        continue
      }
      const reader = IAC_READERS.find(r => r.accepts(path, text))
      if (reader) found.push({ reader, file: { path, text } })
    }
  }
  walk(dir)
  if (seen > IAC_FILE_LIMIT)
    throw new Error(
      `iac-path: more than ${IAC_FILE_LIMIT} files under ${relative(base, dir) || '.'}; point iac-path at the folder of the infrastructure code`
    )
  return {
    files: found,
    reading: await readAll(found, {
      roles: [],
      problems,
      unreadFiles,
      ...(unreadBlocks.length > 0 ? { unreadBlocks } : {})
    })
  }
}

/**
 * A file Terraform reads that no reader here does: JSON syntax, and override files (merged into the blocks of other
 * files). What it grants is unknown, so a pull request that adds or changes one cannot pass.
 */
function unreadFile(path: string, text: string): UnreadBlock | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const why = /^(.*_)?override\.(tf|tofu)(\.json)?$/.test(name)
    ? 'a Terraform override file (it changes blocks of other files) is not read'
    : name.endsWith('.tf.json')
      ? 'Terraform JSON syntax (.tf.json) is not read'
      : /\.tofu(\.json)?$/.test(name)
        ? 'an OpenTofu file (.tofu; under OpenTofu it replaces the .tf file of the same name) is not read'
        : undefined
  return why === undefined ? undefined : { file: path, address: name, text, why }
}

/** A Terraform file written as a symbolic link: compared with the base by its target only. */
function symbolicLink(path: string, target: string): UnreadBlock {
  const name = path.slice(path.lastIndexOf('/') + 1)
  return {
    file: path,
    address: name,
    text: `symbolic link to ${target}`,
    why: `a symbolic link (to ${target}) is never followed here, but Terraform reads what it points to`
  }
}

/**
 * Whether a repository path is one `readIacFolder` would read under `dir` (repository-relative, `''` for the root):
 * an infrastructure-code file name, outside the skipped folders.
 */
export function isIacPathUnder(path: string, dir: string): boolean {
  const inside =
    dir === '' || dir === '.' ? path : path.startsWith(`${dir}/`) ? path.slice(dir.length + 1) : undefined
  if (inside === undefined || !IAC_EXTENSION.test(inside)) return false
  return !inside
    .split('/')
    .slice(0, -1)
    .some(folder => SKIPPED_FOLDERS.has(folder) || folder === '..')
}

/**
 * The same files as another commit (a pull request's base) has them, read through `read`. A file the commit does
 * not have, or that is refused, grants nothing there; the caller judges everything the head grants beyond it.
 */
export async function readIacFilesAt(
  paths: readonly string[],
  read: (path: string) => Promise<WorkspaceFile>
): Promise<IacReading> {
  const found: { reader: IacReader; file: IacSourceFile }[] = []
  const reading: IacReading = { roles: [], problems: [], unreadFiles: [] }
  for (const path of paths) {
    const file = await read(path)
    if (file.status === 'refused') {
      reading.problems.push(file.reason)
      reading.unreadFiles.push(path)
    }
    if (file.status !== 'read') continue
    const unread = unreadFile(path, file.text)
    if (unread) {
      reading.unreadBlocks = [...(reading.unreadBlocks ?? []), unread]
      continue
    }
    const reader = IAC_READERS.find(r => r.accepts(path, file.text))
    if (reader) found.push({ reader, file: { path, text: file.text } })
  }
  return readAll(found, reading)
}

async function readAll(
  found: readonly { reader: IacReader; file: IacSourceFile }[],
  reading: IacReading
): Promise<IacReading> {
  for (const reader of IAC_READERS) {
    const files = found.filter(f => f.reader === reader).map(f => f.file)
    if (files.length === 0) continue
    const read = await reader.read(files)
    reading.roles.push(...read.roles)
    reading.problems.push(...read.problems)
    reading.unreadFiles.push(...read.unreadFiles)
    if (read.unreadBlocks) reading.unreadBlocks = [...(reading.unreadBlocks ?? []), ...read.unreadBlocks]
  }
  return reading
}
