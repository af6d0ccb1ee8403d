import { deflateRawSync } from 'node:zlib'
import { compare } from '../model.js'
import type { AccessLevel, ExcessAction, ReportV1, RoleResult } from '../model.js'
import { serviceEvidence } from '../policy/action-evidence.js'
import { excessActions } from '../policy/excess.js'
import { byRiskThenAction, isHighRisk, isJudged, plural, roleName } from './role-facts.js'

/** The subset of SARIF 2.1.0 we emit. */
export interface SarifLog {
  $schema: string
  version: '2.1.0'
  runs: SarifRun[]
}

interface SarifRun {
  tool: { driver: { name: string; version?: string; informationUri: string; rules: SarifRule[] } }
  automationDetails: { id: string }
  results: SarifResult[]
  invocations: {
    executionSuccessful: boolean
    toolExecutionNotifications: { level: 'error' | 'warning' | 'note'; message: { text: string } }[]
  }[]
  /** What was left out to stay within code scanning's limits, when anything was. */
  properties?: { cut: string[] }
}

interface SarifRule {
  id: string
  name: string
  shortDescription: { text: string }
  fullDescription: { text: string }
  help: { text: string; markdown: string }
  defaultConfiguration: { level: SarifLevel }
  properties: { tags: string[]; precision: string; 'security-severity': string }
}

type SarifLevel = 'error' | 'warning' | 'note'

/** What a result carries for tools that read it: the JSON report's fields for the role and this finding. */
interface SarifResultProperties {
  roleArn: string
  status: RoleResult['status']
  window: RoleResult['window']
  complete: boolean
  editable: boolean
  proposalOutcome?: RoleResult['proposalOutcome']
  policyFile?: string
  /** How many actions this result covers. */
  actionCount: number
  /** The actions by access level; left out (with `actionsOmitted`) when the file would exceed GitHub's size limit. */
  actions?: Partial<Record<AccessLevel, string[]>>
  /** Left out, with the granting statements, in a brief result (see `actionsOmitted`). */
  privilegeEscalation?: string[]
  grantedBy?: string[]
  actionsOmitted?: string
}

interface SarifResult {
  ruleId: string
  ruleIndex: number
  level: SarifLevel
  message: { text: string }
  locations: SarifLocation[]
  partialFingerprints: Record<string, string>
  properties: SarifResultProperties
}

interface SarifLocation {
  physicalLocation: {
    artifactLocation: { uri: string }
    region?: { startLine: number; endLine?: number }
  }
  logicalLocations?: { name: string; fullyQualifiedName: string; kind: string }[]
}

/**
 * GitHub code scanning's documented ingestion limits (hard limits: a file over them is rejected). The size limit
 * applies to the gzip-compressed upload (every upload path compresses the file).
 */
export const CODE_SCANNING_LIMITS = {
  runsPerFile: 20,
  resultsPerRun: 25_000,
  rulesPerRun: 25_000,
  locationsPerResult: 1_000,
  tagsPerRule: 20,
  fileBytes: 10 * 1024 * 1024
} as const

/**
 * What the compressed file may take of the size limit: each result is measured compressed at the fastest level
 * with the text before it as the dictionary (what one stream of the whole file can refer back to), which takes
 * more than one gzip stream of the whole file at the default level; the margin covers the rest.
 */
const SIZE_BUDGET = 0.8
/** How far back a deflate stream refers. */
const WINDOW_BYTES = 32 * 1024

/** Measures pieces of one text in order, compressed as a stream of them would take. */
class CompressedSize {
  private previous = Buffer.alloc(0)
  total = 0

  /** What `text` takes after the pieces measured so far; `keep` makes it part of the stream. */
  measure(text: string, keep = true): number {
    const bytes = Buffer.from(text)
    const size = deflateRawSync(bytes, {
      level: 1,
      ...(this.previous.length > 0 ? { dictionary: this.previous } : {})
    }).length
    if (keep) {
      this.total += size
      const tail = bytes.length >= WINDOW_BYTES ? bytes : Buffer.concat([this.previous, bytes])
      this.previous = tail.subarray(Math.max(0, tail.length - WINDOW_BYTES))
    }
    return size
  }
}

