import type {
  ExcessAction,
  ReportV1,
  RoleConditional,
  RoleExcess,
  RoleResult,
  RoleStatus,
  SourceEvidence,
  RoleUnobservable,
  UnobservableGroup,
  UsageEvidence
} from '../model.js'
import { excessEvidence, serviceEvidence, windowSpan } from '../policy/action-evidence.js'
import { describeTrailLogging } from '../policy/trail-logging.js'
import { code, codeBlock, escapeText, htmlCode } from './escape.js'
import { ACCESS_LEVELS, DAY_MS, compare } from '../model.js'
import { excessActions, groupActions } from '../policy/excess.js'
import type { ActionGroup } from '../policy/action-groups.js'
import { renderPullRequestChanges } from './gate-markdown.js'
import { awsRecommendationSection } from './aws-recommendation-markdown.js'
import {
  accessLevelRank,
  byRiskThenAction,
  firstHighRisk,
  highRiskCount,
  isJudged,
  plural,
  roleName,
  serviceOf,
  shortList
} from './role-facts.js'

interface MarkdownOptions {
  /** Upper bound of the result: 65,536 for comments and PR bodies, 1 MiB (in bytes) for the job summary. */
  maxLength: number
  /** Appended to the heading, e.g. the workflow name. */
  title?: string
  /** Where the complete report is when this one had to be shortened: `the job summary` or a run URL. */
  fullReportHint?: string
  /** A hidden HTML comment put first (the sticky comment marker); written as given. */
  marker?: string
  /** How maxLength is counted (default UTF-16 code units). */
  lengthUnit?: LengthUnit
}

/**
 * What a role section shows, from the most to the least. Long action lists go first (summarised by access
 * level and service with counts), then diffs, then the evidence and checklists; the verdict, the high-risk
 * actions and the proposed policy stay to the end.
 */
interface DetailLevel {
  lists: 'full' | 'summary'
  diff: boolean
  extras: boolean
  /** The proposed policy indented, on one line per document, or only named (it is in the JSON report). */
  proposal: 'indented' | 'compact' | 'named'
}
const FULL_DETAIL: DetailLevel = { lists: 'full', diff: true, extras: true, proposal: 'indented' }
const LEAST_DETAIL: DetailLevel = { lists: 'summary', diff: false, extras: false, proposal: 'indented' }
const DETAIL_LEVELS: DetailLevel[] = [
  FULL_DETAIL,
  { lists: 'summary', diff: true, extras: true, proposal: 'indented' },
  { lists: 'summary', diff: false, extras: true, proposal: 'indented' },
  LEAST_DETAIL
]
/** For the worst role alone, when its section does not fit even with the least detail. */
const SMALLER_PROPOSALS: DetailLevel[] = [
  { ...LEAST_DETAIL, proposal: 'compact' },
  { ...LEAST_DETAIL, proposal: 'named' }
]

const STATUS_LABEL: Record<RoleStatus, string> = {
  analyzed: '✅ analyzed',
  'insufficient-evidence': '⚠️ not enough evidence',
  skipped: '⏭️ skipped',
  failed: '❌ failed'
}

const SOURCE_LABEL: Record<ReportV1['source'], string> = {
  'access-analyzer': 'IAM Access Analyzer',
  cloudtrail: 'CloudTrail logs',
  'access-advisor': 'IAM access advisor (last accessed)',
  'unused-access': 'IAM Access Analyzer unused-access findings',
  athena: 'CloudTrail through Athena'
}

/** How a length limit is counted: UTF-16 code units (GitHub's comment limit) or UTF-8 bytes (step summary). */
export type LengthUnit = 'characters' | 'utf8-bytes'

/** Every detail a role section is rendered at: DETAIL_LEVELS, then SMALLER_PROPOSALS (for the worst role only). */
const SECTION_LEVELS: DetailLevel[] = [...DETAIL_LEVELS, ...SMALLER_PROPOSALS]
/** The level of SECTION_LEVELS every role's section is needed at when the report has to drop whole sections. */
export const LEAST_LEVEL = DETAIL_LEVELS.length - 1
/** The levels of SECTION_LEVELS only the worst role (the first of the highest `severity`) is ever shown at. */
export const SMALLER_LEVELS = SMALLER_PROPOSALS.map((_, i) => DETAIL_LEVELS.length + i)

/** Role `index`'s section (report order) at SECTION_LEVELS[level]. */
export function renderRoleSection(role: RoleResult, source: ReportV1['source'], level: number): string {
  const detail = SECTION_LEVELS[level]
  if (!detail) throw new Error(`internal: no detail level ${level}`)
  return renderRole(role, source, detail)
}

