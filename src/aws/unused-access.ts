/**
 * IAM Access Analyzer unused-access analysis: the analyzer, a principal's findings, and AWS's recommended policy for a
 * finding. Only the calls and their paging here; what the findings mean is in usage/unused-access.ts.
 */
import {
  GenerateFindingRecommendationCommand,
  paginateGetFindingRecommendation,
  paginateGetFindingV2,
  paginateListAnalyzers,
  paginateListFindingsV2
} from '@aws-sdk/client-accessanalyzer'
import type {
  AccessAnalyzerClient,
  AnalyzerSummary,
  FindingDetails,
  FindingSummaryV2,
  GetFindingRecommendationCommandOutput,
  GetFindingV2CommandOutput,
  RecommendedStep
} from '@aws-sdk/client-accessanalyzer'
import type { Sleep } from './retry.js'

const UNUSED_ACCESS_TYPES = ['ACCOUNT_UNUSED_ACCESS', 'ORGANIZATION_UNUSED_ACCESS'] as const

/** The analyzer whose findings are read, and the tracking period its findings cover. */
export interface UnusedAccessAnalyzer {
  arn: string
  /** unusedAccessAge: a permission unused for this many days is reported. */
  unusedAccessAgeDays: number
}

/** AWS's default tracking period when the analyzer's configuration states none. */
const DEFAULT_UNUSED_ACCESS_AGE = 90

async function listUnusedAccessAnalyzers(client: AccessAnalyzerClient): Promise<AnalyzerSummary[]> {
  const all: AnalyzerSummary[] = []
  for (const type of UNUSED_ACCESS_TYPES)
    for await (const page of paginateListAnalyzers({ client }, { type })) all.push(...(page.analyzers ?? []))
  return all
}

function toAnalyzer(summary: AnalyzerSummary): UnusedAccessAnalyzer {
  return {
    arn: summary.arn ?? '',
    unusedAccessAgeDays: summary.configuration?.unusedAccess?.unusedAccessAge ?? DEFAULT_UNUSED_ACCESS_AGE
  }
}

/**
 * The analyzer named by `arn`, or the account's one active unused-access analyzer (an account analyzer before an
 * organization one). Throws a one-line error naming the input when there is none, or the one named is not usable.
 */
export async function findUnusedAccessAnalyzer(
  client: AccessAnalyzerClient,
  arn: string | undefined
): Promise<UnusedAccessAnalyzer> {
  const analyzers = await listUnusedAccessAnalyzers(client)
  if (arn) {
    const named = analyzers.find(a => a.arn === arn)
    if (!named)
      throw new Error(
        `unused-access-analyzer: ${arn} is not an unused-access analyzer of this account and Region (ListAnalyzers with types ${UNUSED_ACCESS_TYPES.join(', ')} does not list it); check the ARN and aws-region`
      )
    if (named.status !== 'ACTIVE')
      throw new Error(`unused-access-analyzer: ${arn} is ${String(named.status)}, not ACTIVE`)
    return toAnalyzer(named)
  }
  const active = analyzers.filter(a => a.status === 'ACTIVE')
  const chosen = active.find(a => a.type === 'ACCOUNT_UNUSED_ACCESS') ?? active[0]
  if (!chosen)
    throw new Error(
      'unused-access-analyzer: this account and Region have no active unused-access analyzer; create one (aws accessanalyzer create-analyzer --type ACCOUNT_UNUSED_ACCESS) or give its ARN'
    )
  return toAnalyzer(chosen)
}

/** Every finding of the analyzer on one resource (a role or user ARN), all pages, any status. */
export async function listResourceFindings(
  client: AccessAnalyzerClient,
  analyzerArn: string,
  resourceArn: string
): Promise<FindingSummaryV2[]> {
  const all: FindingSummaryV2[] = []
  const request = { analyzerArn, filter: { resource: { eq: [resourceArn] } } }
  for await (const page of paginateListFindingsV2({ client }, request)) all.push(...(page.findings ?? []))
  // The filter is the service's: a finding on another resource is never read as this one's.
  return all.filter(f => f.resource === resourceArn)
}

/** A finding with all its details (GetFindingV2 pages its findingDetails). */
export async function getFinding(
  client: AccessAnalyzerClient,
  analyzerArn: string,
  id: string
): Promise<{ finding: GetFindingV2CommandOutput; details: FindingDetails[] }> {
  let finding: GetFindingV2CommandOutput | undefined
  const details: FindingDetails[] = []
  for await (const page of paginateGetFindingV2({ client }, { analyzerArn, id })) {
    finding ??= page
    details.push(...(page.findingDetails ?? []))
  }
  if (!finding) throw new Error(`GetFindingV2 returned nothing for finding ${id}`)
  return { finding, details }
}

/** How a recommendation job ended: its steps, or AWS's error; IN_PROGRESS when the deadline came first. */
export interface RecommendationResult {
  status: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS'
  steps: RecommendedStep[]
  error?: string
}

interface RecommendationPolling {
  sleep: Sleep
  deadline: Date
  now: () => Date
  signal?: AbortSignal
}

async function readRecommendation(
  client: AccessAnalyzerClient,
  analyzerArn: string,
  id: string
): Promise<{ first: GetFindingRecommendationCommandOutput; steps: RecommendedStep[] }> {
  let first: GetFindingRecommendationCommandOutput | undefined
  const steps: RecommendedStep[] = []
  for await (const page of paginateGetFindingRecommendation({ client }, { analyzerArn, id })) {
    first ??= page
    steps.push(...(page.recommendedSteps ?? []))
  }
  if (!first) throw new Error(`GetFindingRecommendation returned nothing for finding ${id}`)
  return { first, steps }
}

/**
 * AWS's recommended remediation for an unused-permission finding: GenerateFindingRecommendation, then
 * GetFindingRecommendation polled (2 s, growing to 15 s) until it leaves IN_PROGRESS or the deadline passes.
 */
export async function fetchRecommendation(
  client: AccessAnalyzerClient,
  analyzerArn: string,
  id: string,
  polling: RecommendationPolling
): Promise<RecommendationResult> {
  await client.send(new GenerateFindingRecommendationCommand({ analyzerArn, id }))
  let wait = 2000
  for (;;) {
    const { first, steps } = await readRecommendation(client, analyzerArn, id)
    if (first.status === 'SUCCEEDED') return { status: 'SUCCEEDED', steps }
    if (first.status === 'FAILED')
      return {
        status: 'FAILED',
        steps: [],
        error: `${first.error?.code ?? 'FAILED'}: ${first.error?.message ?? 'no message'}`
      }
    if (polling.signal?.aborted || polling.now().getTime() + wait > polling.deadline.getTime())
      return { status: 'IN_PROGRESS', steps: [] }
    await polling.sleep(wait, polling.signal)
    wait = Math.min(wait * 2, 15_000)
  }
}
