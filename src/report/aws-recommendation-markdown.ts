/** AWS's recommended policy for a role (unused-access findings) in Markdown, next to ours, with the differences. */
import type { AwsRecommendation } from '../model.js'
import { code, codeBlock, escapeText, htmlCode } from './escape.js'

const STEP_LABEL: Record<AwsRecommendation['steps'][number]['action'], string> = {
  CREATE_POLICY: 'replace with',
  DETACH_POLICY: 'detach'
}

/** The section; `full` adds each recommended document (collapsed). Every AWS string is escaped. */
export function awsRecommendationSection(rec: AwsRecommendation, full: boolean): string {
  const head = `**AWS's recommendation** (finding ${code(rec.findingId)})`
  if (rec.status !== 'SUCCEEDED')
    return `${head}: ${rec.status === 'unavailable' ? 'not available' : rec.status.toLowerCase()}${rec.error ? ` (${escapeText(rec.error)})` : ''}.`
  const steps = rec.steps.map(s => {
    const policy = s.existingPolicyId ? ` ${code(s.existingPolicyId)}` : ''
    return `- ${s.action === 'DETACH_POLICY' ? 'detach' : 'replace'}${policy}${s.action === 'CREATE_POLICY' ? ' with the recommended policy' : ''}`
  })
  const differences = rec.differences.map(d => `- ${escapeText(d)}`)
  const documents = full
    ? rec.steps
        .filter(s => s.recommendedPolicy !== undefined)
        .map(
          s =>
            `<details><summary>AWS's policy for ${htmlCode(s.existingPolicyId ?? 'the role')} (${STEP_LABEL[s.action]})</summary>\n\n${codeBlock(JSON.stringify(s.recommendedPolicy, null, 2), 'json')}\n\n</details>`
        )
    : []
  return [
    `${head}: ${rec.steps.length === 0 ? 'no step' : `${rec.steps.length} step(s)`}`,
    ...steps,
    differences.length > 0 ? `\n**How ours differs from AWS's**\n${differences.join('\n')}` : '',
    ...documents.map(d => `\n${d}`)
  ]
    .filter(Boolean)
    .join('\n')
}