/**
 * The role sections `renderMarkdown` picks from, by report index and level of SECTION_LEVELS. In memory they are
 * rendered when asked for; a run of many roles reads them from a spool written as its roles were judged.
 */
export interface RoleSections {
  /** False when the level's sections together are longer than any limit (a spool stops keeping them). */
  holds(level: number): boolean
  length(index: number, level: number, unit: LengthUnit): number
  text(index: number, level: number): string
}

/** The sections of a report held in memory, each rendered once when first asked for. */
function renderedSections(report: ReportV1): RoleSections {
  const rendered = new Map<string, string>()
  const text = (index: number, level: number) => {
    const key = `${level}:${index}`
    const known = rendered.get(key)
    if (known !== undefined) return known
    const role = report.roles[index]
    if (!role) throw new Error(`internal: no role ${index}`)
    const section = renderRoleSection(role, report.source, level)
    rendered.set(key, section)
    return section
  }
  return {
    holds: () => true,
    text,
    length: (index, level, unit) => measureIn(unit)(text(index, level))
  }
}

function measureIn(unit: LengthUnit): (text: string) => number {
  return unit === 'utf8-bytes' ? utf8Length : text => text.length
}

/**
 * The report as GitHub-flavoured Markdown for a job summary, a sticky comment or a pull-request body: the
 * overview (with the high-risk actions named), then per role the verdict, the high-risk actions, the proposed
 * policy and the diff, then the details. When it does not fit `maxLength` it summarises the long action lists
 * first, then drops the diffs, then the evidence and checklists, then whole role sections (the least severe
 * first), then shows the worst role's proposal without indentation, then only names it, and says where the full
 * report is. The roles' sections come from `sections` (by default rendered from the report's roles).
 */
export function renderMarkdown(
  report: ReportV1,
  options: MarkdownOptions,
  sections: RoleSections = renderedSections(report)
): string {
  const unit = options.lengthUnit ?? 'characters'
  const measure = measureIn(unit)
  const fits = (text: string) => measure(text) <= options.maxLength
  // What a pull request adds comes first and is never shortened: the gate's verdict rests on it.
  const head = [renderHead(report, options), renderPullRequestChanges(report)].filter(Boolean).join('\n\n')
  const table = overviewTable(report.roles)
  const indices = report.roles.map((_, i) => i)

  for (const [level, detail] of DETAIL_LEVELS.entries()) {
    if (!sections.holds(level)) continue
    const shortened = level === 0 ? undefined : shortenedNote(detail, 0, options.fullReportHint)
    // Sections are measured only while the text can still fit: thousands of roles never build one huge string.
    const blocks = [head, shortened, table.join('\n')]
    let length = measure(join(blocks))
    for (const index of indices) {
      if (length > options.maxLength) break
      length += sections.length(index, level, unit) + 2
    }
    if (length <= options.maxLength) {
      const text = join([...blocks, ...indices.map(index => sections.text(index, level))])
      if (fits(text)) return text
    }
  }

  // Whole role sections, the most severe kept, while they fit next to the overview (shown in report order).
  // A long overview gives up naming the high-risk actions (counts stay) before any section goes.
  const compact = overviewTable(report.roles, false)
  const tableText = fits(
    join([head, shortenedNote(LEAST_DETAIL, 0, options.fullReportHint), table.join('\n')])
  )
    ? table.join('\n')
    : compact.join('\n')
  const lengths = indices.map(index => sections.length(index, LEAST_LEVEL, unit))
  const severities = report.roles.map(severity)
  const bySeverity = [...indices].sort((a, b) => (severities[b] ?? 0) - (severities[a] ?? 0) || a - b)
  const note = (kept: number) =>
    shortenedNote(LEAST_DETAIL, report.roles.length - kept, options.fullReportHint)
  // The length join() gives these blocks, computed from their lengths alone.
  const joinedLength = (blockLengths: number[]) => {
    const present = blockLengths.filter(length => length > 0)
    return present.reduce((sum, length) => sum + length, 0) + 2 * Math.max(0, present.length - 1) + 1
  }
  const withSectionsLength = (kept: number) =>
    joinedLength([
      measure(head),
      measure(note(kept)),
      measure(tableText),
      ...bySeverity.slice(0, kept).map(index => lengths[index] ?? 0)
    ])
  const withSections = (kept: number) => {
    const chosen = new Set(bySeverity.slice(0, kept))
    const shown = indices.filter(index => chosen.has(index))
    return join([head, note(kept), tableText, ...shown.map(index => sections.text(index, LEAST_LEVEL))])
  }
  const kept = largestFitting(indices.length, count => withSectionsLength(count) <= options.maxLength)
  if (kept > 0) return withSections(kept)
  // Not even the worst role's section fits on its own: its proposal is written without indentation, then only
  // named, so its verdict and high-risk actions still show.
  const worst = bySeverity[0]
  for (const level of SMALLER_LEVELS) {
    const detail = SECTION_LEVELS[level]
    if (worst === undefined || !detail) break
    const section = sections.text(worst, level)
    const text = join([
      head,
      shortenedNote(detail, report.roles.length - 1, options.fullReportHint),
      tableText,
      section
    ])
    if (fits(text)) return text
  }
  if (fits(withSections(0))) return withSections(0)

  // Not even the overview fits: keep as many rows as fit.
  const header = compact.slice(0, 2)
  const rows = compact.slice(2)
  const withRows = (count: number) =>
    join([head, note(0), [...header, ...rows.slice(0, count), omittedRow(rows.length - count)].join('\n')])
  const overviewOnly = withRows(largestFitting(rows.length, count => fits(withRows(count))))
  return fits(overviewOnly) ? overviewOnly : truncate(overviewOnly, options.maxLength, measure)
}

