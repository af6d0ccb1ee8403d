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
  if (!report.roles.some(r => r.grantedFrom || r.iacAwsManaged)) return { edits: [], notes: [] }
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

/** A diff longer than this many lines is collapsed in a pull request body or job summary. */
const COLLAPSE_OVER_LINES = 40

interface IacMarkdownOptions {
  /** Collapse a long diff under a `<details>` element (pull request body, job summary). */
  collapse?: boolean
  /** The section's longest length; past it the diff is left out and the files are named instead. */
  maxLength?: number
}

/** The Markdown section showing the edits: a unified diff, fenced longer than any backtick run it holds. */
export function iacMarkdown(
  edits: readonly IacEdit[],
  notes: readonly string[],
  lead: string,
  options: IacMarkdownOptions = {}
): string {
  if (edits.length === 0 && notes.length === 0) return ''
  const escape = (text: string) => text.replace(/[\\`*_[\]<>|]/g, '\\$&')
  const diff = iacDiff(edits).trimEnd()
  const longest = Math.max(2, ...[...diff.matchAll(/`+/g)].map(m => m[0].length))
  const fence = '`'.repeat(longest + 1)
  const lineCount = diff.split('\n').length
  const fenced = [`${fence}diff`, diff, fence]
  const shown =
    options.collapse && lineCount > COLLAPSE_OVER_LINES
      ? [`<details><summary>The diff (${lineCount} lines)</summary>`, '', ...fenced, '', '</details>']
      : fenced
  const notesLines = notes.map(note => `- ${escape(note)}`)
  const section = (body: string[]) =>
    `${['', '## Infrastructure code', '', ...(edits.length > 0 ? [lead, '', ...body] : []), ...notesLines].join('\n')}\n`
  const full = section(shown)
  if (options.maxLength === undefined || full.length <= options.maxLength) return full
  const files = edits.map(e => `- \`${e.file.replace(/[`\r\n]/g, '')}\``)
  return section([
    `The diff (${lineCount} lines) is too long to show here; the files it edits:`,
    '',
    ...files
  ])
}
