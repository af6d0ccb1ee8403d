/** Usage from CloudTrail log files read here (a folder or an S3 prefix). */
import type { RoleUsage } from '../model.js'
import { roleKey } from '../roles.js'
import { scanCloudTrail } from './cloudtrail/scan.js'
import type { CloudTrailScan } from './cloudtrail/scan.js'
import { lookbackStart } from './source.js'
import type { UsageProvider } from './source.js'

export const cloudTrailSource: UsageProvider = {
  async open({ config, aws, log, startedAt, signal }) {
    const path = config.cloudtrailPath ?? ''
    const fromS3 = path.startsWith('s3://')
    const since = config.since ?? (fromS3 ? lookbackStart(startedAt, config.lookbackDays) : undefined)
    const scan = await scanCloudTrail(
      {
        path,
        ...(since ? { since } : {}),
        ...(config.until ? { until: config.until } : {}),
        regions: [...config.trailRegions]
      },
      {
        onProgress: message => log.info(message),
        ...(signal ? { signal } : {}),
        ...(fromS3 ? { s3Client: await aws.s3() } : {})
      }
    )
    return {
      rolesSeen: scan.rolesSeen,
      ...(scan.filesRead === 0
        ? { noEvidence: { input: 'cloudtrail-path', reason: noLogFilesReason(path, scan) } }
        : {}),
      usageOf: roleArns =>
        Promise.resolve(
          roleArns.map(arn => ({ usage: scanUsage(scan.roles, arn) ?? emptyCloudTrailUsage(arn, scan) }))
        )
    }
  }
}

/** The usage of a role or user by ARN, or by account and name when the records named it without its path. */
function scanUsage(roles: Map<string, RoleUsage>, arn: string): RoleUsage | undefined {
  const exact = roles.get(arn)
  if (exact) return exact
  for (const [seen, usage] of roles) if (roleKey(seen) === roleKey(arn)) return { ...usage, roleArn: arn }
  return undefined
}

function emptyCloudTrailUsage(arn: string, scan: CloudTrailScan): RoleUsage {
  return {
    roleArn: arn,
    source: 'cloudtrail',
    window: scan.window,
    // No file read is no data at all, never "complete".
    complete: scan.filesRead > 0 && scan.filesSkipped.length === 0,
    actions: [],
    serviceLevelOnly: [],
    evidence: {
      filesRead: scan.filesRead,
      ...(scan.filesSkipped.length > 0 ? { filesSkipped: scan.filesSkipped } : {}),
      eventsMatched: 0,
      notes: [...scan.notes]
    }
  }
}

/** Why a scan that read no log file is no evidence: the path, and what was found there instead. */
function noLogFilesReason(path: string, scan: CloudTrailScan): string {
  const [first] = scan.filesSkipped
  const found = first
    ? `${scan.filesSkipped.length} file(s) were skipped, the first: ${first.file}: ${first.reason}`
    : 'no .json or .json.gz file is there'
  return `cloudtrail-path: no CloudTrail log file was read from ${path} (${found}); point it at the folder or s3:// prefix your trail delivers to (AWSLogs/...)`
}