/** The largest count in [0, max] for which `fitsWith` holds, given it holds for every smaller count too. */
function largestFitting(max: number, fitsWith: (count: number) => boolean): number {
  let low = 0
  let high = max
  while (low < high) {
    const middle = Math.ceil((low + high) / 2)
    if (fitsWith(middle)) low = middle
    else high = middle - 1
  }
  return low
}

/**
 * The report as the CLI prints it, never shortened, one role section at a time: the same text as
 * `renderMarkdown` with no length limit, without holding every section at once.
 */
export function* markdownChunks(report: ReportV1): Generator<string> {
  yield markdownHead(report)
  for (const role of report.roles) yield markdownRoleSection(role, report.source)
  yield '\n'
}

/** What `markdownChunks` writes before the role sections; it reads only each role's facts, not its diff. */
export function markdownHead(report: ReportV1): string {
  return [renderHead(report, {}), renderPullRequestChanges(report), overviewTable(report.roles).join('\n')]
    .filter(Boolean)
    .join('\n\n')
}

/** One role's section of `markdownChunks`, with the blank line before it. */
export function markdownRoleSection(role: RoleResult, source: ReportV1['source']): string {
  return `\n\n${renderRole(role, source, FULL_DETAIL)}`
}

/** How much a role's section matters to a reviewer: a proposal with high-risk excess first. */
export function severity(role: RoleResult): number {
  if (role.status !== 'analyzed') return 0
  const high = highRiskCount(role.excess)
  return (role.proposed.length > 0 || role.proposalOutcome ? 1e9 : 0) + high * 1e4 + role.excess.count
}

function renderHead(report: ReportV1, options: Pick<MarkdownOptions, 'title' | 'marker'>): string {
  const { summary } = report
  const title = options.title ? `IAM least privilege: ${escapeText(options.title)}` : 'IAM least privilege'
  const counts = [
    `**${plural(summary.roles, 'role')}**`,
    `${summary.analyzed} analyzed`,
    ...(summary.failed > 0 ? [`${summary.failed} failed`] : []),
    ...notJudgedCount(report),
    summary.excess > 0 ? `**${plural(summary.excess, 'excess action')}**` : 'no excess',
    `usage from ${(report.sources ?? [report.source]).map(s => SOURCE_LABEL[s]).join(' + ')}`
  ]
  return [options.marker, `## ${title}`, '', counts.join(' · ')].filter(line => line !== undefined).join('\n')
}

function notJudgedCount(report: ReportV1): string[] {
  const count = report.roles.filter(r => r.status !== 'failed' && !isJudged(r)).length
  return count > 0 ? [`${count} not judged`] : []
}

/** The overview names this many high-risk actions per role at most. */
const OVERVIEW_HIGH_RISK = 3

function overviewTable(roles: RoleResult[], nameHighRisk = true): string[] {
  const rows = roles.map(role => {
    const { name, accountId } = roleName(role.arn)
    const judged = role.status === 'analyzed'
    const highCount = judged ? highRiskCount(role.excess) : 0
    const count = role.excess.count
    const excess = !judged ? '—' : count === 0 ? '0' : `**${count.toLocaleString('en-US')}**`
    const named = (nameHighRisk && highCount > 0 ? firstHighRisk(role.excess, OVERVIEW_HIGH_RISK) : []).map(
      e => code(e.action) + (e.risk ? ' ⚠️' : '')
    )
    const highRisk = !judged
      ? '—'
      : highCount === 0
        ? '0'
        : !nameHighRisk
          ? `**${highCount}**`
          : `**${highCount}**: ${named.join(', ')}${highCount > named.length ? ` +${highCount - named.length}` : ''}`
    const status =
      (role.waiting ? 'waiting for a later run' : STATUS_LABEL[role.status]) +
      (role.waiting && role.lastJudged ? ` · last judged on usage to ${role.lastJudged.slice(0, 10)}` : '') +
      (role.editable ? '' : ' · not editable')
    return row([
      code(name),
      accountId ?? '—',
      status,
      judged ? String(role.used.length) : '—',
      excess,
      highRisk,
      judged ? String(role.unobservable.count) : '—',
      proposalSize(role)
    ])
  })
  return [
    '| Role | Account | Status | Used | Excess | High-risk unused | Unobservable | Proposal |',
    '| --- | --- | --- | ---: | ---: | --- | ---: | --- |',
    ...rows
  ]
}

