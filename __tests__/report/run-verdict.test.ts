import { describe, expect, it } from '@jest/globals'
import type { RoleResult } from '../../src/model.js'
import { buildReport } from '../../src/report/json.js'
import { NOT_JUDGED_CANCELLED, failureWarnings, judgeRun } from '../../src/report/run-verdict.js'
import { cleanReport, failedRole, stealCredentialsRole } from '../support/sample-reports.js'

const report = (...roles: RoleResult[]) => buildReport(roles, 'cloudtrail', '2026-11-27T00:00:00Z')

describe('judgeRun: one failure policy for the action and the CLI', () => {
  it('fails (1) when any role failed, not only when every role did, whatever fail-on says', () => {
    const oneOfTwo = report(stealCredentialsRole(), failedRole())
    for (const failOn of ['never', 'excess', 'high'] as const) {
      const verdict = judgeRun(oneOfTwo, failOn)
      expect(verdict.exitCode).toBe(1)
      expect(verdict.message).toMatch(/^1 of 2 role\(s\) failed \(/)
    }
  })

  it('names a few of thousands of failed roles (a cancelled run), so the one line stays short', () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      ...failedRole(),
      arn: `arn:aws:iam::111122223333:role/many-${String(i).padStart(4, '0')}`,
      reason: NOT_JUDGED_CANCELLED
    }))
    const verdict = judgeRun(report(...many), 'never')
    expect(verdict.exitCode).toBe(1)
    expect(verdict.message).toBe(
      '5000 of 5000 role(s) failed (many-0000, many-0001, many-0002, many-0003, many-0004, many-0005, many-0006, many-0007, many-0008, many-0009 and 4990 more; the report lists every one); the first: not judged: the run was cancelled before this role'
    )
  })

  it('warns once per failed role, and once for all the roles a cancelled run never judged', () => {
    const notJudged = Array.from({ length: 3 }, (_, i) => ({
      ...failedRole(),
      arn: `arn:aws:iam::111122223333:role/late-${i}`,
      reason: NOT_JUDGED_CANCELLED
    }))
    const denied = failedRole()
    expect(failureWarnings(report(stealCredentialsRole(), denied, ...notJudged))).toEqual([
      `${denied.arn}: ${denied.reason ?? 'failed'}`,
      '3 role(s) not judged: the run was cancelled before them'
    ])
  })

  it('names the gate too when a role failed and the gate tripped', () => {
    const verdict = judgeRun(report(stealCredentialsRole(), failedRole()), 'excess')
    expect(verdict.gate.tripped).toBe(true)
    expect(verdict.message).toContain(verdict.gate.message)
  })

  it('exits 3 when the gate trips and no role failed, 0 when it passes or is off', () => {
    expect(judgeRun(report(stealCredentialsRole()), 'excess').exitCode).toBe(3)
    expect(judgeRun(report(stealCredentialsRole()), 'never').exitCode).toBe(0)
    expect(judgeRun(cleanReport(), 'excess').exitCode).toBe(0)
  })

  it('a skipped role does not fail the run by itself', () => {
    const serviceLinked: RoleResult = {
      ...failedRole(),
      status: 'skipped',
      reason: 'service-linked role: AWS owns and maintains its policies',
      editable: false
    }
    expect(judgeRun(report(serviceLinked), 'never').exitCode).toBe(0)
    expect(judgeRun(report(serviceLinked, cleanReport().roles[0] ?? failedRole()), 'excess').exitCode).toBe(0)
  })

  it('a run that analyzed nothing cannot pass a gate, and passes when the gate is off', () => {
    const nothing = { nothingAnalyzed: 'nothing was analyzed for this pull request from a fork' }
    expect(judgeRun(nothing, 'excess')).toEqual({
      exitCode: 3,
      message:
        'fail-on excess: nothing was analyzed for this pull request from a fork, so the gate cannot pass',
      gate: {
        tripped: true,
        message:
          'fail-on excess: nothing was analyzed for this pull request from a fork, so the gate cannot pass'
      }
    })
    expect(judgeRun(nothing, 'high').exitCode).toBe(3)
    expect(judgeRun(nothing, 'never')).toMatchObject({ exitCode: 0, gate: { tripped: false } })
  })
})
