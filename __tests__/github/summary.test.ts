import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { renderForkNotice } from '../../src/github/comment.js'
import { STEP_SUMMARY_LIMIT_BYTES, writeJobSummary, writeJobSummaryText } from '../../src/github/summary.js'
import { buildReport } from '../../src/report/json.js'
import { mixedReport, stealCredentialsRole } from '../support/sample-reports.js'

const dir = mkdtempSync(join(tmpdir(), 'summary-'))
const file = join(dir, 'step-summary.md')

beforeAll(() => {
  // @actions/core reads the path once, on first use.
  process.env.GITHUB_STEP_SUMMARY = file
})
beforeEach(() => writeFileSync(file, ''))
afterAll(() => {
  delete process.env.GITHUB_STEP_SUMMARY
  rmSync(dir, { recursive: true, force: true })
})

describe('writeJobSummary', () => {
  it('appends the report, with a preface, to the step summary file', async () => {
    const notice = renderForkNotice({ headRepo: 'mallory/infra', baseRepo: 'octo-org/infra' })
    const { bytes } = await writeJobSummary(mixedReport(), { title: 'nightly', preface: notice })
    const text = readFileSync(file, 'utf8')
    expect(text.startsWith('## IAM least privilege: not run for this pull request')).toBe(true)
    expect(text).toContain('## IAM least privilege: nightly')
    expect(text).toContain('| `stratus-red-team-leave-org-role` | 111122223333 | ❌ failed |')
    expect(statSync(file).size).toBe(bytes)
  })

  it('stays within 1 MiB for a very large report and says where the full one is', async () => {
    const roles = Array.from({ length: 900 }, (_, i) => ({
      ...stealCredentialsRole(),
      arn: `arn:aws:iam::111122223333:role/app-${i}`,
      diff: '-    "Action": "ec2:Describe*",\n'.repeat(40)
    }))
    await writeJobSummary(buildReport(roles, 'cloudtrail', '2026-11-27T00:00:00Z'), {
      fullReportHint: 'the report artifact'
    })
    const size = statSync(file).size
    expect(size).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT_BYTES)
    expect(size).toBeGreaterThan(STEP_SUMMARY_LIMIT_BYTES / 2)
    expect(readFileSync(file, 'utf8')).toContain('the full report is in the report artifact.')
  })

  it('writes plain text and refuses text over the limit', async () => {
    await writeJobSummaryText('hello')
    expect(readFileSync(file, 'utf8')).toBe('hello\n')
    await expect(writeJobSummaryText('x'.repeat(STEP_SUMMARY_LIMIT_BYTES + 1))).rejects.toThrow(
      'larger than 1 MiB'
    )
  })
})