/** A message names at most this many actions; the rest are counted (and listed in `properties`). */
const MESSAGE_ACTIONS = 40

export const HIGH_RISK_RULE_ID = 'iam-least-privilege/unused-high-risk-access'
export const EXCESS_RULE_ID = 'iam-least-privilege/unused-access'
/** Reserved for access a pull request adds to a policy file; results come from the pull-request gate. */
export const ADDED_BY_PULL_REQUEST_RULE_ID = 'iam-least-privilege/access-added-by-pull-request'

interface RuleSpec {
  id: string
  name: string
  level: SarifLevel
  severity: string
  short: string
  full: string
  help: string
}

const UNUSED_HELP =
  'Granted permissions a role never uses widen what an attacker holding its credentials can do. Review the ' +
  'proposed policy (pull-request mode writes it to the policy file; the JSON report and the uploaded report ' +
  'artifact list every action). Keep an action the role needs rarely by widening the observation window or ' +
  'with a statement whose Sid starts with the keep prefix.'

const RULE_SPECS: RuleSpec[] = [
  {
    id: HIGH_RISK_RULE_ID,
    name: 'UnusedHighRiskAccess',
    level: 'error',
    severity: '8.0',
    short: 'Unused high-risk access: Permissions management, Write or privilege-escalation actions',
    full:
      'The role is granted Permissions management or Write actions (or actions known to allow privilege ' +
      'escalation) that it did not use in the observation window.',
    help: UNUSED_HELP
  },
  {
    id: EXCESS_RULE_ID,
    name: 'UnusedAccess',
    level: 'warning',
    severity: '4.0',
    short: 'Unused access: Read, List or Tagging actions',
    full: 'The role is granted Read, List or Tagging actions that it did not use in the observation window.',
    help: UNUSED_HELP
  },
  {
    id: ADDED_BY_PULL_REQUEST_RULE_ID,
    name: 'AccessAddedByPullRequest',
    level: 'error',
    severity: '8.0',
    short: 'Access added by the pull request and not used',
    full: 'The pull request grants the role actions its current policy does not grant and it did not use.',
    help:
      'The pull request widens what the role may do beyond what it was seen using. Remove the added ' +
      'actions, or explain in the pull request why the role will need them.'
  }
]

export interface SarifOptions {
  toolVersion?: string
  /** Policy files of the repository (path -> text), to point results at the statements that grant them. */
  sources?: ReadonlyMap<string, string>
  /** GITHUB_WORKFLOW_REF (`owner/repo/.github/workflows/file.yml@ref`): the location of last resort. */
  workflowRef?: string
  /** Lower limits than code scanning's (to show what is cut without thousands of roles). */
  limits?: { fileBytes?: number; resultsPerRun?: number }
}

/**
 * SARIF 2.1.0 that GitHub code scanning accepts: one result per role and finding class (unused high-risk access,
 * other unused access), naming the actions in the message and carrying the report's fields in `properties`.
 * Every result has a physical location: the role's policy file (and the statement's lines when the file is in
 * the repository and the statement has a Sid), else the workflow file. Rule ids, fingerprints and the
 * automation id never change between runs, so code scanning tracks each finding across runs. The file stays
 * within GitHub's ingestion limits: the per-action lists in `properties` are the first thing dropped.
 */
export function renderSarif(report: ReportV1, options: SarifOptions = {}): SarifLog {
  const plan = planResults(report, options)
  const log = sarifFrame(report, options, plan)
  const run = log.runs[0]
  if (run) run.results = [...plannedResults(report, options, plan)]
  return log
}

/**
 * The same file as `serializeSarif(renderSarif(...))`, in pieces: one result at a time, so thousands of roles
 * never make one string (their per-action lists exist one role at a time).
 */
