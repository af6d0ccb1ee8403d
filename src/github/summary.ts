import { summary } from '@actions/core'
import type { ReportV1 } from '../model.js'
import { renderMarkdown } from '../report/markdown.js'
import type { RoleSections } from '../report/markdown.js'

/** GitHub refuses a step summary larger than 1 MiB. */
export const STEP_SUMMARY_LIMIT_BYTES = 1024 * 1024

interface JobSummaryOptions {
  title?: string
  /** Where the full report is when the summary had to be shortened, e.g. `the report artifact`. */
  fullReportHint?: string
  /** Markdown put before the report (e.g. the fork notice); counted in the limit. */
  preface?: string
  /** Bytes already written to this step's summary by earlier steps of ours (default 0). */
  alreadyWrittenBytes?: number
  /** The roles' sections, when they were spooled as the roles were judged (default: rendered from the report). */
  sections?: RoleSections
}

/**
 * Appends the report to the job summary (`GITHUB_STEP_SUMMARY`), shortened to stay within GitHub's 1 MiB
 * limit per step. Returns the number of bytes written.
 */
export async function writeJobSummary(
  report: ReportV1,
  options: JobSummaryOptions = {}
): Promise<{ bytes: number }> {
  const preface = options.preface ? `${options.preface}\n\n` : ''
  const budget = STEP_SUMMARY_LIMIT_BYTES - (options.alreadyWrittenBytes ?? 0) - Buffer.byteLength(preface)
  if (budget <= 0)
    throw new Error('the job summary is already full (1 MiB per step): nothing more can be written')
  const markdown = renderMarkdown(
    report,
    {
      maxLength: budget,
      lengthUnit: 'utf8-bytes',
      ...(options.title ? { title: options.title } : {}),
      ...(options.fullReportHint ? { fullReportHint: options.fullReportHint } : {})
    },
    options.sections
  )
  const text = preface + markdown
  await summary.addRaw(text).write()
  return { bytes: Buffer.byteLength(text) }
}

/** Appends Markdown (e.g. the fork notice alone) to the job summary, ending it with a newline. */
export async function writeJobSummaryText(markdown: string): Promise<{ bytes: number }> {
  const text = markdown.endsWith('\n') ? markdown : `${markdown}\n`
  if (Buffer.byteLength(text) > STEP_SUMMARY_LIMIT_BYTES) {
    throw new Error('the job summary text is larger than 1 MiB: shorten it')
  }
  await summary.addRaw(text).write()
  return { bytes: Buffer.byteLength(text) }
}
