/** The organization's accounts: organizations:ListAccounts, every page, ACTIVE accounts only. */
import { OrganizationsClient, paginateListAccounts } from '@aws-sdk/client-organizations'
import type { TemporaryCredentials } from './credentials.js'
import { awsErrorName, describeAwsError } from './retry.js'

export async function activeOrganizationAccounts(
  region: string,
  credentials: TemporaryCredentials | undefined
): Promise<string[]> {
  const client = new OrganizationsClient({ region, ...(credentials ? { credentials } : {}) })
  const ids: string[] = []
  try {
    for await (const page of paginateListAccounts({ client }, {}))
      for (const account of page.Accounts ?? [])
        // State replaces the deprecated Status; either says whether the account is active.
        if (account.Id && (account.State ?? account.Status) === 'ACTIVE') ids.push(account.Id)
  } catch (error) {
    const name = awsErrorName(error)
    const hint =
      name === 'AWSOrganizationsNotInUseException'
        ? 'the account is not in an organization'
        : name === 'AccessDeniedException'
          ? 'run from the management account or a delegated administrator, with organizations:ListAccounts'
          : 'check the credentials'
    throw new Error(`accounts: organization: ListAccounts failed (${describeAwsError(error)}); ${hint}`)
  } finally {
    client.destroy()
  }
  return ids.sort()
}
