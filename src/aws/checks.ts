/** Access Analyzer checks on a proposal: ValidatePolicy findings and CheckNoNewAccess against the current policies. */
import { CheckNoNewAccessCommand, paginateValidatePolicy } from '@aws-sdk/client-accessanalyzer'
import type { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import type { PolicyDocumentJson, ProposedPolicy, ValidationFinding } from '../model.js'

/** ValidatePolicy (IDENTITY_POLICY, every page) for each proposed document. */
export async function validateProposedPolicies(
  client: AccessAnalyzerClient,
  proposals: ProposedPolicy[]
): Promise<ValidationFinding[]> {
  const findings: ValidationFinding[] = []
  for (const proposal of proposals) {
    const input = {
      policyDocument: JSON.stringify(proposal.document),
      policyType: 'IDENTITY_POLICY' as const
    }
    for await (const page of paginateValidatePolicy({ client }, input)) {
      for (const f of page.findings ?? []) {
        findings.push({
          policy: proposal.name,
          findingType: f.findingType ?? 'UNKNOWN',
          issueCode: f.issueCode ?? 'UNKNOWN',
          details: f.findingDetails ?? '',
          ...(f.learnMoreLink ? { learnMoreLink: f.learnMoreLink } : {})
        })
      }
    }
  }
  return findings
}

function statementsOf(document: unknown, what: string): Record<string, unknown>[] {
  const statement = (document as { Statement?: unknown } | null)?.Statement
  if (Array.isArray(statement)) return statement as Record<string, unknown>[]
  if (statement && typeof statement === 'object') return [statement as Record<string, unknown>]
  throw new Error(`${what}: the policy document has no Statement`)
}

/**
 * Merges identity policies into one document. This is sound for the comparison: IAM evaluates all identity-based
 * policies of a principal together (allowed = some Allow matches and no Deny matches, in any of them), which is exactly
 * how the statements of a single document combine. Sids are dropped because they need not be unique across
 * documents and carry no meaning for evaluation.
 */
export function mergeIdentityPolicies(documents: unknown[], what: string): PolicyDocumentJson {
  const Statement = documents.flatMap((doc, i) =>
    statementsOf(doc, `${what} ${i + 1}`).map(statement => {
      const copy = { ...statement }
      delete copy.Sid
      return copy
    })
  )
  return { Version: '2012-10-17', Statement }
}

/**
 * CheckNoNewAccess with new = every proposed statement merged into one document and existing = every current
 * (inline and managed, not the boundary) statement merged into one document.
 */
export async function checkNoNewAccess(
  client: AccessAnalyzerClient,
  proposed: unknown[],
  current: unknown[]
): Promise<'PASS' | 'FAIL'> {
  const out = await client.send(
    new CheckNoNewAccessCommand({
      newPolicyDocument: JSON.stringify(mergeIdentityPolicies(proposed, 'proposed policy')),
      existingPolicyDocument: JSON.stringify(mergeIdentityPolicies(current, 'current policy')),
      policyType: 'IDENTITY_POLICY'
    })
  )
  if (out.result !== 'PASS' && out.result !== 'FAIL') {
    throw new Error(`CheckNoNewAccess returned an unexpected result ${String(out.result)}`)
  }
  return out.result
}