export function* sarifChunks(report: ReportV1, options: SarifOptions = {}): Generator<string> {
  const plan = planResults(report, options)
  const frame = sarifFrame(report, options, plan)
  const run = frame.runs[0]
  if (!run || plan.kept === 0) {
    yield serializeSarif(frame)
    return
  }
  run.results = [RESULTS_SLOT as unknown as SarifResult]
  const text = serializeSarif(frame)
  const slot = `${RESULT_INDENT}${JSON.stringify(RESULTS_SLOT)}`
  const at = text.indexOf(slot)
  yield text.slice(0, at)
  let index = 0
  for (const result of plannedResults(report, options, plan)) {
    const json = JSON.stringify(result, null, 2).replace(/\n/g, `\n${RESULT_INDENT}`)
    yield `${index++ > 0 ? ',\n' : ''}${RESULT_INDENT}${json}`
  }
  yield text.slice(at + slot.length)
}

const RESULTS_SLOT = '\u0000results'
/** Where a result sits in the indented file: root > runs > run > results. */
const RESULT_INDENT = ' '.repeat(8)

/**
 * Which results are written, which of them leave their per-action lists out, and whether every result is brief
 * (a count and the role, no action named), to fit the size limit.
 */
interface ResultPlan {
  total: number
  kept: number
  withoutActions: Set<string>
  brief: boolean
  /** What was cut, said in the run's properties. */
  cut: string[]
}

const resultKey = (role: RoleResult, spec: RuleSpec) => `${role.arn}|${spec.id}`

/** Roles with findings, high-risk results first (should the per-run limit cut), then the other unused access. */
function* allResults(
  report: ReportV1,
  options: SarifOptions,
  brief = false
): Generator<[RoleResult, SarifResult]> {
  const withExcess = report.roles.filter(role => role.status === 'analyzed' && role.excess.count > 0)
  for (const spec of [RULE_SPECS[0], RULE_SPECS[1]]) {
    if (!spec) continue
    for (const role of withExcess) {
      const excess = excessActions(role.excess).filter(e => isHighRisk(e) === (spec.id === HIGH_RISK_RULE_ID))
      if (excess.length > 0) yield [role, resultOf(role, excess, spec, options, brief)]
    }
  }
}

/**
 * Measures every result compressed, with and without its per-action lists and brief, and cuts detail until the
 * file fits the size budget: first the lists of the largest results, then every result becomes brief; results
 * themselves go only past the per-run limit or when even brief ones cannot fit, the other unused access first
 * (the high-risk results are the ones a gate fails on).
 */
