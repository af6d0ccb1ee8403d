/** Real SDK v3 clients pointed at the emulator, with dummy static credentials (requests are still SigV4-signed). */
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail'
import { IAMClient } from '@aws-sdk/client-iam'

const credentials = { accessKeyId: 'AKIAEMULATOREXAMPLE', secretAccessKey: 'emulator-secret-access-key' }

/** maxAttempts 1 by default so retries are the code under test's, not the SDK's. */
export function analyzerClient(endpoint: string, maxAttempts = 1): AccessAnalyzerClient {
  return new AccessAnalyzerClient({ endpoint, region: 'us-east-1', credentials, maxAttempts })
}

export function iamClient(endpoint: string, maxAttempts = 1): IAMClient {
  return new IAMClient({ endpoint, region: 'us-east-1', credentials, maxAttempts })
}

export function cloudTrailClient(endpoint: string, maxAttempts = 1): CloudTrailClient {
  return new CloudTrailClient({ endpoint, region: 'eu-west-1', credentials, maxAttempts })
}
