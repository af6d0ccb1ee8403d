import { describe, expect, it } from '@jest/globals'
import { NO_EXCESS, compactExcess } from '../../src/policy/excess.js'
import type { AddedAccess, ExcessAction, PullRequestChange, RoleResult } from '../../src/model.js'
import { evaluateGate } from '../../src/report/gate.js'
import { buildReport } from '../../src/report/json.js'
import {
  cleanReport,
  deniedOnlyRole,
  failedRole,
  mixedReport,
  stealCredentialsRole
} from '../support/sample-reports.js'

const report = (...roles: RoleResult[]) => buildReport(roles, 'cloudtrail', '2026-11-27T00:00:00Z')
const withExcess = (...excess: ExcessAction[]): RoleResult => ({
  ...stealCredentialsRole(),
  excess: compactExcess(excess)
})

describe('evaluateGate', () => {
  it('never trips when fail-on is never, whatever the report holds', () => {
    expect(evaluateGate(mixedReport(), 'never')).toEqual({
      tripped: false,
      message: 'fail-on is never: the gate is off.'
    })
  })

  it('excess trips on any excess action and names the roles', () => {
    const result = evaluateGate(report(stealCredentialsRole()), 'excess')
    expect(result).toEqual({
      tripped: true,
      message:
        'fail-on excess: 1 role grants 21 excess actions (stratus-red-team-ec2-steal-credentials-role: 21).'
    })
    expect(evaluateGate(cleanReport(), 'excess')).toEqual({
      tripped: false,
      message: 'fail-on excess: no excess in 1 role.'
    })
  })

  it('high trips on Permissions management or Write excess, or a privilege-escalation risk, not on Read/List/Tagging', () => {
    const read: ExcessAction = { action: 'ssm:GetParameter', accessLevel: 'Read', grantedBy: ['p'] }
    const list: ExcessAction = { action: 'ssm:ListAssociations', accessLevel: 'List', grantedBy: ['p'] }
    const tagging: ExcessAction = { action: 's3:PutBucketTagging', accessLevel: 'Tagging', grantedBy: ['p'] }
    expect(evaluateGate(report(withExcess(read, list, tagging)), 'high').tripped).toBe(false)
    expect(evaluateGate(report(withExcess(read, list, tagging)), 'excess').tripped).toBe(true)

    const write: ExcessAction = {
      action: 'ssm:PutConfigurePackageResult',
      accessLevel: 'Write',
      grantedBy: ['p']
    }
    const permissions: ExcessAction = {
      action: 'iam:PutRolePolicy',
      accessLevel: 'Permissions management',
      grantedBy: ['p']
    }
    const escalationTag: ExcessAction = { ...tagging, action: 'iam:TagRole', risk: 'privilege-escalation' }
    expect(evaluateGate(report(withExcess(read, write)), 'high')).toEqual({
      tripped: true,
      message:
        'fail-on high: 1 role grants 1 high-risk excess action (stratus-red-team-ec2-steal-credentials-role: 1).'
    })
    expect(evaluateGate(report(withExcess(permissions)), 'high').tripped).toBe(true)
    expect(evaluateGate(report(withExcess(escalationTag)), 'high').tripped).toBe(true)
  })

  it('a role that could not be judged trips the gate with its own reason, even with no excess anywhere', () => {
    for (const failOn of ['excess', 'high'] as const) {
      const failed = evaluateGate(report(failedRole()), failOn)
      expect(failed).toEqual({
        tripped: true,
        message: `fail-on ${failOn}: 1 role could not be judged (stratus-red-team-leave-org-role: failed).`
      })
      const weak = evaluateGate(
        report({ ...stealCredentialsRole(), excess: NO_EXCESS }, deniedOnlyRole()),
        failOn
      )
      expect(weak.tripped).toBe(true)
      expect(weak.message).toContain('stratus-red-team-get-usr-data-role: insufficient-evidence')
    }
  })

  it('says both why when excess and unjudged roles meet, in one line', () => {
    const result = evaluateGate(mixedReport(), 'high')
    expect(result.tripped).toBe(true)
    expect(result.message).not.toContain('\n')
    expect(result.message).toBe(
      'fail-on high: 2 roles grant 15 high-risk excess actions (AWSReservedSSO_AdministratorAccess_0123456789abcdef: 3, ' +
        'stratus-red-team-ec2-steal-credentials-role: 12); 2 roles could not be judged ' +
        '(stratus-red-team-get-usr-data-role: insufficient-evidence, stratus-red-team-leave-org-role: failed).'
    )
  })

  it('does not wait for a service-linked role nobody can change, but does for a role skipped by the quota', () => {
    const serviceLinked: RoleResult = {
      ...failedRole(),
      arn: 'arn:aws:iam::123837392027:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS',
      status: 'skipped',
      reason: 'service-linked role: AWS owns and maintains its policies',
      editable: false
    }
    expect(
      evaluateGate(report({ ...stealCredentialsRole(), excess: NO_EXCESS }, serviceLinked), 'excess').tripped
    ).toBe(false)
    const quota: RoleResult = {
      ...failedRole(),
      status: 'skipped',
      reason: 'the daily policy generation quota is spent'
    }
    expect(evaluateGate(report({ ...stealCredentialsRole(), excess: NO_EXCESS }, quota), 'excess')).toEqual({
      tripped: true,
      message: 'fail-on excess: 1 role could not be judged (stratus-red-team-leave-org-role: skipped).'
    })
  })

  it('on a pull request judges what it adds: high-risk unless used, unused at excess; a new role by risk only', () => {
    const added = (over: { [K in keyof AddedAccess]?: AddedAccess[K] | undefined }): AddedAccess => {
      const entry: AddedAccess = {
        action: over.action ?? 's3:PutObject',
        accessLevel: over.accessLevel ?? 'Write',
        resources: over.resources ?? ['*'],
        conditional: over.conditional ?? false,
        grantedBy: over.grantedBy ?? ['p'],
        judgement: over.judgement ?? 'excess'
      }
      // A risk given as undefined means an addition without one.
      const risk = 'risk' in over ? over.risk : 'write'
      return risk === undefined ? entry : { ...entry, risk }
    }
    const change = (...list: AddedAccess[]): PullRequestChange => ({
      baseSha: 'a'.repeat(40),
      newFile: false,
      added: list,
      nonRestrictingConditions: []
    })
    // Pre-existing excess is not what the pull request changes.
    const changed = (c: PullRequestChange, status: RoleResult['status'] = 'analyzed') => ({
      ...stealCredentialsRole(),
      status,
      change: c
    })
    const read = added({ action: 's3:GetObject', accessLevel: 'Read', risk: undefined })
    expect(evaluateGate(report(changed(change())), 'excess').tripped).toBe(false)
    expect(evaluateGate(report(changed(change(added({ judgement: 'used' })))), 'high').tripped).toBe(false)
    expect(evaluateGate(report(changed(change(read))), 'high').tripped).toBe(false)
    expect(evaluateGate(report(changed(change(read))), 'excess').message).toMatch(
      /1 added by this pull request/
    )
    expect(evaluateGate(report(changed(change(added({ judgement: 'unobservable' })))), 'high').tripped).toBe(
      true
    )
    const unverified = (a: AddedAccess) =>
      changed(change({ ...a, judgement: 'unverified' }), 'insufficient-evidence')
    expect(evaluateGate(report(unverified(read)), 'excess').tripped).toBe(false)
    expect(evaluateGate(report(unverified(added({}))), 'high').tripped).toBe(true)
    expect(evaluateGate(report(changed({ ...change(), checkNoNewAccess: 'FAIL' })), 'high').tripped).toBe(
      true
    )
    expect(evaluateGate(report({ ...changed(change()), status: 'failed' }), 'high').tripped).toBe(true)
  })
})