function planResults(report: ReportV1, options: SarifOptions): ResultPlan {
  const maxResults = options.limits?.resultsPerRun ?? CODE_SCANNING_LIMITS.resultsPerRun
  const fileBytes = options.limits?.fileBytes ?? CODE_SCANNING_LIMITS.fileBytes
  const budget = Math.floor(fileBytes * SIZE_BUDGET)
  const measured: { key: string; actionCount: number; full: number; without: number }[] = []
  const frameText = serializeSarif(sarifFrame(report, options, undefined))
  const stream = new CompressedSize()
  const frame = stream.measure(frameText)
  let total = 0
  for (const [role, result] of allResults(report, options)) {
    total++
    if (total > maxResults) continue
    const { actions, ...rest } = result.properties
    const without = actions
      ? stream.measure(
          JSON.stringify({ ...result, properties: { ...rest, actionsOmitted: ACTIONS_OMITTED } }, null, 2),
          false
        )
      : undefined
    const full = stream.measure(JSON.stringify(result, null, 2))
    measured.push({
      key: resultKey(role, RULE_SPECS[result.ruleIndex] as RuleSpec),
      actionCount: result.properties.actionCount,
      full,
      without: without ?? full
    })
  }
  const kept = Math.min(total, maxResults)
  const perRun: string[] = []
  if (total > kept)
    perRun.push(
      `${plural(total - kept, 'result')} past ${maxResults} results per run (the other unused access first)`
    )
  let size = frame + measured.reduce((sum, m) => sum + m.full, 0)
  const withoutActions = new Set<string>()
  for (const entry of [...measured].sort((a, b) => b.actionCount - a.actionCount)) {
    if (size <= budget) break
    if (entry.without === entry.full) continue
    withoutActions.add(entry.key)
    size -= entry.full - entry.without
  }
  const lists =
    withoutActions.size > 0
      ? [`the per-action lists of ${plural(withoutActions.size, 'result')}, to fit the file size limit`]
      : []
  if (size <= budget) return { total, kept, withoutActions, brief: false, cut: [...perRun, ...lists] }

  // Brief results: the role, the count and the proposal; the sizes of those that fit decide how many stay.
  const briefStream = new CompressedSize()
  briefStream.measure(frameText)
  let fitting = 0
  for (const [, result] of allResults(report, options, true)) {
    if (fitting >= kept) break
    briefStream.measure(JSON.stringify(result, null, 2))
    if (briefStream.total > budget) break
    fitting++
  }
  const briefCut = [`the action names and lists of every result (${BRIEF_OMITTED})`]
  if (fitting < kept)
    briefCut.push(
      `${plural(kept - fitting, 'result')} that did not fit the file size limit even brief (the other unused access first)`
    )
  return { total, kept: fitting, withoutActions: new Set(), brief: true, cut: [...perRun, ...briefCut] }
}

const ACTIONS_OMITTED =
  "left out to stay within code scanning's file size limit; the JSON report lists every action"

const BRIEF_OMITTED = "left out to stay within code scanning's file size limit; the JSON report has them all"

function* plannedResults(report: ReportV1, options: SarifOptions, plan: ResultPlan): Generator<SarifResult> {
  let count = 0
  for (const [role, result] of allResults(report, options, plan.brief)) {
    if (count++ >= plan.kept) return
    if (plan.withoutActions.has(resultKey(role, RULE_SPECS[result.ruleIndex] as RuleSpec))) {
      delete result.properties.actions
      result.properties.actionsOmitted = ACTIONS_OMITTED
    }
    yield result
  }
}

/** The log with everything but its results. */
function sarifFrame(report: ReportV1, options: SarifOptions, plan: ResultPlan | undefined): SarifLog {
  const notifications: SarifRun['invocations'][number]['toolExecutionNotifications'] = report.roles
    .filter(role => role.status !== 'analyzed')
    .map(role => ({
      level: role.status === 'failed' ? 'error' : isJudged(role) ? 'note' : 'warning',
      message: {
        text: isJudged(role)
          ? `${role.arn} was skipped${role.reason ? `: ${role.reason}` : ''}`
          : `${role.arn} was not judged (${role.status})${role.reason ? `: ${role.reason}` : ''}`
      }
    }))
  if (plan && plan.total > plan.kept) {
    notifications.push({
      level: 'warning',
      message: {
        text: `${plural(plan.total - plan.kept, 'result')} were left out to stay within code scanning's limits (results per run, compressed file size); the JSON report has them all`
      }
    })
  }
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'iam-least-privilege',
            ...(options.toolVersion ? { version: options.toolVersion } : {}),
            informationUri:
              'https://docs.aws.amazon.com/IAM/latest/UserGuide/best-practices.html#grant-least-privilege',
            rules: RULE_SPECS.map(ruleOf)
          }
        },
        automationDetails: { id: automationId(report) },
        results: [],
        invocations: [
          {
            executionSuccessful: report.roles.every(role => role.status !== 'failed'),
            toolExecutionNotifications: notifications
          }
        ],
        ...(plan && plan.cut.length > 0 ? { properties: { cut: plan.cut } } : {})
      }
    ]
  }
}

