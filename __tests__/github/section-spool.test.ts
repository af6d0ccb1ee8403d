/**
 * The action's Markdown built from role sections spooled as the roles were judged (the run keeping only each
 * role's facts) equals the in-memory rendering of the full results at every size limit, through each stage of the
 * shortening; and the job summary, the sticky comment and the pull request published from either are identical.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createGitHubClient } from '../../src/github/client.js'
import { publishStickyComment } from '../../src/github/comment.js'
import { publishPullRequest } from '../../src/github/pull-request.js'
import { spoolSections } from '../../src/github/section-spool.js'
import { STEP_SUMMARY_LIMIT_BYTES, writeJobSummary } from '../../src/github/summary.js'
import type { ReportV1 } from '../../src/model.js'
import { policyFileContent, writableProposals } from '../../src/output.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import type { LengthUnit } from '../../src/report/markdown.js'
import { runAnalysis } from '../../src/run.js'
import { SAMPLE_FILES } from '../support/cli-sample.js'
import { GitHubEmulator } from '../support/github-emulator.js'
import { configOf, everyRoleInputs, offlineDeps } from '../support/analysis-in-process.js'

const temp = mkdtempSync(join(tmpdir(), 'section-spool-'))
const summaryFile = join(temp, 'step-summary.md')

let full: ReportV1
let facts: ReportV1
let spool: ReturnType<typeof spoolSections>

beforeAll(async () => {
  process.env.GITHUB_STEP_SUMMARY = summaryFile
  const config = configOf(everyRoleInputs(SAMPLE_FILES))
  full = await runAnalysis(config, offlineDeps(config))
  spool = spoolSections(temp, STEP_SUMMARY_LIMIT_BYTES)
  facts = await runAnalysis(config, { ...offlineDeps(config), sink: spool.sink })
}, 240_000)
afterAll(() => {
  spool.close()
  delete process.env.GITHUB_STEP_SUMMARY
  rmSync(temp, { recursive: true, force: true })
})

const HINT = 'https://github.com/octo-org/infra/actions/runs/7'

describe('spooled role sections', () => {
  it('give the in-memory Markdown at every size limit, from the full text down to a few rows', () => {
    // The run kept no diff or usage evidence: the sections could not have been rendered from what it kept.
    expect(full.roles.some(role => role.diff)).toBe(true)
    expect(facts.roles.some(role => role.diff || role.evidence || role.usedEvidence)).toBe(false)
    const whole = renderMarkdown(full, { maxLength: Number.MAX_SAFE_INTEGER }).length
    const limits = [
      ...[1, 0.99, 0.9, 0.7, 0.5, 0.35, 0.2, 0.1, 0.05, 0.02].map(f => Math.floor(whole * f)),
      ...[6000, 3000, 1500, 800, 400, 200]
    ]
    const texts = new Set<string>()
    for (const lengthUnit of ['characters', 'utf8-bytes'] as LengthUnit[])
      for (const limit of limits) {
        const options = { lengthUnit, marker: '<!-- m -->', title: 'nightly', fullReportHint: HINT }
        const text = renderMarkdown(full, { ...options, maxLength: limit })
        const length = lengthUnit === 'utf8-bytes' ? Buffer.byteLength(text) : text.length
        // At the text's own length it fits; one less and a shorter form must be chosen.
        for (const maxLength of [limit, length, length - 1]) {
          const expected = renderMarkdown(full, { ...options, maxLength })
          expect(renderMarkdown(facts, { ...options, maxLength }, spool.sections)).toBe(expected)
          texts.add(expected)
        }
      }
    const all = [...texts]
    // Each stage of the shortening was reached: less detail, whole sections left out, only overview rows.
    expect(all.some(t => t.includes('long action lists are summarised'))).toBe(true)
    expect(all.some(t => /the sections of \d+ less severe roles?/.test(t))).toBe(true)
    expect(all.some(t => t.includes('in the full report |'))).toBe(true)
    expect(texts.size).toBeGreaterThan(8)
  })

  it('stop keeping a detail level once its sections exceed every limit, and stay exact below it', () => {
    const limit = 4000
    const small = spoolSections(temp, limit)
    try {
      void small.sink.begin({ generatedAt: full.generatedAt, source: full.source })
      for (const role of full.roles) void small.sink.role(role)
      expect(small.sections.holds(0)).toBe(false)
      expect(readdirSync(temp).length).toBeGreaterThan(0)
      for (const maxLength of [limit, 2500, 1200, 600])
        expect(renderMarkdown(full, { maxLength }, small.sections)).toBe(renderMarkdown(full, { maxLength }))
    } finally {
      small.close()
    }
  })
})

describe('the action publishes the same from spooled sections', () => {
  let emulator: GitHubEmulator
  beforeAll(async () => {
    emulator = await GitHubEmulator.start({ files: { 'README.md': '# infra\n' } })
  })
  afterAll(() => emulator.close())
  afterEach(() => expect(emulator.validationFailures).toEqual([]))
  const client = () => createGitHubClient('ghs_test', { baseUrl: emulator.url })

  it('writes the same job summary, within a nearly full step summary too', async () => {
    for (const alreadyWrittenBytes of [0, STEP_SUMMARY_LIMIT_BYTES - 5000]) {
      const summaries = []
      for (const [report, sections] of [
        [full, undefined],
        [facts, spool.sections]
      ] as const) {
        writeFileSync(summaryFile, '')
        await writeJobSummary(report, {
          fullReportHint: 'the report file',
          alreadyWrittenBytes,
          ...(sections ? { sections } : {})
        })
        summaries.push(readFileSync(summaryFile, 'utf8'))
      }
      expect(summaries[1]).toBe(summaries[0])
      expect(summaries[0]).toContain('## IAM least privilege')
    }
  })

  it('writes the same sticky comment', async () => {
    const bodies = []
    for (const [report, sections] of [
      [full, undefined],
      [facts, spool.sections]
    ] as const) {
      const issue = emulator.addIssue()
      const target = { owner: 'octo-org', repo: 'infra', issueNumber: issue, workflow: 'w', job: 'j' }
      await publishStickyComment(client(), target, report, {
        fullReportHint: HINT,
        ...(sections ? { sections } : {})
      })
      bodies.push(emulator.commentsOn(issue)[0]?.body)
    }
    expect(bodies[0]).toContain('<!-- iam-least-privilege:w:j -->')
    expect(bodies[1]).toBe(bodies[0])
  })

  it('opens the same pull request: files and body', async () => {
    const files = (report: ReportV1) =>
      writableProposals(report).map(r => ({
        path: r.policyFile ?? '',
        content: policyFileContent(r.proposed)
      }))
    expect(files(full).length).toBeGreaterThan(0)
    expect(files(facts)).toEqual(files(full))
    const opened = []
    for (const [report, sections, branch] of [
      [full, undefined, 'proposals-memory'],
      [facts, spool.sections, 'proposals-spooled']
    ] as const) {
      await publishPullRequest(
        client(),
        { owner: 'octo-org', repo: 'infra', branch, title: 'IAM', files: files(report), labels: [] },
        report,
        { fullReportHint: HINT, ...(sections ? { sections } : {}) }
      )
      const pr = emulator.pullRequests().find(p => p.head === branch)
      opened.push({
        body: pr?.body,
        files: files(report).map(f => emulator.readFile(branch, f.path))
      })
    }
    expect(opened[0]?.body).toContain('## IAM least privilege')
    expect(opened[1]).toEqual(opened[0])
  })
})