function proposalSize(role: RoleResult): string {
  if (role.proposalOutcome === 'detach-all') return 'detach all'
  if (role.proposalOutcome === 'withheld') return '**withheld**'
  if (role.proposed.length === 0) return '—'
  const characters = role.proposed.reduce((sum, p) => sum + p.characters, 0)
  return `${plural(role.proposed.length, 'policy', 'policies')}, ${characters.toLocaleString('en-US')} chars`
}

function omittedRow(count: number): string {
  return count > 0 ? `| … | ${plural(count, 'more role')} in the full report | | | | | | |` : ''
}

function shortenedNote(level: DetailLevel, rolesOmitted: number, hint: string | undefined): string {
  const dropped = [
    ...(level.lists === 'summary' ? ['long action lists are summarised by access level and service'] : []),
    ...(level.diff ? [] : ['diffs']),
    ...(level.extras ? [] : ['evidence details and checklists']),
    ...(level.proposal === 'compact' ? ['the indentation of the proposed policy'] : []),
    ...(level.proposal === 'named' ? ['the proposed policy (it is in the JSON report)'] : []),
    ...(rolesOmitted > 0 ? [`the sections of ${plural(rolesOmitted, 'less severe role')}`] : [])
  ]
  const [first, ...left] = dropped
  const text = [first, left.length > 0 ? `left out: ${left.join(', ')}` : ''].filter(Boolean).join('; ')
  const where =
    ' Every action is in the JSON report (the `report` output; upload it as an artifact to keep it)' +
    (hint ? `; the full report is in ${hintText(hint)}.` : '.')
  return `> [!NOTE]\n> Shortened to fit GitHub's size limit: ${text}.${where}`
}

function hintText(hint: string): string {
  return /^https:\/\/[^\s<>()]+$/.test(hint) ? `[${escapeText(hint)}](${hint})` : escapeText(hint)
}

function renderRole(role: RoleResult, source: ReportV1['source'], level: DetailLevel): string {
  const { name, accountId } = roleName(role.arn)
  const parts: string[] = [
    `### ${STATUS_LABEL[role.status].split(' ')[0]} ${escapeText(name)}${accountId ? ` (${accountId})` : ''}`,
    code(role.arn)
  ]
  // The verdict, the high-risk actions, the proposal and the diff come first: they are what a reviewer acts on.
  if (role.status !== 'analyzed') {
    const why = role.reason ? escapeText(role.reason.replace(/[.\s]+$/, '')) : 'no reason given'
    const what = role.waiting
      ? 'Waiting for a later run'
      : role.status === 'failed'
        ? 'Failed'
        : role.status === 'skipped'
          ? 'Skipped'
          : 'Not enough evidence'
    parts.push(`> [!WARNING]\n> **${what}:** ${why}. No removal is proposed for this role.`)
  }
  if (!role.editable) {
    const why = role.notEditableReason ? ` (${escapeText(role.notEditableReason)})` : ''
    parts.push(
      `> [!IMPORTANT]\n> This role cannot be edited${why}: nothing here can be applied to it directly.`
    )
  }
  if (role.status === 'analyzed') {
    const high = highRiskLine(role.excess)
    if (high) parts.push(high)
  }
  for (const policy of role.proposed) {
    const summary = `Proposed policy ${htmlCode(policy.name)} · ${policy.characters.toLocaleString('en-US')} characters`
    if (level.proposal === 'named') {
      const where = role.policyFile ? `; pull-request mode writes it to ${code(role.policyFile)}` : ''
      parts.push(
        `**Proposed policy ${code(policy.name)}** · ${policy.characters.toLocaleString('en-US')} characters: ` +
          `too large to show here; it is in the JSON report${where}.`
      )
    } else {
      const json = JSON.stringify(policy.document, null, level.proposal === 'indented' ? 2 : undefined)
      parts.push(details(summary, codeBlock(json, 'json')))
    }
  }
  if (level.diff && role.diff) {
    parts.push(details('Diff against the current policies', codeBlock(role.diff, 'diff')))
  }
  if (role.proposalNotes && role.proposalNotes.length > 0) {
    parts.push('**Proposal notes**\n' + role.proposalNotes.map(n => `- ${escapeText(n)}`).join('\n'))
  }
  if (role.awsRecommendation)
    parts.push(awsRecommendationSection(role.awsRecommendation, level.lists === 'full'))
  if (role.status === 'analyzed') {
    parts.push(
      level.lists === 'full'
        ? excessSection(excessActions(role.excess), role.editable, role.sources)
        : excessSummary(role.excess, role.editable)
    )
  }
  if (role.used.length > 0) {
    parts.push(
      level.lists === 'full'
        ? details(
            `Used: ${plural(role.used.length, 'action')} observed in the window`,
            codeBlock(usedLines(role).join('\n'))
          )
        : `**Used:** ${plural(role.used.length, 'action')} in ${plural(new Set(role.used.map(serviceOf)).size, 'service')}`
    )
  }
  if (role.unobservable.count > 0) {
    parts.push(unobservableSection(role.unobservable, level.lists === 'full'))
  }
  if (role.conditional.count > 0) {
    parts.push(conditionalSection(role.conditional, level.lists === 'full'))
  }
  if (role.unknownActions && role.unknownActions.length > 0) {
    parts.push(
      `**Actions the catalog does not know: ${role.unknownActions.length}** (kept, never judged)\n` +
        (level.lists === 'full' ? role.unknownActions.map(a => `- ${code(a)}`).join('\n') : '')
    )
  }
  if (level.extras && (role.status === 'analyzed' || role.evidence)) parts.push(evidenceSection(role))
  const checks = checksSection(role)
  if (checks && level.extras) parts.push(checks)
  const review = level.extras ? reviewerChecks(role, source) : []
  if (review.length > 0) {
    parts.push('**What the reviewer should check**\n' + review.map(item => `- [ ] ${item}`).join('\n'))
  }
  return parts.map(part => part.trimEnd()).join('\n\n')
}