/**
 * The code scanning category: one per source and set of accounts. An upload replaces every alert of its category,
 * and upload-sarif takes the category from this id when the file has one (its `category` input is then ignored),
 * so jobs that analyze different accounts (a matrix) need different ids. Derived from every selected role, not
 * from the findings, so it stays the same across runs.
 */
function automationId(report: ReportV1): string {
  const accounts = [...new Set(report.roles.flatMap(role => roleName(role.arn).accountId ?? []))].sort(
    compare
  )
  return `iam-least-privilege/${report.source}/${accounts.length > 0 ? `${accounts.join('+')}/` : ''}`
}

/** The file is written indented by two spaces: sizes are measured the same way. */
export function serializeSarif(log: SarifLog): string {
  return `${JSON.stringify(log, null, 2)}\n`
}

function ruleOf(spec: RuleSpec): SarifRule {
  return {
    id: spec.id,
    name: spec.name,
    shortDescription: { text: spec.short },
    fullDescription: { text: spec.full },
    help: { text: spec.help, markdown: spec.help },
    defaultConfiguration: { level: spec.level },
    properties: {
      tags: ['security', 'iam', 'least-privilege'],
      precision: 'high',
      'security-severity': spec.severity
    }
  }
}

function resultOf(
  role: RoleResult,
  excess: ExcessAction[],
  spec: RuleSpec,
  options: SarifOptions,
  brief: boolean
): SarifResult {
  const sorted = [...excess].sort(byRiskThenAction)
  const { name } = roleName(role.arn)
  const escalation = sorted.filter(e => e.risk === 'privilege-escalation').map(e => e.action)
  const named = sorted.slice(0, MESSAGE_ACTIONS).map(e => e.action)
  const more = sorted.length - named.length
  const proposal =
    role.proposalOutcome === 'proposed' && role.policyFile
      ? ` The proposed policy for ${role.policyFile} removes them.`
      : role.proposalOutcome === 'detach-all'
        ? ' The role uses none of its granted actions: detach its policies.'
        : role.proposalOutcome === 'withheld'
          ? ' No proposal: it was withheld (see the report).'
          : ''
  // The last use of each service of the excess, per source that judged it (bounded by the granted services).
  const services = [...new Set(sorted.map(e => e.action.split(':')[0] ?? ''))]
  const sources = role.sources
  const lastUsed = sources ? services.map(s => [s, serviceEvidence(s, sources)] as const) : []
  const lastUsedText =
    lastUsed.length > 0
      ? ` Last used: ${lastUsed
          .slice(0, MESSAGE_ACTIONS)
          .map(([service, evidence]) => `${service} ${evidence}`)
          .join('; ')}${lastUsed.length > MESSAGE_ACTIONS ? '; ...' : ''}.`
      : ''
  const granted =
    `Role ${name} is granted ${sorted.length} ${spec.id === HIGH_RISK_RULE_ID ? 'high-risk ' : ''}action${sorted.length === 1 ? '' : 's'} ` +
    `it did not use between ${role.window.start} and ${role.window.end}`
  const text = brief
    ? `${granted} (${escalation.length > 0 ? `${escalation.length} of them privilege escalation; ` : ''}all in the JSON report).${proposal}`
    : `${granted}: ${named.join(', ')}` +
      (more > 0 ? ` and ${more} more (all in the JSON report)` : '') +
      '.' +
      (escalation.length > 0 ? ` Privilege escalation: ${escalation.join(', ')}.` : '') +
      lastUsedText +
      proposal
  const actions: Partial<Record<AccessLevel, string[]>> = {}
  for (const e of sorted) (actions[e.accessLevel] ??= []).push(e.action)
  for (const list of Object.values(actions)) list.sort(compare)
  // The actions granted by the same statements share one array: each distinct array is read once.
  const grantedBy = [...new Set([...new Set(sorted.map(e => e.grantedBy))].flat())].sort(compare)
  return {
    ruleId: spec.id,
    ruleIndex: RULE_SPECS.indexOf(spec),
    level: spec.level,
    message: { text },
    locations: [locationOf(role, grantedBy, options)],
    partialFingerprints: { 'iamLeastPrivilege/v2': `${role.arn}|${spec.id}` },
    properties: {
      roleArn: role.arn,
      status: role.status,
      window: role.window,
      complete: role.complete,
      editable: role.editable,
      ...(role.proposalOutcome ? { proposalOutcome: role.proposalOutcome } : {}),
      ...(role.policyFile ? { policyFile: role.policyFile } : {}),
      actionCount: sorted.length,
      ...(brief
        ? { actionsOmitted: BRIEF_OMITTED }
        : { actions, privilegeEscalation: escalation, grantedBy }),
      ...(!brief && lastUsed.length > 0 ? { lastUsed: Object.fromEntries(lastUsed) } : {})
    }
  }
}

