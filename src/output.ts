import {
  closeSync,
  createReadStream,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync
} from 'node:fs'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import type { ProposedPolicy, ReportV1, RoleResult } from './model.js'
import type { RoleSink } from './pipeline/judge-roles.js'
import { reportChunks, reportWriter } from './report/json.js'
import type { ReportVersion } from './report/json.js'
import { markdownChunks, markdownHead, markdownRoleSection } from './report/markdown.js'
import { sarifChunks } from './report/sarif.js'
import type { SarifOptions } from './report/sarif.js'

export interface WrittenFiles {
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
  return report.roles.filter(isWritableProposal)
}

function isWritableProposal(r: RoleResult): boolean {
  return Boolean(
    r.status === 'analyzed' && r.editable && r.excess.count > 0 && r.proposed.length > 0 && r.policyFile
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
  const proposals = writableProposals(report).map(role => writeProposal(dir, role))
  return { report: reportPath, sarif: sarifPath, proposals }
}

/** Where a role's proposal goes under DIR/proposals: its policy path, never outside. */
function proposalPath(dir: string, role: Pick<RoleResult, 'policyFile'>): string {
  const root = resolve(dir, 'proposals')
  const file = resolve(root, role.policyFile ?? '')
  if (!file.startsWith(root + sep))
    throw new Error(`policy file ${role.policyFile} would be written outside ${root}`)
  return file
}

/** Writes a role's proposal under DIR/proposals at its policy path; returns the file. */
function writeProposal(dir: string, role: RoleResult): string {
  const file = proposalPath(dir, role)
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, policyFileContent(role.proposed))
  return file
}

interface StreamedOutputOptions {
  /** --out: report.json, report.sarif and the proposals are written there. */
  outDir?: string
  /** What is printed, and where (the CLI); nothing without it (the action). */
  print?: { stdout: NodeJS.WritableStream; format: 'markdown' | 'json' | 'sarif' }
  version: ReportVersion
  /** The SARIF options, known once every role is judged (they read the roles' policy files). */
  sarif: (report: ReportV1) => SarifOptions
}

/** The CLI's outputs written as the roles are judged; `finish` takes the run's report of role facts. */
interface StreamedOutputs {
  sink: RoleSink
  finish(report: ReportV1): Promise<WrittenFiles | undefined>
  /** The run failed: what was begun is removed (no half-written report.json is left behind). */
  discard(): void
}

/**
 * The same bytes as `writeReportFiles` and `outputChunks`, with each role written as it is judged: report.json
 * and the JSON on stdout a role at a time, each proposal file at once, the Markdown sections spooled to a
 * temporary file until the overview that precedes them is known. The SARIF is written last from the roles'
 * facts (it reads no diff or evidence).
 */
export function streamedOutputs(options: StreamedOutputOptions): StreamedOutputs {
  const { outDir, version } = options
  const format = options.print?.format
  // Until the run ends its files are written to a folder of their own beside the earlier run's files, which a run
  // that fails leaves as they were; one that ends moves them into place.
  let staging: string | undefined
  let reportFile: { fd: number; writer: ReturnType<typeof reportWriter> } | undefined
  let jsonOut: ReturnType<typeof reportWriter> | undefined
  let spool: Spool | undefined
  let source: ReportV1['source'] = 'access-analyzer'
  // Only where each staged proposal goes: a role's full result (its diff, its evidence) is not held to the end.
  const staged: string[] = []

  const closeAll = () => {
    if (reportFile) closeSync(reportFile.fd)
    if (spool) {
      if (spool.fd !== undefined) closeSync(spool.fd)
      rmSync(spool.dir, { recursive: true, force: true })
    }
    if (staging) rmSync(staging, { recursive: true, force: true })
    reportFile = undefined
    spool = undefined
    staging = undefined
  }

  const sink: RoleSink = {
    begin(head) {
      source = head.source
      if (outDir) {
        mkdirSync(outDir, { recursive: true })
        staging = mkdtempSync(join(outDir, '.iam-least-privilege-'))
        reportFile = { fd: openSync(join(staging, 'report.json'), 'w'), writer: reportWriter(head, version) }
      }
      if (format === 'json') jsonOut = reportWriter(head, version)
      if (format === 'markdown') {
        const dir = mkdtempSync(join(tmpdir(), 'iam-least-privilege-'))
        const path = join(dir, 'sections.md')
        spool = { dir, path, fd: openSync(path, 'w') }
      }
    },
    async role(role) {
      if (reportFile) writeSync(reportFile.fd, reportFile.writer.role(role))
      if (outDir && staging && isWritableProposal(role)) {
        // Refused for where it would land, not for where it waits.
        proposalPath(outDir, role)
        writeProposal(staging, role)
        if (role.policyFile) staged.push(role.policyFile)
      }
      if (spool?.fd !== undefined) writeSync(spool.fd, markdownRoleSection(role, source))
      if (jsonOut && options.print) await writeStream(options.print.stdout, [jsonOut.role(role)])
    }
  }

  /** report.json, report.sarif and the proposals, in OUT once all are written. */
  const writeOut = (report: ReportV1, sarif: SarifOptions): WrittenFiles | undefined => {
    if (!outDir) return undefined
    const from = staging ?? mkdtempSync(join(outDir, '.iam-least-privilege-'))
    staging = from
    if (reportFile) {
      writeSync(reportFile.fd, reportFile.writer.end(report.summary))
      closeSync(reportFile.fd)
      reportFile = undefined
    } else writeFileChunks(join(from, 'report.json'), reportChunks(report, version))
    writeFileChunks(join(from, 'report.sarif'), sarifChunks(report, sarif))
    const written = { report: join(outDir, 'report.json'), sarif: join(outDir, 'report.sarif') }
    renameSync(join(from, 'report.json'), written.report)
    renameSync(join(from, 'report.sarif'), written.sarif)
    const proposals = staged.map(policyFile => {
      const file = proposalPath(outDir, { policyFile })
      mkdirSync(dirname(file), { recursive: true })
      renameSync(proposalPath(from, { policyFile }), file)
      return file
    })
    return { ...written, proposals }
  }

  return {
    sink,
    discard: closeAll,
    async finish(report) {
      try {
        const sarif = options.sarif(report)
        const written = writeOut(report, sarif)
        const stdout = options.print?.stdout
        if (!stdout) return written
        if (format === 'json')
          await writeStream(stdout, jsonOut ? [jsonOut.end(report.summary)] : reportChunks(report, version))
        else if (format === 'sarif') await writeStream(stdout, sarifChunks(report, sarif))
        else await writeMarkdown(stdout, report, spool)
        return written
      } finally {
        closeAll()
      }
    }
  }
}

interface Spool {
  dir: string
  path: string
  /** Open for writing until the sections are read back. */
  fd: number | undefined
}

/** The head, then the spooled sections as they were written, then the blank line the CLI ends Markdown with. */
async function writeMarkdown(
  stdout: NodeJS.WritableStream,
  report: ReportV1,
  spool: Spool | undefined
): Promise<void> {
  await writeStream(stdout, [markdownHead(report)])
  if (spool) {
    if (spool.fd !== undefined) closeSync(spool.fd)
    spool.fd = undefined
    for await (const chunk of createReadStream(spool.path, { encoding: 'utf8' }))
      await writeStream(stdout, [chunk as string])
  } else
    for (const role of report.roles) await writeStream(stdout, [markdownRoleSection(role, report.source)])
  await writeStream(stdout, ['\n\n'])
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