/** A role section names this many high-risk actions at most; the excess table and the JSON report have all. */
const SECTION_HIGH_RISK = 30

function highRiskLine(excess: RoleExcess): string | undefined {
  const count = highRiskCount(excess)
  if (count === 0) return undefined
  const named = firstHighRisk(excess, SECTION_HIGH_RISK).map(e => code(e.action) + (e.risk ? ' ⚠️' : ''))
  const more = count > named.length ? ` … and ${(count - named.length).toLocaleString('en-US')} more` : ''
  return `**High-risk unused access: ${plural(count, 'action')}** (Permissions management, Write; ⚠️ privilege escalation): ${named.join(', ')}${more}`
}

/** The excess counted by access level and service: bounded whatever the role is granted. */
function excessSummary(excess: RoleExcess, editable: boolean): string {
  if (excess.count === 0) return '**No excess:** every granted, observable action was used in the window.'
  const rows = ACCESS_LEVELS.flatMap(level => {
    const groups = excess.groups.filter(g => g.accessLevel === level)
    if (groups.length === 0) return []
    const byService = new Map<string, number>()
    for (const g of groups) byService.set(g.service, (byService.get(g.service) ?? 0) + g.count)
    const total = groups.reduce((sum, g) => sum + g.count, 0)
    const top = [...byService.entries()].sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
    const shown = top.slice(0, SUMMARY_SERVICES).map(([service, count]) => `${code(service)} ${count}`)
    const more =
      top.length > shown.length ? ` … and ${plural(top.length - shown.length, 'more service')}` : ''
    return [row([level, total.toLocaleString('en-US'), String(byService.size), shown.join(', ') + more])]
  })
  return [
    `**Excess: ${plural(excess.count, 'action')}** granted, observable and not used in the window ` +
      (editable ? '(removed in the proposal)' : '(no proposal: the role is not editable)'),
    '',
    '| Access level | Actions | Services | Most actions in |',
    '| --- | ---: | ---: | --- |',
    ...rows
  ].join('\n')
}

/** A summary row names the services with the most excess actions, this many at most. */
const SUMMARY_SERVICES = 6

/**
 * Unobservable actions grouped by reason: many actions share one (a whole service, every data event). A reason
 * with few actions names them, one with many counts them per service: the JSON report lists every action.
 */