function locationOf(role: RoleResult, grantedBy: string[], options: SarifOptions): SarifLocation {
  const logical = [{ name: roleName(role.arn).name, fullyQualifiedName: role.arn, kind: 'resource' }]
  const file = role.policyFile === undefined ? undefined : relativeUri(role.policyFile)
  if (file && role.policyFileInRepository) {
    const text = options.sources?.get(role.policyFile as string)
    const region = text === undefined ? undefined : statementLines(text, grantedBy)
    return {
      physicalLocation: { artifactLocation: { uri: file }, region: region ?? { startLine: 1 } },
      logicalLocations: logical
    }
  }
  const workflow = workflowFile(options.workflowRef)
  const uri = (workflow === undefined ? undefined : relativeUri(workflow)) ?? file ?? 'iam-least-privilege'
  return {
    physicalLocation: { artifactLocation: { uri }, region: { startLine: 1 } },
    logicalLocations: logical
  }
}

/**
 * A repository path as the relative URI reference SARIF requires: each segment percent-encoded except the
 * characters a URI path segment allows as they are.
 */
function relativeUri(path: string): string {
  return path
    .replace(/^\.\//, '')
    .split('/')
    .map(segment => segment.replace(/[^A-Za-z0-9\-._~!$&'()*+,;=:@]/gu, c => encodeURIComponent(c)))
    .join('/')
}

/** `.github/workflows/x.yml` from `owner/repo/.github/workflows/x.yml@refs/heads/main`. */
function workflowFile(ref: string | undefined): string | undefined {
  const match = ref ? /^[^/]+\/[^/]+\/(.+?)@/.exec(ref) : null
  return match?.[1]
}

/** The lines of the first statement (by Sid) among `grantedBy` found in the file's JSON text. */
export function statementLines(
  text: string,
  grantedBy: readonly string[]
): { startLine: number; endLine: number } | undefined {
  const sids = grantedBy.flatMap(ref => {
    const hash = ref.indexOf('#')
    return hash >= 0 ? [ref.slice(hash + 1)] : []
  })
  if (sids.length === 0) return undefined
  const objects = objectSpans(text)
  for (const sid of sids) {
    const pattern = new RegExp(`"Sid"\\s*:\\s*${escapeRegExp(JSON.stringify(sid))}`)
    const at = pattern.exec(text)?.index
    if (at === undefined) continue
    const enclosing = objects
      .filter(([start, end]) => start < at && at < end)
      .sort((a, b) => a[1] - a[0] - (b[1] - b[0]))[0]
    if (!enclosing) continue
    return { startLine: lineOf(text, enclosing[0]), endLine: lineOf(text, enclosing[1]) }
  }
  return undefined
}

/** [start, end] offsets of every JSON object in the text (braces inside strings ignored). */
function objectSpans(text: string): [number, number][] {
  const spans: [number, number][] = []
  const open: number[] = []
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (c === '{') open.push(i)
    else if (c === '}' && open.length > 0) spans.push([open.pop() as number, i])
  }
  return spans
}

function lineOf(text: string, offset: number): number {
  let line = 1
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++
  return line
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
