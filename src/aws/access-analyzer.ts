/** IAM Access Analyzer policy generation: the calls, and how their errors are classified. */
import {
  CancelPolicyGenerationCommand,
  GetGeneratedPolicyCommand,
  StartPolicyGenerationCommand,
  paginateListPolicyGenerations
} from '@aws-sdk/client-accessanalyzer'
import type {
  AccessAnalyzerClient,
  GetGeneratedPolicyCommandOutput,
  PolicyGeneration
} from '@aws-sdk/client-accessanalyzer'
import type { TimeWindow } from '../model.js'
import { awsErrorName } from './retry.js'

export interface GenerationRequest {
  roleArn: string
  trailArn: string
  /** Trail Regions to read; [] = all Regions. */
  regions: string[]
  /** Service role Access Analyzer assumes to read the trail. */
  accessRoleArn: string
  window: TimeWindow
}

export async function startPolicyGeneration(
  client: AccessAnalyzerClient,
  request: GenerationRequest,
  clientToken: string
): Promise<string> {
  const all = request.regions.length === 0
  const out = await client.send(
    new StartPolicyGenerationCommand({
      policyGenerationDetails: { principalArn: request.roleArn },
      cloudTrailDetails: {
        trails: [
          { cloudTrailArn: request.trailArn, ...(all ? { allRegions: true } : { regions: request.regions }) }
        ],
        accessRole: request.accessRoleArn,
        startTime: new Date(request.window.start),
        endTime: new Date(request.window.end)
      },
      clientToken
    })
  )
  if (!out.jobId) throw new Error(`StartPolicyGeneration for ${request.roleArn} returned no jobId`)
  return out.jobId
}

export function getGeneratedPolicy(
  client: AccessAnalyzerClient,
  jobId: string
): Promise<GetGeneratedPolicyCommandOutput> {
  return client.send(
    new GetGeneratedPolicyCommand({
      jobId,
      includeResourcePlaceholders: true,
      includeServiceLevelTemplate: true
    })
  )
}

export async function cancelPolicyGeneration(client: AccessAnalyzerClient, jobId: string): Promise<void> {
  await client.send(new CancelPolicyGenerationCommand({ jobId }))
}

/** Generations of the last seven days, all pages; for one principal or (principalArn undefined) the whole account. */
export async function listPolicyGenerations(
  client: AccessAnalyzerClient,
  principalArn?: string
): Promise<PolicyGeneration[]> {
  const all: PolicyGeneration[] = []
  for await (const page of paginateListPolicyGenerations({ client }, principalArn ? { principalArn } : {})) {
    all.push(...(page.policyGenerations ?? []))
  }
  return all
}

/**
 * Why StartPolicyGeneration was refused:
 * - `busy`: another generation runs in this account and Region (409 ConflictException);
 * - `quota`: 402 ServiceQuotaExceededException; `daily` when its message or resource names the daily quota;
 * - `other`: anything else (validation, access denied, ...).
 */
type StartRefusal = 'busy' | 'quota' | 'daily' | 'other'

export function classifyStartError(error: unknown): StartRefusal {
  const name = awsErrorName(error)
  if (name === 'ConflictException') return 'busy'
  if (name === 'ServiceQuotaExceededException') {
    const e = error as { message?: string; resourceId?: string; resourceType?: string }
    const text = `${e.message ?? ''} ${e.resourceId ?? ''} ${e.resourceType ?? ''}`
    return /\bdaily\b|per day|\bday\b|24 hours/i.test(text) ? 'daily' : 'quota'
  }
  return 'other'
}
