import type { ReportV1, RoleResult, UsageSource } from '../model.js'
import { compare } from './role-facts.js'

/**
 * The version-1 JSON report with its summary computed. Roles are sorted by ARN and every action list by
 * action, so two runs over the same evidence produce the same report whatever order the roles finished in.
 */
export function buildReport(roles: RoleResult[], source: UsageSource, generatedAt: string): ReportV1 {
  const sorted = [...roles].sort((a, b) => compare(a.arn, b.arn)).map(sortedLists)
  return {
    version: 1,
    generatedAt,
    source,
    roles: sorted,
    summary: {
      roles: sorted.length,
      analyzed: sorted.filter(r => r.status === 'analyzed').length,
      failed: sorted.filter(r => r.status === 'failed').length,
      excess: sorted.reduce((sum, r) => sum + r.excess.length, 0)
    }
  }
}

function sortedLists(role: RoleResult): RoleResult {
  const byAction = <T extends { action: string }>(items: T[]) =>
    [...items].sort((a, b) => compare(a.action, b.action))
  return {
    ...role,
    used: [...role.used].sort(compare),
    excess: byAction(role.excess),
    unobservable: byAction(role.unobservable),
    conditional: byAction(role.conditional)
  }
}

/** Key order of the objects whose shape we own; any other object keeps its keys in sorted order. */
const KEY_ORDER: Record<string, string[]> = {
  report: ['version', 'generatedAt', 'source', 'roles', 'summary'],
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
    'change'
  ],
  policyDocument: ['Version', 'Id', 'Statement'],
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
  window: ['start', 'end'],
  proposed: ['name', 'characters', 'document']
}

/**
 * The report as JSON text, byte-for-byte the same for equal reports however their objects were built:
 * known shapes keep a reading order (IAM documents read Version, Statement; Sid, Effect, Action...), all other
 * objects sort their keys. Ends with a newline.
 */
export function serializeReport(report: ReportV1): string {
  return JSON.stringify(ordered(report, 'report'), null, 2) + '\n'
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
  if (parent === 'proposed' && key === 'document') return 'policyDocument'
  if (parent === 'policyDocument' && key === 'Statement') return 'statement'
  return undefined
}
