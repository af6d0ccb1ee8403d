/**
 * What a pull request adds, per role, put before any long list of the report: the reviewer's question is "does
 * this change grant access the role does not use, or that is dangerous?". It is never shortened away.
 */
import type { AddedAccess, ReportV1, RoleResult } from '../model.js'
import { code, codeBlock, escapeText } from './escape.js'
import { addedTrips } from './gate.js'
import { roleName, serviceOf, shortList } from './role-facts.js'

/** Groups shown per role before "… and N more groups"; actions shown per group. */
const MAX_GROUPS = 25
const MAX_ACTIONS = 8

const JUDGEMENT: Record<AddedAccess['judgement'], string> = {
  used: 'used',
  excess: 'not used: added by this pull request',
  unobservable: 'unobservable: cannot be shown used',
  unverified: 'unverified'
}

const RISK: Record<NonNullable<AddedAccess['risk']>, string> = {
  'privilege-escalation': '🔴 privilege escalation',
  'permissions-management': '🔴 permissions management',
  write: '🔴 write',
  'unobservable-write': '🔴 unobservable write',
  'secret-read-on-all-resources': '🔴 secret read on every resource'
}

export function renderPullRequestChanges(report: ReportV1): string | undefined {
  const changed = report.roles.filter(r => r.change)
  const kept = report.roles.filter(r => r.kept && !r.change)
  const blocks = [
    ...(changed.length > 0 ? ['### What this pull request adds', ...changed.map(renderRoleChange)] : []),
    ...(kept.length > 0 ? ['### Kept by keep-actions and keep-Sid statements', ...kept.map(keptLine)] : [])
  ]
  return blocks.length > 0 ? blocks.join('\n\n') : undefined
}

function keptLine(role: RoleResult): string {
  return `**${escapeText(roleName(role.arn).name)}**: ${keptText(role)}`
}

function keptText(role: RoleResult): string {
  const { statements, actions } = role.kept ?? { statements: [], actions: [] }
  return (
    `${actions.length} action(s) exempt from the report` +
    (statements.length ? `; statements ${statements.map(code).join(', ')}` : '') +
    (actions.length ? `: ${shortList(actions.map(code), MAX_ACTIONS)}` : '')
  )
}

function renderRoleChange(role: RoleResult): string {
  const { name } = roleName(role.arn)
  const lines: string[] = []
  const change = role.change
  if (change) {
    const high = change.added.filter(a => addedTrips(a, 'high')).length
    const unused = change.added.filter(a => addedTrips(a, 'excess')).length
    const verdict =
      change.added.length === 0
        ? change.checkNoNewAccess === 'FAIL'
          ? '❌ Access Analyzer CheckNoNewAccess found new access our evaluator did not itemize'
          : '✅ adds no access'
        : high > 0
          ? `❌ adds ${change.added.length} action(s), ${high} high-risk`
          : unused > 0
            ? `⚠️ adds ${change.added.length} action(s), ${unused} not used`
            : `✅ adds ${change.added.length} action(s), all used or low-risk`
    lines.push(`**${escapeText(name)}**: ${verdict}${change.newFile ? ' (new policy file)' : ''}`)
    if (change.unverifiedReason) lines.push(`> ${escapeText(change.unverifiedReason)}`)
    if (change.added.length > 0) lines.push(addedTable(change.added))
    const widened = change.added.filter(a => a.widened).map(a => a.action)
    if (widened.length > 0)
      lines.push(
        `Widened resources (granted at the base on fewer resources): ${shortList(widened.map(code), MAX_ACTIONS)}`
      )
    if (change.nonRestrictingConditions.length > 0) {
      lines.push(
        'Conditions that restrict nothing (the grant is judged as unconditional):',
        codeBlock(change.nonRestrictingConditions.join('\n'))
      )
    }
  }
  if (role.kept) lines.push(`Kept: ${keptText(role)}`)
  return lines.join('\n\n')
}

/** Added actions grouped by service, access level, risk, judgement, resources and condition. */
function addedTable(added: AddedAccess[]): string {
  const groups = new Map<string, AddedAccess[]>()
  for (const a of added) {
    const key = [
      a.risk ?? '',
      serviceOf(a.action),
      a.accessLevel,
      a.judgement,
      a.conditional,
      a.resources.join('\n')
    ].join('\u0000')
    groups.set(key, [...(groups.get(key) ?? []), a])
  }
  const rows = [...groups.values()].map(list => {
    const first = list[0] as AddedAccess
    const actions = list.map(a => a.action)
    return `| ${first.risk ? RISK[first.risk] : first.accessLevel} | ${shortList(actions.map(code), MAX_ACTIONS)} | ${first.resources.map(code).join(', ')}${
      first.conditional ? ' (conditional)' : ''
    } | ${JUDGEMENT[first.judgement]} |`
  })
  const shown = rows.slice(0, MAX_GROUPS)
  if (rows.length > MAX_GROUPS)
    shown.push(`| | … and ${rows.length - MAX_GROUPS} more groups (see the JSON report) | | |`)
  return [
    '| Risk / level | Added actions | Resources | Judgement |',
    '| --- | --- | --- | --- |',
    ...shown
  ].join('\n')
}