function unobservableSection(unobservable: RoleUnobservable, full: boolean): string {
  const byReason = new Map<string, UnobservableGroup[]>()
  for (const g of unobservable.groups) {
    const groups = byReason.get(g.reason)
    if (groups) groups.push(g)
    else byReason.set(g.reason, [g])
  }
  const lines = [...byReason.entries()]
    .sort((a, b) => compare(a[0], b[0]))
    .map(([reason, groups]) => {
      const count = groups.reduce((sum, g) => sum + g.count, 0)
      if (!full) return `- ${escapeText(reason)}: ${plural(count, 'action')}`
      return `- ${escapeText(reason)}: ${groupsLine(groups)}`
    })
  const heading =
    `**Unobservable: ${plural(unobservable.count, 'action')}** ` +
    '(kept in the proposal: the source cannot show whether they were used)'
  return [heading, ...lines].join('\n')
}

/** Conditionally granted actions per service, access level and granting statements. */
function conditionalSection(conditional: RoleConditional, full: boolean): string {
  const heading = `**Conditional grants: ${conditional.count}** (kept with their conditions)`
  if (!full) return heading
  const lines = conditional.groups.map(
    g => `- ${groupsLine([g])} (${g.accessLevel}), granted by ${grantedBy(g.grantedBy)}`
  )
  return [heading, ...shortenedLines(lines, SECTION_GROUPS)].join('\n')
}

/** A section lists this many groups at most; the JSON report has them all. */
const SECTION_GROUPS = 40

function shortenedLines(lines: string[], max: number): string[] {
  if (lines.length <= max) return lines
  return [...lines.slice(0, max), `- … and ${plural(lines.length - max, 'more group')} (in the JSON report)`]
}

/** The groups' actions when they are few, else their count per service (`ec2` 412, all Write actions). */
function groupsLine(groups: readonly ActionGroup[]): string {
  const count = groups.reduce((sum, g) => sum + g.count, 0)
  if (count <= ROW_ACTIONS)
    return groups
      .flatMap(g => groupActions(g))
      .sort(compare)
      .map(code)
      .join(', ')
  const byService = new Map<string, number>()
  for (const g of groups) byService.set(g.service, (byService.get(g.service) ?? 0) + g.count)
  const services = [...byService.entries()]
    .sort((a, b) => b[1] - a[1] || compare(a[0], b[0]))
    .map(([service, n]) => `${code(service)} ${n.toLocaleString('en-US')}`)
  return `${plural(count, 'action')} (${shortList(services, ROW_ACTIONS, ROW_ACTIONS_SHOWN)})`
}

/** A table row lists this many actions at most; longer groups show the first ones and the full list follows. */
const ROW_ACTIONS = 12
const ROW_ACTIONS_SHOWN = 8

/** A used action with its count, first and last seen and sources, where the sources tell. */
function usedLines(role: RoleResult): string[] {
  const evidence = new Map((role.usedEvidence ?? []).map(e => [e.action, e]))
  const width = Math.max(0, ...role.used.map(a => a.length))
  return role.used.map(action => {
    const e = evidence.get(action)
    if (!e || (e.count === undefined && !e.lastSeen && (role.sources?.length ?? 0) < 2)) return action
    const facts = [
      ...(e.count !== undefined ? [plural(e.count, 'call')] : []),
      ...(e.firstSeen ? [`first ${e.firstSeen.slice(0, 10)}`] : []),
      ...(e.lastSeen ? [`last used ${e.lastSeen.slice(0, 10)}`] : []),
      `(${e.sources.join(', ')})`
    ]
    return `${action.padEnd(width)}  ${facts.join(', ').replace(', (', ' (')}`
  })
}

