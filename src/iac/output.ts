/** Where the infrastructure-code edits of a CLI run go: in place (--write-iac), under --out, and the Markdown diff. */
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, resolve, sep } from 'node:path'
import type { ReportV1 } from '../model.js'
import { loadCatalog } from '../policy/catalog.js'
import type { IacEdit } from './model.js'
import { iacDiff, planIacEdits } from './apply.js'
import type { IacChanges } from './apply.js'
import { readIacFolder } from './workspace.js'

/** The edits a report's proposals make to the code under `iacPath` (relative to `workspace`); none without IaC roles. */
export async function iacChangesOf(
  report: ReportV1,
  iacPath: string,
  workspace: string
): Promise<IacChanges> {
  if (!report.roles.some(r => r.grantedFrom)) return { edits: [], notes: [] }
  const root = resolve(workspace)
  return planIacEdits(report, await readIacFolder(resolve(root, iacPath), root), loadCatalog())
}

/** Writes each edited file below `root` (the workspace in place, or a copy under --out) at its repository path. */
export function writeIacFiles(edits: readonly IacEdit[], root: string): string[] {
  const base = resolve(root)
  return edits.map(edit => {
    const file = resolve(base, edit.file)
    if (!file.startsWith(base + sep))
      throw new Error(`${edit.file} would be written outside ${root}; not written`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, edit.after)
    return file
  })
}

/** The Markdown section showing the edits: a unified diff, fenced longer than any backtick run it holds. */
export function iacMarkdown(edits: readonly IacEdit[], notes: readonly string[], written: boolean): string {
  if (edits.length === 0 && notes.length === 0) return ''
  const diff = iacDiff(edits)
  const longest = Math.max(2, ...[...diff.matchAll(/`+/g)].map(m => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const lines = ['', '## Infrastructure code', '']
  if (edits.length > 0) {
    lines.push(
      written
        ? `Applied to ${edits.length} file(s):`
        : `Proposed edits of ${edits.length} file(s) (apply them with --write-iac):`,
      '',
      `${fence}diff`,
      diff.trimEnd(),
      fence
    )
  }
  for (const note of notes) lines.push(`- ${note.replace(/[\\`*_[\]<>|]/g, '\\$&')}`)
  return `${lines.join('\n')}\n`
}
