/** An Access Analyzer generated policy -> RoleUsage (what the role did, as Access Analyzer saw it). */
import type { GetGeneratedPolicyCommandOutput, JobError } from '@aws-sdk/client-accessanalyzer'
import type { ObservedAction, RoleUsage, TimeWindow } from '../model.js'

export const DENIED_CALLS_NOTE =
  'Access Analyzer counts denied calls as used: an action listed here may only have been attempted and denied.'

const SERVICE_WILDCARD = /^([a-z0-9-]+):\*$/i

function asList(value: unknown): unknown[] {
  if (value === undefined) return []
  return Array.isArray(value) ? value : [value]
}

/** A timestamp as ISO 8601 (UTC); undefined when absent or not a date. */
export function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined
  const date = value instanceof Date ? value : new Date(value)
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString()
}

/** What the statements of the generated policies add up to, as they are read. */
interface Reading {
  notes: string[]
  /** Each action with the resources it was seen on. */
  resources: Map<string, Set<string>>
  serviceLevel: Set<string>
  /** Something could not be read: the usage is then incomplete, never "unused". */
  unreadable: boolean
}

/**
 * Parses `generatedPolicies[].policy` (JSON strings). Statements are read generically: any Sid, `Action` string or array,
 * `Resource` string or array (ARN templates with `${...}` placeholders kept as they are). `service:*` actions (the
 * service-level template) become `serviceLevelOnly`. Anything unexpected is kept and explained in the notes.
 */
export function parseGeneratedPolicy(
  output: Pick<GetGeneratedPolicyCommandOutput, 'generatedPolicyResult' | 'jobDetails'>,
  roleArn: string,
  requestedWindow: TimeWindow
): RoleUsage {
  const result = output.generatedPolicyResult
  const trail = result?.properties?.cloudTrailProperties
  const reading: Reading = {
    notes: [DENIED_CALLS_NOTE],
    resources: new Map(),
    serviceLevel: new Set(),
    unreadable: false
  }
  const { notes, resources, serviceLevel } = reading

  ;(result?.generatedPolicies ?? []).forEach((generated, index) => {
    const label = `generated policy ${index + 1}`
    let document: unknown
    try {
      document = JSON.parse(generated.policy ?? '')
    } catch {
      throw new Error(`${label} of job ${output.jobDetails?.jobId ?? '?'} is not valid JSON`)
    }
    asList((document as { Statement?: unknown } | null)?.Statement).forEach((raw, si) =>
      readStatement((raw ?? {}) as Record<string, unknown>, label, si, reading)
    )
  })

  const actions: ObservedAction[] = [...resources.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([action, set]) => ({ action, resources: [...set].sort() }))

  const complete = result?.properties?.isComplete === true && !reading.unreadable
  if (!complete) {
    notes.push(
      'Access Analyzer reports the policy as incomplete (isComplete=false): some services were seen only at service level or not at all.'
    )
  }
  if (serviceLevel.size > 0) {
    notes.push(
      `Services seen only at service level (no action detail): ${[...serviceLevel].sort().join(', ')}.`
    )
  }
  const window: TimeWindow = {
    start: iso(trail?.startTime) ?? requestedWindow.start,
    end: iso(trail?.endTime) ?? requestedWindow.end
  }
  const jobId = output.jobDetails?.jobId
  return {
    roleArn,
    source: 'access-analyzer',
    window,
    complete,
    actions,
    serviceLevelOnly: [...serviceLevel].sort(),
    evidence: { ...(jobId ? { jobId } : {}), notes }
  }
}

function readStatement(
  statement: Record<string, unknown>,
  label: string,
  index: number,
  reading: Reading
): void {
  const { notes } = reading
  const where = `${label}, statement ${typeof statement.Sid === 'string' ? statement.Sid : index}`
  if (statement.Effect !== 'Allow')
    notes.push(
      `${where}: unexpected Effect ${JSON.stringify(statement.Effect)}; its actions are still listed`
    )
  // A shape we cannot read must not turn into "unused": it makes the usage incomplete.
  if (statement.NotAction !== undefined) {
    reading.unreadable = true
    notes.push(
      `${where}: unexpected NotAction ${JSON.stringify(statement.NotAction)}; usage marked incomplete`
    )
  }
  const rawResources = asList(statement.Resource)
  const resources = rawResources.filter((r): r is string => typeof r === 'string')
  if (resources.length < rawResources.length) notes.push(`${where}: ignored non-string Resource entries`)
  if (statement.NotResource !== undefined) {
    notes.push(
      `${where}: unexpected NotResource ${JSON.stringify(statement.NotResource)}; read as every resource (*)`
    )
  }
  for (const action of asList(statement.Action)) {
    if (typeof action !== 'string') {
      notes.push(`${where}: ignored a non-string Action entry ${JSON.stringify(action)}`)
      continue
    }
    const wildcard = SERVICE_WILDCARD.exec(action)?.[1]
    if (wildcard) {
      reading.serviceLevel.add(wildcard.toLowerCase())
      continue
    }
    if (!/^[a-z0-9-]+:[A-Za-z0-9*?]+$/.test(action)) {
      // A placeholder or anything else that is not an action name: count its whole service as seen.
      const service = /^([a-z0-9-]+):/i.exec(action)?.[1]
      if (service) reading.serviceLevel.add(service.toLowerCase())
      else reading.unreadable = true
      notes.push(`${where}: ${action} is not an action name; its service is treated as seen at service level`)
      continue
    }
    if (action.includes('*') || action.includes('?'))
      notes.push(`${where}: action pattern ${action} counts every action it matches as used`)
    const set = reading.resources.get(action) ?? new Set<string>()
    for (const r of resources.length > 0 ? resources : ['*']) set.add(r)
    reading.resources.set(action, set)
  }
}

/** A FAILED job's jobError as a one-line reason with what to do. */
export function describeJobError(jobError: JobError | undefined): string {
  const message = jobError?.message ? `: ${jobError.message}` : ''
  switch (jobError?.code) {
    case 'SERVICE_QUOTA_EXCEEDED_ERROR':
      return `policy generation exceeded a per-job quota (100,000 CloudTrail log files or 25 GB)${message}; shorten lookback-days or limit trail-regions`
    case 'AUTHORIZATION_ERROR':
      return `Access Analyzer could not read the trail with access-role-arn${message}; the access role must trust access-analyzer.amazonaws.com and allow cloudtrail:GetTrail, iam:GenerateServiceLastAccessedDetails, iam:GetServiceLastAccessedDetails, s3:GetObject and s3:ListBucket on the trail bucket (and kms:Decrypt when the logs are KMS-encrypted)`
    case 'RESOURCE_NOT_FOUND_ERROR':
      return `the trail or its log bucket was not found${message}; check trail-arn and trail-regions`
    case 'SERVICE_ERROR':
      return `Access Analyzer failed with a service error${message}; rerun later`
    default:
      return `policy generation failed${jobError?.code ? ` (${String(jobError.code)})` : ''}${message}`
  }
}
