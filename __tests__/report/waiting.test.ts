/** A role kept back by the daily quota: shown as waiting, with when it was last judged; not a gate failure. */
import { describe, expect, it } from '@jest/globals'
import type { RoleResult } from '../../src/model.js'
import { evaluateGate } from '../../src/report/gate.js'
import { buildReport } from '../../src/report/json.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { judgeRun } from '../../src/report/run-verdict.js'
import { failedRole } from '../support/sample-reports.js'

const waiting: RoleResult = {
  ...failedRole(),
  status: 'skipped',
  waiting: true,
  lastJudged: '2026-11-20T03:00:00.000Z',
  reason:
    'waits for a later run (last judged on usage up to 2026-11-20): not started: the daily Access Analyzer policy-generation quota is spent'
}

describe('a waiting role', () => {
  const report = buildReport([waiting], 'access-analyzer', '2026-11-27T00:00:00Z')

  it('is shown as waiting, with the date it was last judged', () => {
    const text = renderMarkdown(report, { maxLength: 65_536 })
    expect(text).toContain('waiting for a later run · last judged on usage to 2026-11-20')
    expect(text).toContain(
      '> **Waiting for a later run:** waits for a later run \\(last judged on usage up to 2026\\-11\\-20\\)'
    )
  })

  it('fails neither the run nor the gate of a scheduled run; the same role without waiting does', () => {
    expect(judgeRun(report, 'excess').exitCode).toBe(0)
    expect(evaluateGate(report, 'high').tripped).toBe(false)
    const { waiting: _waiting, ...notWaiting } = waiting
    const skipped = buildReport([notWaiting], 'access-analyzer', '')
    expect(evaluateGate(skipped, 'high').tripped).toBe(true)
  })
})
