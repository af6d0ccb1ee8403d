/** The management events a trail may leave out, and how to say what a known trail configuration logs. */
import type { TrailLogging } from '../model.js'

/**
 * The event sources a trail can exclude from its management events (`ExcludeManagementEventSources`, or an
 * `eventSource` NotEquals advanced selector), with their IAM service prefix. Every other service's management
 * events are logged whenever management events are.
 */
export const EXCLUDABLE_SOURCES: readonly { source: string; service: string; name: string }[] = [
  { source: 'kms.amazonaws.com', service: 'kms', name: 'KMS' },
  { source: 'rdsdata.amazonaws.com', service: 'rds-data', name: 'RDS Data API' }
]

/**
 * Calls IAM files under Write that CloudTrail records as read-only events (`"readOnly": true`): a trail that logs only
 * write management events never records them. Sources: the KMS developer guide's CloudTrail examples for each
 * cryptographic operation (Decrypt, Encrypt, GenerateDataKey, ...), and the IAM user guide's AWS STS CloudTrail
 * examples (AssumeRole, AssumeRoleWithSAML, AssumeRoleWithWebIdentity).
 */
export const READ_ONLY_EVENT_ACTIONS: readonly string[] = [
  'kms:Decrypt',
  'kms:Encrypt',
  'kms:GenerateDataKey*',
  'kms:GenerateMac',
  'kms:GenerateRandom',
  'kms:ReEncrypt*',
  'kms:Sign',
  'kms:Verify',
  'kms:VerifyMac',
  'kms:DeriveSharedSecret',
  'sts:AssumeRole*'
]

/** Who says what the trail logs: "trail arn:..." or "the trail options (an assumption)". */
export function trailLoggingOrigin(logging: TrailLogging): string {
  if (logging.origin === 'options') return 'the trail options given (an assumption, not read from CloudTrail)'
  return `the configuration of ${logging.trail ?? 'the trail'}`
}

/** One line for the evidence: what the trail logs and who says so. */
export function describeTrailLogging(logging: TrailLogging): string {
  const halves =
    logging.managementRead && logging.managementWrite
      ? 'read and write management events'
      : logging.managementRead
        ? 'read-only management events only'
        : logging.managementWrite
          ? 'write management events only'
          : 'no management events'
  const excluded =
    logging.excludedSources.length > 0 ? `, excluding ${logging.excludedSources.join(', ')}` : ''
  return `the trail logs ${halves}${excluded} (per ${trailLoggingOrigin(logging)})`
}