function excessSection(excess: ExcessAction[], editable: boolean, sources?: SourceEvidence[]): string {
  if (excess.length === 0) return '**No excess:** every granted, observable action was used in the window.'
  const groups = new Map<string, ExcessAction[]>()
  for (const item of [...excess].sort(byRiskThenAction)) {
    const key = `${serviceOf(item.action)}\u0000${item.accessLevel}`
    const group = groups.get(key)
    if (group) group.push(item)
    else groups.set(key, [item])
  }
  const rows = [...groups.values()]
    .sort((a, b) => {
      const [first, second] = [a[0] as ExcessAction, b[0] as ExcessAction]
      return (
        compare(serviceOf(first.action), serviceOf(second.action)) ||
        accessLevelRank(first.accessLevel) - accessLevelRank(second.accessLevel)
      )
    })
    .map(items => {
      const first = items[0] as ExcessAction
      const names = items
        .map(i => code(i.action) + (i.risk === 'privilege-escalation' ? ' ⚠️' : ''))
        .sort(compare)
      const actions = shortList(names, ROW_ACTIONS, ROW_ACTIONS_SHOWN)
      const granted = grantedBy([...new Set(items.flatMap(i => i.grantedBy))])
      const cells = [code(serviceOf(first.action)), first.accessLevel, actions, granted]
      return row(sources ? [...cells, escapeText(serviceEvidence(serviceOf(first.action), sources))] : cells)
    })
  const escalation = excess.filter(e => e.risk === 'privilege-escalation').map(e => code(e.action))
  const lines = [
    `**Excess: ${plural(excess.length, 'action')}** granted, observable and not used in the window ` +
      (editable ? '(removed in the proposal)' : '(no proposal: the role is not editable)'),
    '',
    ...(sources
      ? ['| Service | Access level | Actions | Granted by | Last used |', '| --- | --- | --- | --- | --- |']
      : ['| Service | Access level | Actions | Granted by |', '| --- | --- | --- | --- |']),
    ...rows
  ]
  if (escalation.length > 0) {
    lines.push(
      '',
      `⚠️ **Privilege escalation paths granted and unused:** ${escalation.sort(compare).join(', ')}`
    )
  }
  if ([...groups.values()].some(items => items.length > ROW_ACTIONS)) {
    const all = [...excess].map(e => e.action).sort(compare)
    lines.push('', details(`All ${plural(all.length, 'excess action')}`, codeBlock(all.join('\n'))))
  }
  // Per-action evidence differs from the service's only where a source tracks single actions (access advisor).
  if (sources?.some(s => s.lastAccess)) {
    const all = [...excess].map(e => e.action).sort(compare)
    const width = Math.max(0, ...all.map(a => a.length))
    const evidence = all.map(a => `${a.padEnd(width)}  ${excessEvidence(a, sources).evidence}`)
    lines.push('', details('Last used, per excess action', codeBlock(evidence.join('\n'))))
  }
  return lines.join('\n')
}

function evidenceSection(role: RoleResult): string {
  const e: UsageEvidence | undefined = role.evidence
  const items = [
    role.window.start
      ? `window ${escapeText(role.window.start)} → ${escapeText(role.window.end)} (${days(role.window)})`
      : 'no record in the window',
    role.complete ? 'the source reports complete data' : '**the source reports incomplete data**'
  ]
  if (e?.jobId) items.push(`Access Analyzer job ${code(e.jobId)}`)
  if (e?.filesRead !== undefined) items.push(`${plural(e.filesRead, 'log file')} read`)
  if (e?.filesSkipped && e.filesSkipped.length > 0) {
    items.push(`**${plural(e.filesSkipped.length, 'log file')} skipped**`)
  }
  if (e?.eventsMatched !== undefined) items.push(`${plural(e.eventsMatched, 'event')} attributed to the role`)
  if (e?.deniedCalls) items.push(`${plural(e.deniedCalls, 'denied call')} (not usage)`)
  if (e?.permissionlessCalls)
    items.push(`${plural(e.permissionlessCalls, 'call')} that need no permission (not usage)`)
  if (e?.unmapped && e.unmapped.length > 0) {
    const total = e.unmapped.reduce((sum, u) => sum + u.count, 0)
    items.push(`**${plural(total, 'event')} not mapped to an action**`)
  }
  if (e?.dataEventsSeen && e.dataEventsSeen.length > 0) {
    items.push(`data events seen for ${e.dataEventsSeen.map(code).join(', ')}`)
  }
  if (e?.trailLogging) items.push(escapeText(describeTrailLogging(e.trailLogging)))
  else if (e?.managementEventsSeen)
    items.push('what the trail logs is judged from the records (no trail-arn)')
  const lines = [`**Evidence:** ${items.join(' · ')}`]
  if (role.judgedBy) lines.push(`- judged by ${escapeText(role.judgedBy)}`)
  if (role.sources && role.sources.length > 1)
    for (const s of role.sources) lines.push(`- ${escapeText(describeSource(s))}`)
  for (const note of e?.notes ?? []) lines.push(`- ${escapeText(note)}`)
  const extra: string[] = []
  if (e?.filesSkipped && e.filesSkipped.length > 0) {
    extra.push(
      '| Skipped file | Reason |\n| --- | --- |\n' +
        e.filesSkipped.map(f => row([escapeText(f.file), escapeText(f.reason)])).join('\n')
    )
  }
  if (e?.unmapped && e.unmapped.length > 0) {
    extra.push(
      '| Event source | Event name | Count |\n| --- | --- | ---: |\n' +
        e.unmapped.map(u => row([code(u.eventSource), code(u.eventName), String(u.count)])).join('\n')
    )
  }
  if (extra.length > 0) lines.push('', details('Skipped files and unmapped events', extra.join('\n\n')))
  return lines.join('\n')
}

/** One source of a merged verdict: its window, completeness, and whether it could judge. */
function describeSource(s: SourceEvidence): string {
  const window = s.window.start
    ? `${s.window.start} → ${s.window.end} (${windowSpan(s.window)})`
    : 'no window'
  const judged = s.judged ? 'judged' : `could not judge: ${s.reason ?? 'insufficient evidence'}`
  return `source ${s.source}: ${window}, ${s.complete ? 'complete' : 'incomplete'}, ${judged}`
}

