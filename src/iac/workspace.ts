/**
 * The infrastructure code of a folder: every file a reader accepts, read as hostile input (no symbolic links, no
 * path outside the folder, size and count capped), and each language's reading.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { errorMessage } from '../error-message.js'
import type { IacReader, IacReading, IacSourceFile } from './model.js'
import { IAC_READERS } from './readers.js'

/** Far above any real template or module file (CloudFormation accepts 1 MB). */
const IAC_FILE_MAX_BYTES = 1024 * 1024
/** A folder with more files than this is refused, never read in part. */
const IAC_FILE_LIMIT = 5_000
const SKIPPED_FOLDERS = new Set(['node_modules', '.git', '.terraform', 'cdk.out'])

export interface IacWorkspace {
  files: { reader: IacReader; file: IacSourceFile }[]
  reading: IacReading
}

/** Reads `dir`; file paths are relative to `base` (the repository), so that reports and edits name them so. */
export async function readIacFolder(dir: string, base: string): Promise<IacWorkspace> {
  const problems: string[] = []
  const found: { reader: IacReader; file: IacSourceFile }[] = []
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
      if (!entry.isFile()) continue // symbolic links and devices are never followed
      if (++seen > IAC_FILE_LIMIT) return
      const path = relative(base, full).split('\\').join('/')
      if (lstatSync(full).size > IAC_FILE_MAX_BYTES) {
        if (/\.(tf|ya?ml|json|template)$/i.test(path))
          problems.push(`${path}: more than ${IAC_FILE_MAX_BYTES} bytes; not read`)
        continue
      }
      if (!/\.(tf|ya?ml|json|template)$/i.test(path)) continue
      const text = readFileSync(full, 'utf8')
      const reader = IAC_READERS.find(r => r.accepts(path, text))
      if (reader) found.push({ reader, file: { path, text } })
    }
  }
  walk(dir)
  if (seen > IAC_FILE_LIMIT)
    throw new Error(
      `iac-path: more than ${IAC_FILE_LIMIT} files under ${relative(base, dir) || '.'}; point iac-path at the folder of the infrastructure code`
    )
  const reading: IacReading = { roles: [], problems }
  for (const reader of IAC_READERS) {
    const files = found.filter(f => f.reader === reader).map(f => f.file)
    if (files.length === 0) continue
    const read = await reader.read(files)
    reading.roles.push(...read.roles)
    reading.problems.push(...read.problems)
  }
  return { files: found, reading }
}
