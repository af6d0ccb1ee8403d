/**
 * One rule for "judged" in every output: a service-linked role skipped because nobody can change it needs no
 * judgement. The gate and the all-clear comment already let it pass; the Markdown summary counted it as "not
 * judged" and SARIF warned that it "was not judged". Any other role not judged holds all four back.
 */
import { describe, expect, it } from '@jest/globals'
import { isAllClear } from '../../src/github/comment.js'
import { NO_EXCESS } from '../../src/policy/excess.js'
import { evaluateGate } from '../../src/report/gate.js'
import { buildReport } from '../../src/report/json.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { renderSarif } from '../../src/report/sarif.js'
import { deniedOnlyRole, failedRole, stealCredentialsRole } from '../support/sample-reports.js'

const { diff: _diff, ...steal } = stealCredentialsRole()
const clean = { ...steal, excess: NO_EXCESS }
const serviceLinked = {
  ...failedRole(),
  arn: 'arn:aws:iam::111122223333:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS',
  status: 'skipped' as const,
  reason: 'service-linked role: AWS manages its policies',
  editable: false
}
const report = (...roles: Parameters<typeof buildReport>[0]) =>
  buildReport(roles, 'cloudtrail', '2026-11-27T00:00:00Z')

describe('a role that needs no judgement', () => {
  it('passes the gate, the all-clear, the Markdown summary and SARIF alike', () => {
    const withServiceLinked = report(clean, serviceLinked)
    expect(evaluateGate(withServiceLinked, 'excess').tripped).toBe(false)
    expect(isAllClear(withServiceLinked)).toBe(true)
    expect(renderMarkdown(withServiceLinked, { maxLength: 65_536 })).not.toMatch(/not judged/)
    const notifications = renderSarif(withServiceLinked).runs[0]?.invocations[0]?.toolExecutionNotifications
    expect(notifications?.map(n => n.level)).toEqual(['note'])
    expect(notifications?.[0]?.message.text).not.toMatch(/not judged/)
  })

  it('while a role that was not judged holds all four back', () => {
    const weak = report(clean, deniedOnlyRole())
    expect(evaluateGate(weak, 'excess').tripped).toBe(true)
    expect(isAllClear(weak)).toBe(false)
    expect(renderMarkdown(weak, { maxLength: 65_536 })).toMatch(/1 not judged/)
    const notifications = renderSarif(weak).runs[0]?.invocations[0]?.toolExecutionNotifications
    expect(notifications?.map(n => n.level)).toEqual(['warning'])
    expect(notifications?.[0]?.message.text).toMatch(/was not judged \(insufficient-evidence\)/)
  })
})