function checksSection(role: RoleResult): string | undefined {
  const checks = role.checks
  if (!checks) return undefined
  const items = [
    `ValidatePolicy: ${checks.checkNoNewAccess === 'SKIPPED' && checks.validatePolicy.length === 0 ? 'SKIPPED' : checks.validatePolicy.length === 0 ? 'no findings' : `**${plural(checks.validatePolicy.length, 'finding')}**`}`,
    `CheckNoNewAccess: ${checks.checkNoNewAccess === 'FAIL' ? '**FAIL**' : checks.checkNoNewAccess}`,
    ...(checks.evaluator ? [`own evaluator: ${checks.evaluator === 'FAIL' ? '**FAIL**' : 'PASS'}`] : [])
  ]
  const findings = checks.validatePolicy.map(
    f => `- ${escapeText(f.findingType)} ${code(f.issueCode)} in ${code(f.policy)}: ${escapeText(f.details)}`
  )
  return [`**Checks:** ${items.join(' · ')}`, ...findings].join('\n')
}

function reviewerChecks(role: RoleResult, source: ReportV1['source']): string[] {
  const checks: string[] = []
  if (role.status === 'skipped' && !role.editable) {
    checks.push('Nothing to do here: this role cannot be changed in IAM; review what grants it instead.')
    return checks
  }
  if (role.status !== 'analyzed') {
    checks.push('This role was not judged: fix the cause above and run again before trusting it.')
    return checks
  }
  if (!role.editable)
    checks.push('The role is not editable: apply nothing to it; change what grants it instead.')
  if (role.unobservable.count > 0) {
    checks.push(`Decide whether each unobservable action is still needed (${role.unobservable.count}).`)
  }
  if (role.conditional.count > 0) {
    checks.push('Conditional grants are kept with their conditions: check the conditions still fit.')
  }
  if (source === 'access-analyzer') {
    checks.push(
      'Access Analyzer counts denied calls as usage: some actions kept as used may never have succeeded.'
    )
  }
  if (!role.complete)
    checks.push('The source reported incomplete data: actions may be missing from the used list.')
  if (role.evidence?.unmapped && role.evidence.unmapped.length > 0) {
    checks.push(
      'Some events did not map to an action: check none of them needs an action proposed for removal.'
    )
  }
  if (role.evidence?.filesSkipped && role.evidence.filesSkipped.length > 0) {
    checks.push('Some log files were skipped: usage recorded in them is unknown.')
  }
  if (role.checks?.checkNoNewAccess === 'FAIL' || role.checks?.evaluator === 'FAIL') {
    checks.push(
      '**A check failed: the proposal may grant access the role does not have today. Do not apply it.**'
    )
  } else if (role.checks?.checkNoNewAccess === 'SKIPPED') {
    checks.push(
      role.checks.evaluator === 'PASS'
        ? 'CheckNoNewAccess was skipped: only our own evaluator proved the proposal grants nothing new.'
        : 'CheckNoNewAccess was skipped: Access Analyzer did not check this proposal.'
    )
  }
  if (role.checks && role.checks.validatePolicy.length > 0)
    checks.push('Read the ValidatePolicy findings above.')
  return checks
}

function grantedBy(sources: string[]): string {
  return sources.length === 0 ? '—' : [...sources].sort(compare).map(code).join(', ')
}

function details(summaryHtml: string, body: string): string {
  return `<details><summary>${summaryHtml}</summary>\n\n${body}\n\n</details>`
}

function row(cells: string[]): string {
  return `| ${cells.join(' | ')} |`
}

function join(blocks: (string | undefined)[]): string {
  return blocks.filter((b): b is string => b !== undefined && b !== '').join('\n\n') + '\n'
}

function days(window: { start: string; end: string }): string {
  const ms = Date.parse(window.end) - Date.parse(window.start)
  if (!Number.isFinite(ms)) return 'unknown length'
  return plural(Math.round((ms / DAY_MS) * 10) / 10, 'day')
}

function utf8Length(text: string): number {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit < 0x80) bytes += 1
    else if (unit < 0x800) bytes += 2
    else if (unit >= 0xd800 && unit <= 0xdbff) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}

function truncate(text: string, max: number, measure: (text: string) => number): string {
  let end = Math.min(text.length, max)
  while (end > 0 && measure(text.slice(0, end)) > max) end = Math.floor(end * 0.9)
  const cut = text.slice(0, end)
  const last = cut.charCodeAt(cut.length - 1)
  return last >= 0xd800 && last <= 0xdbff ? cut.slice(0, -1) : cut
}
