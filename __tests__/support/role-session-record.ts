/**
 * A CloudTrail record of one API call made by a role session, as an organization trail delivers it under the role's
 * account: for tests that need the same kind of call in several accounts (the shared samples hold one account).
 */
export function roleSessionRecord(
  accountId: string,
  role: string,
  call: { eventSource: string; eventName: string; eventTime: string; region?: string }
): Record<string, unknown> {
  const id = `${accountId}-${call.eventName}-${call.eventTime}`
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${accountId}:session`,
      arn: `arn:aws:sts::${accountId}:assumed-role/${role}/session`,
      accountId,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: `AROAEXAMPLE${accountId}`,
          arn: `arn:aws:iam::${accountId}:role/${role}`,
          accountId,
          userName: role
        }
      }
    },
    eventTime: call.eventTime,
    eventSource: call.eventSource,
    eventName: call.eventName,
    awsRegion: call.region ?? 'us-east-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-cli/2.15.0',
    requestID: id,
    eventID: id,
    readOnly: /^(Describe|List|Get)/.test(call.eventName),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: accountId,
    eventCategory: 'Management'
  }
}
