import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { ConfigError } from '../../config.js'
import type { SkippedFile } from '../../model.js'

/** Folders CloudTrail writes next to the logs that hold no events: integrity digests and Insights events. */
const SKIPPED_FOLDERS = new Set(['cloudtrail-digest', 'cloudtrail-insight'])

const LOG_FILE = /\.json(l|lines)?(\.gz)?$|\.gz$/i

interface LocalLogFiles {
  files: string[]
  /** Folders not read (digests, Insights). */
  skippedFolders: string[]
  /** Entries not read: symbolic links (never followed) and log-named entries that are not regular files. */
  skippedEntries: SkippedFile[]
}

/**
 * Every log file under `root` (a folder, read recursively in a stable order, or a single file or pipe).
 * Symbolic links inside the folder are not followed (a link may lead out of the folder, or into a loop): each is
 * listed as skipped, as are log-named entries that are not regular files (a FIFO would block the read).
 * Any layout works, the S3 one (`AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/`) and the organization-trail
 * one (`AWSLogs/<o-id>/<account>/...`) included, because the reader takes every `.json`/`.json.gz` file it finds.
 */
export async function listLocalLogFiles(root: string): Promise<LocalLogFiles> {
  let info
  try {
    info = await stat(root)
  } catch (error) {
    throw new ConfigError(
      'cloudtrail-path',
      `cloudtrail-path: cannot read ${root} (${(error as NodeJS.ErrnoException).code ?? 'error'}); give a folder of CloudTrail log files or s3://bucket/prefix`
    )
  }
  if (!info.isDirectory()) return { files: [root], skippedFolders: [], skippedEntries: [] }
  const files: string[] = []
  const skippedFolders: string[] = []
  const skippedEntries: SkippedFile[] = []
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0
    )
    for (const entry of entries) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        if (SKIPPED_FOLDERS.has(entry.name.toLowerCase())) skippedFolders.push(full)
        else await walk(full)
      } else if (entry.isSymbolicLink()) {
        skippedEntries.push({ file: full, reason: 'skipped: a symbolic link (links are not followed)' })
      } else if (LOG_FILE.test(entry.name)) {
        if (entry.isFile()) files.push(full)
        else skippedEntries.push({ file: full, reason: 'skipped: not a regular file' })
      }
    }
  }
  await walk(root)
  return { files, skippedFolders, skippedEntries }
}
