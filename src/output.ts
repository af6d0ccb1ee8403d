import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs'
import { once } from 'node:events'
import { dirname, join, resolve, sep } from 'node:path'
import type { ProposedPolicy, ReportV1, RoleResult } from './model.js'
import { reportChunks } from './report/json.js'
import type { ReportVersion } from './report/json.js'
import { markdownChunks } from './report/markdown.js'
import { sarifChunks } from './report/sarif.js'
import type { SarifOptions } from './report/sarif.js'

interface WrittenFiles {
  report: string
  sarif: string
  proposals: string[]
}

/**
 * The content of a role's policy file: the document itself when the proposal is one document, a JSON array of
 * documents when it had to be split (the policy-file reader accepts both).
 */
export function policyFileContent(proposed: ProposedPolicy[]): string {
  const [only, ...rest] = proposed
  const body = only && rest.length === 0 ? only.document : proposed.map(p => p.document)
  return `${JSON.stringify(body, null, 2)}\n`
}

/** Roles whose proposal may be written to the repository: analyzed, editable, with excess and a proposal. */
export function writableProposals(report: ReportV1): RoleResult[] {
  return report.roles.filter(
    r => r.status === 'analyzed' && r.editable && r.excess.count > 0 && r.proposed.length > 0 && r.policyFile
  )
}

/**
 * Writes report.json, report.sarif and, under proposals/, each proposed policy at its policy-path. Each file is
 * written piece by piece (a role at a time), so the size of a report is bounded by the disk, not by memory.
 */
export function writeReportFiles(
  report: ReportV1,
  dir: string,
  sarif: SarifOptions,
  version: ReportVersion = 1
): WrittenFiles {
  mkdirSync(dir, { recursive: true })
  const reportPath = join(dir, 'report.json')
  const sarifPath = join(dir, 'report.sarif')
  writeFileChunks(reportPath, reportChunks(report, version))
  writeFileChunks(sarifPath, sarifChunks(report, sarif))
  const proposals: string[] = []
  for (const role of writableProposals(report)) {
    const root = resolve(dir, 'proposals')
    const file = resolve(root, role.policyFile as string)
    if (!file.startsWith(root + sep))
      throw new Error(`policy file ${role.policyFile} would be written outside ${root}`)
    mkdirSync(dirname(file), { recursive: true })
    writeFileSync(file, policyFileContent(role.proposed))
    proposals.push(file)
  }
  return { report: reportPath, sarif: sarifPath, proposals }
}

/** The policy files the roles' grants were read from in the repository (path -> text), for SARIF locations. */
export function repositoryPolicySources(report: ReportV1, workspace: string): Map<string, string> {
  const sources = new Map<string, string>()
  const root = resolve(workspace)
  for (const role of report.roles) {
    if (!role.policyFileInRepository || !role.policyFile || sources.has(role.policyFile)) continue
    const file = resolve(root, role.policyFile)
    if (!file.startsWith(root + sep)) continue
    try {
      sources.set(role.policyFile, readFileSync(file, 'utf8'))
    } catch {
      // Gone since the run read it: the result then points at the file's first line.
    }
  }
  return sources
}

function writeFileChunks(path: string, chunks: Iterable<string>): void {
  const fd = openSync(path, 'w')
  try {
    for (const chunk of chunks) writeSync(fd, chunk)
  } finally {
    closeSync(fd)
  }
}

/** The CLI's stdout: the report in the chosen format, one role at a time (Markdown ends with a blank line). */
export function* outputChunks(
  report: ReportV1,
  format: 'markdown' | 'json' | 'sarif',
  sarif: SarifOptions,
  version: ReportVersion = 1
): Generator<string> {
  if (format === 'json') yield* reportChunks(report, version)
  else if (format === 'sarif') yield* sarifChunks(report, sarif)
  else {
    yield* markdownChunks(report)
    yield '\n'
  }
}

/** Writes the pieces to a stream, waiting whenever it asks to (a slow pipe never buffers the whole report). */
export async function writeStream(stream: NodeJS.WritableStream, chunks: Iterable<string>): Promise<void> {
  for (const chunk of chunks) {
    if (!stream.write(chunk)) await once(stream, 'drain')
  }
}
