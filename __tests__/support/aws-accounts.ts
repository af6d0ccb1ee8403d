/**
 * Many AWS accounts behind one endpoint, as the real SDK reaches them: each request goes to the emulator of the
 * account its credentials belong to (the access key of the SigV4 Authorization header, as STS issued it; the
 * static test key is the hub account's), AssumeRoleWithWebIdentity and AssumeRole to the account of the role they
 * name. Organizations (awsJson1_1, `X-Amz-Target: AWSOrganizationsV20161128.<Operation>`) answers ListAccounts for the
 * hub account as the organization's management account, with NextToken pagination.
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { AwsEmulator } from './aws-emulator.js'
import type { AwsEmulatorOptions } from './aws-emulator.js'
import { LocalServer, readText } from './local-server.js'

const STATIC_KEY = 'AKIAEMULATOREXAMPLE'
const ORGANIZATIONS_TARGET = /^AWSOrganizationsV20161128\.(\w+)$/

interface OrganizationAccount {
  id: string
  state: 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE' | 'CLOSED'
}

export class AwsAccounts {
  readonly emulators = new Map<string, AwsEmulator>()
  /** Accounts ListAccounts names besides the emulated ones (suspended, closed, ...). */
  readonly otherAccounts: OrganizationAccount[] = []
  readonly organizationRequests: { operation: string; status: number; params: Record<string, unknown> }[] = []
  /** Page size of ListAccounts. */
  organizationPageSize = 2
  /** False: the hub account is not in an organization (AWSOrganizationsNotInUseException). */
  organization = true
  private readonly keys = new Map<string, string>()
  private readonly http = new LocalServer()
  url = ''

  constructor(
    readonly hubAccountId: string,
    memberAccountIds: readonly string[],
    options: AwsEmulatorOptions = {}
  ) {
    for (const accountId of [hubAccountId, ...memberAccountIds]) {
      this.emulators.set(
        accountId,
        new AwsEmulator({
          seed: false,
          ...options,
          accountId,
          onCredentialsIssued: (key, account) => this.keys.set(key, account)
        })
      )
    }
  }

  account(accountId: string): AwsEmulator {
    const emulator = this.emulators.get(accountId)
    if (!emulator) throw new Error(`no emulated account ${accountId}`)
    return emulator
  }

  get hub(): AwsEmulator {
    return this.account(this.hubAccountId)
  }

  async start(): Promise<{ url: string }> {
    this.url = await this.http.start((req, res) => this.route(req, res))
    for (const emulator of this.emulators.values()) emulator.url = this.url
    return { url: this.url }
  }

  async stop(): Promise<void> {
    await this.http.stop()
  }

  /** Every service of every account, and Organizations, at this endpoint; the static key is the hub's. */
  env(region = 'us-east-1'): Record<string, string> {
    return { ...this.hub.env(region), AWS_ENDPOINT_URL_ORGANIZATIONS: this.url }
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readText(req)
    const organizations = ORGANIZATIONS_TARGET.exec(String(req.headers['x-amz-target'] ?? ''))
    if (organizations?.[1]) return this.organizations(req, res, organizations[1], body)
    const form = req.headers['content-type']?.startsWith('application/x-www-form-urlencoded')
      ? new URLSearchParams(body)
      : undefined
    const action = form?.get('Action')
    const roleAccount = /^arn:aws:iam::(\d{12}):role\//.exec(form?.get('RoleArn') ?? '')?.[1]
    const account =
      (action === 'AssumeRole' || action === 'AssumeRoleWithWebIdentity') && roleAccount
        ? roleAccount
        : this.callerAccount(req)
    const emulator = account ? this.emulators.get(account) : undefined
    if (!emulator) {
      // A role in an account this world does not emulate: STS denies it, as it would a role that does not exist.
      res.writeHead(403, { 'content-type': 'text/xml' })
      res.end(
        `<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized for account ${account ?? 'unknown'}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
      )
      return
    }
    emulator.dispatch(req, res, body)
  }

  private callerAccount(req: IncomingMessage): string | undefined {
    const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1]
    if (!key) return undefined
    return key === STATIC_KEY ? this.hubAccountId : this.keys.get(key)
  }

  private organizations(req: IncomingMessage, res: ServerResponse, operation: string, body: string): void {
    const params = JSON.parse(body || '{}') as { NextToken?: string; MaxResults?: number }
    const send = (status: number, payload: unknown): void => {
      this.organizationRequests.push({ operation, status, params })
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID()
      })
      res.end(JSON.stringify(payload))
    }
    const auth = req.headers.authorization ?? ''
    if (!auth.includes('/organizations/aws4_request'))
      return send(400, {
        __type: 'MissingAuthenticationTokenException',
        Message: 'Missing Authentication Token'
      })
    if (this.callerAccount(req) !== this.hubAccountId)
      return send(400, {
        __type: 'AccessDeniedException',
        Message: 'You don\u2019t have permissions to access this resource.'
      })
    if (!this.organization)
      return send(400, {
        __type: 'AWSOrganizationsNotInUseException',
        Message: 'Your account is not a member of an organization.'
      })
    if (operation !== 'ListAccounts')
      return send(400, { __type: 'InvalidInputException', Message: operation })
    const all: OrganizationAccount[] = [
      ...[...this.emulators.keys()].map(id => ({ id, state: 'ACTIVE' as const })),
      ...this.otherAccounts
    ]
    const offset = params.NextToken ? Number(Buffer.from(params.NextToken, 'base64url').toString()) : 0
    const size = Math.min(params.MaxResults ?? 20, this.organizationPageSize)
    const page = all.slice(offset, offset + size)
    const next = offset + page.length
    send(200, {
      Accounts: page.map(a => ({
        Id: a.id,
        Arn: `arn:aws:organizations::${this.hubAccountId}:account/o-exampleorgid/${a.id}`,
        Email: `aws+${a.id}@example.com`,
        Name: `account-${a.id}`,
        Status: a.state === 'ACTIVE' ? 'ACTIVE' : 'SUSPENDED',
        State: a.state,
        JoinedMethod: 'CREATED',
        JoinedTimestamp: 1.6e9
      })),
      ...(next < all.length ? { NextToken: Buffer.from(String(next)).toString('base64url') } : {})
    })
  }
}
