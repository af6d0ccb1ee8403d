/**
 * A local AWS for tests and benchmarks: one HTTP server (127.0.0.1, port 0) that the real SDK v3 clients reach through
 * `AWS_ENDPOINT_URL_ACCESSANALYZER`, `AWS_ENDPOINT_URL_IAM` and `AWS_ENDPOINT_URL_STS` (or the `endpoint` option).
 * Access Analyzer speaks restJson1 (RFC 3339 string timestamps, `x-amzn-errortype` errors, PUT for start and cancel,
 * 402 quota errors); IAM and STS speak awsQuery with XML responses (URL-encoded policy documents, Marker pagination
 * that omits Marker on the last page, `<ErrorResponse>` envelopes). CloudTrail (`AWS_ENDPOINT_URL_CLOUDTRAIL`) speaks
 * awsJson1_1: POST / with `X-Amz-Target: [com.amazonaws.cloudtrail.v20131101.]CloudTrail_20131101.<Operation>`, JSON
 * bodies, `__type` errors such as TrailNotFoundException. Every request except AssumeRoleWithWebIdentity
 * must carry a SigV4 Authorization header (not verified cryptographically).
 */
import { randomUUID } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { GITHUB_OIDC_ISSUER, decodeJwt } from './oidc-token-server.js'
import { seedStratusAccount } from './aws-emulator-seed.js'
import { UnusedAccessEmulation } from './aws-emulator-findings.js'
import { IamUsersEmulation } from './aws-emulator-users.js'
import { LocalServer, readText } from './local-server.js'

export type EmulatedService = 'access-analyzer' | 'iam' | 'sts' | 'cloudtrail'

/** A trail as CloudTrail's GetEventSelectors returns it: basic or advanced selectors (wire member names). */
export interface EmulatedTrail {
  name: string
  region: string
  eventSelectors?: Record<string, unknown>[]
  advancedEventSelectors?: Record<string, unknown>[]
}

export interface RequestLogEntry {
  service: EmulatedService
  operation: string
  status: number
  /** Query/form parameters or the JSON body. */
  params: Record<string, unknown>
  jobId?: string
}

export interface Fault {
  operation: string
  status: number
  code: string
  message?: string
  /** How many requests it hits; default 1. */
  times?: number
  retryAfterSeconds?: number
  /** Only requests whose parameters satisfy this are hit. */
  match?: (params: Record<string, unknown>) => boolean
  /** Extra body members (Access Analyzer: resourceId, resourceType, ...). */
  members?: Record<string, unknown>
}

export interface GeneratedAction {
  action: string
  /** ARN templates (with `${...}` placeholders); default ['*']. */
  resources?: string[]
}

/** What policy generation finds for a principal, and how its job behaves. */
export interface GenerationScript {
  actions: GeneratedAction[]
  /** Services reported only at service level (`service:*` statements under includeServiceLevelTemplate). */
  serviceLevel?: string[]
  isComplete?: boolean
  /** The job ends FAILED with this jobError. */
  failWith?: { code: string; message: string }
  /** The job never leaves IN_PROGRESS (until cancelled). */
  stuck?: boolean
  /** Overrides the emulator's lifecycle for this principal's jobs. */
  pollsInProgress?: number
  durationMs?: number
}

/** One service of a principal's IAM last-accessed report (access advisor). */
export interface LastAccessedService {
  namespace: string
  name?: string
  /** ISO 8601; absent: not used in the tracking period. */
  lastAuthenticated?: string
  region?: string
  /** Tracked actions (bare names, as `CreateBucket`); absent: the service has no action-level tracking. */
  tracked?: { action: string; lastAccessed?: string }[]
}

/** What IAM last-accessed jobs report for a principal, and how they behave. */
export interface LastAccessedScript {
  services: LastAccessedService[]
  /** GetServiceLastAccessedDetails answers IN_PROGRESS this many times first (default 1). */
  pollsInProgress?: number
  /** The job ends FAILED with this error. */
  failWith?: { code: string; message: string }
}

export interface AwsEmulatorOptions {
  accountId?: string
  /** Page size for IAM Marker pagination and Access Analyzer nextToken pagination (MaxItems/maxResults may lower it). */
  pageSize?: number
  /** IAM pages shorter than asked (IAM may return fewer than MaxItems while truncated). */
  partialPages?: boolean
  /** Emulated clock (epoch ms). Default: real time, or real time sped up by `timeScale` from start(). */
  now?: () => number
  timeScale?: number
  /** Job lifecycle: IN_PROGRESS for this many GetGeneratedPolicy polls (default 2) ... */
  pollsInProgress?: number
  /** ... or, when set, for this many ms of emulated time. */
  durationMs?: number
  /** The error a second concurrent StartPolicyGeneration gets (AWS does not document which). Default Conflict. */
  concurrencyError?: 'ConflictException' | 'ServiceQuotaExceededException'
  /** Starts allowed per emulated day (cancelled jobs count); default 50. */
  dailyQuota?: number
  /** Whether the daily-quota 402 names the daily quota ('daily', default) or says only "quota exceeded" ('plain'). */
  dailyQuotaMessage?: 'daily' | 'plain'
  /** Seed the Stratus Red Team account (default true). */
  seed?: boolean
  /** Generated policies are split at this many characters (white space excluded), as Access Analyzer does at 6,144. */
  maxPolicyCharacters?: number
  /** Told of every access key STS issues (a router of many accounts sends that key's requests here). */
  onCredentialsIssued?: (accessKeyId: string, accountId: string) => void
}

export interface OidcTrust {
  /** False: the account has no OIDC provider for GitHub (InvalidIdentityToken). */
  providerExists: boolean
  audience: string
  /** `*` glob the token's `sub` must match. */
  subject: string
}

interface RoleRecord {
  name: string
  path: string
  arn: string
  roleId: string
  createDate: string
  trustPolicy: string
  inline: Map<string, string>
  attached: string[]
  boundary?: string
  description?: string
  tags?: Record<string, string>
}

interface ManagedPolicyRecord {
  name: string
  arn: string
  path: string
  policyId: string
  defaultVersionId: string
  versions: Map<string, string>
  createDate: string
}

interface JobRecord {
  jobId: string
  principalArn: string
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'CANCELED'
  startedOn: number
  completedOn?: number
  trails: { cloudTrailArn: string; regions: string[]; allRegions: boolean }[]
  startTime: string
  endTime: string
  polls: number
  foreign: boolean
  /** Foreign jobs: ends after this much emulated time (undefined: runs until finishJob). */
  foreignDurationMs?: number
}

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/'
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/'
const DAY_MS = 24 * 3600 * 1000

/** A request value as text: strings as they are, anything else as its JSON. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value)
}
const PRINCIPAL_ARN = /^arn:[^:]*:iam::[^:]*:(role|user)\/.{1,576}$/
const TRAIL_ARN = /^arn:[^:]*:cloudtrail:[^:]*:[^:]*:trail\/.{1,576}$/

function escapeXml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function el(tag: string, content: string | number | boolean | undefined): string {
  if (content === undefined) return ''
  return `<${tag}>${typeof content === 'string' ? escapeXml(content) : String(content)}</${tag}>`
}

/** IAM percent-encodes documents (RFC 3986) and leaves `*` as is. */
function encodeDocument(text: string): string {
  return encodeURIComponent(text).replace(/%2A/g, '*')
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z')
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i')
}

/** The SDK for JavaScript v3 sends the service shape name, botocore the full target prefix; CloudTrail takes both. */
const CLOUDTRAIL_TARGET = /^(?:com\.amazonaws\.cloudtrail\.v20131101\.)?CloudTrail_20131101\.(\w+)$/

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly members: Record<string, unknown> = {},
    readonly retryAfterSeconds?: number
  ) {
    super(message)
  }
}

export class AwsEmulator {
  readonly accountId: string
  readonly requests: RequestLogEntry[] = []
  readonly oidc: OidcTrust = {
    providerExists: true,
    audience: 'sts.amazonaws.com',
    subject: 'repo:octo-org/octo-repo:*'
  }
  private readonly roles = new Map<string, RoleRecord>()
  private readonly policies = new Map<string, ManagedPolicyRecord>()
  private readonly scripts = new Map<string, GenerationScript>()
  private readonly jobs = new Map<string, JobRecord>()
  private readonly clientTokens = new Map<string, string>()
  private readonly faults: Fault[] = []
  private readonly trails: EmulatedTrail[] = []
  private readonly startTimes: number[] = []
  private readonly lastAccessedScripts = new Map<string, LastAccessedScript>()
  private readonly lastAccessedJobs = new Map<
    string,
    { principalArn: string; granularity: string; createdOn: number; polls: number }
  >()
  private newAccessVerdicts = 0
  /** Unused-access analyzers, their findings and recommendations (seed through this). */
  readonly unusedAccess: UnusedAccessEmulation
  /** IAM users and their policies (seed with users.addUser). */
  readonly users: IamUsersEmulation
  private readonly http = new LocalServer()
  private realStart = Date.now()
  private emulatedStart = Date.now()
  url = ''

  constructor(readonly options: AwsEmulatorOptions = {}) {
    this.accountId = options.accountId ?? '111122223333'
    this.unusedAccess = new UnusedAccessEmulation(
      this.accountId,
      () => this.now(),
      (status, code, message, members) => new HttpError(status, code, message, members),
      (items, token, limit) => this.page(items, token, limit)
    )
    this.users = new IamUsersEmulation({
      accountId: this.accountId,
      page: (items, params) => this.iamPage(items, params),
      raise: (status, code, message) => new HttpError(status, code, message),
      el,
      encode: encodeDocument
    })
    if (options.seed !== false) seedStratusAccount(this)
  }

  /** The emulated clock (epoch ms). */
  now(): number {
    if (this.options.now) return this.options.now()
    const scale = this.options.timeScale ?? 1
    return this.emulatedStart + (Date.now() - this.realStart) * scale
  }

  async start(): Promise<{ url: string }> {
    this.realStart = Date.now()
    this.emulatedStart = this.realStart
    this.url = await this.http.start((req, res) => this.handle(req, res))
    return { url: this.url }
  }

  async stop(): Promise<void> {
    await this.http.stop()
  }

  /** Environment for a child process (or process.env) pointing every AWS client here, with dummy credentials. */
  env(region = 'us-east-1'): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_ACCESSANALYZER: this.url,
      AWS_ENDPOINT_URL_IAM: this.url,
      AWS_ENDPOINT_URL_STS: this.url,
      AWS_ENDPOINT_URL_CLOUDTRAIL: this.url,
      AWS_REGION: region,
      AWS_ACCESS_KEY_ID: 'AKIAEMULATOREXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'emulator-secret-access-key'
    }
  }

  // ---- seeding ------------------------------------------------------------------------------------------------

  roleArn(name: string, path = '/'): string {
    return `arn:aws:iam::${this.accountId}:role${path}${name}`
  }

  addManagedPolicy(policy: { arn: string; document: string | object; path?: string }): void {
    const name = policy.arn.split('/').at(-1) ?? policy.arn
    const text =
      typeof policy.document === 'string' ? policy.document : JSON.stringify(policy.document, null, 4)
    this.policies.set(policy.arn, {
      name,
      arn: policy.arn,
      path: policy.path ?? '/',
      policyId: `ANPA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      defaultVersionId: 'v1',
      versions: new Map([['v1', text]]),
      createDate: '2023-01-01T00:00:00Z'
    })
  }

  addRole(role: {
    name: string
    path?: string
    inline?: Record<string, string | object>
    attached?: string[]
    boundary?: string
    generation?: GenerationScript
    /** Returned by GetRole (`Tags`), as CloudFormation's `aws:cloudformation:*` tags are. */
    tags?: Record<string, string>
  }): string {
    const path = role.path ?? '/'
    const arn = this.roleArn(role.name, path)
    const inline = new Map<string, string>()
    for (const [name, doc] of Object.entries(role.inline ?? {})) {
      inline.set(name, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2))
    }
    this.roles.set(role.name, {
      name: role.name,
      path,
      arn,
      roleId: `AROA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      createDate: '2023-01-01T00:00:00Z',
      trustPolicy: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      inline,
      attached: role.attached ?? [],
      ...(role.boundary ? { boundary: role.boundary } : {}),
      ...(role.tags ? { tags: role.tags } : {})
    })
    if (role.generation) this.scripts.set(arn, role.generation)
    return arn
  }

  /** Replaces what policy generation finds for a principal (and how its jobs behave). */
  setGeneration(principalArn: string, script: GenerationScript): void {
    this.scripts.set(principalArn, script)
  }

  /** What IAM last-accessed jobs (access advisor) report for a principal. */
  setLastAccessed(principalArn: string, script: LastAccessedScript): void {
    this.lastAccessedScripts.set(principalArn, script)
  }

  generation(principalArn: string): GenerationScript | undefined {
    return this.scripts.get(principalArn)
  }

  /** A job nobody in this run started (another workflow, a person at the console). */
  addForeignJob(job: {
    principalArn: string
    status?: JobRecord['status']
    startedOn?: number
    /** IN_PROGRESS until this much emulated time has passed since startedOn; undefined = until finishJob. */
    durationMs?: number
    trailArn?: string
    regions?: string[]
    window?: { start: string; end: string }
  }): string {
    const jobId = randomUUID()
    const startedOn = job.startedOn ?? this.now()
    const status = job.status ?? 'IN_PROGRESS'
    this.jobs.set(jobId, {
      jobId,
      principalArn: job.principalArn,
      status,
      startedOn,
      ...(status !== 'IN_PROGRESS' ? { completedOn: startedOn + 60_000 } : {}),
      trails: [
        {
          cloudTrailArn: job.trailArn ?? `arn:aws:cloudtrail:us-east-1:${this.accountId}:trail/other`,
          regions: job.regions ?? [],
          allRegions: (job.regions ?? []).length === 0
        }
      ],
      startTime: job.window?.start ?? iso(startedOn - 30 * DAY_MS),
      endTime: job.window?.end ?? iso(startedOn),
      polls: 0,
      foreign: true,
      ...(job.durationMs !== undefined ? { foreignDurationMs: job.durationMs } : {})
    })
    return jobId
  }

  /** Ends a job as if Access Analyzer (or someone at the console, for CANCELED) did. */
  finishJob(jobId: string, status: 'SUCCEEDED' | 'FAILED' | 'CANCELED' = 'SUCCEEDED'): void {
    const job = this.jobs.get(jobId)
    if (!job) throw new Error(`no job ${jobId}`)
    job.status = status
    job.completedOn = this.now()
  }

  jobStatus(jobId: string): JobRecord['status'] | undefined {
    this.refresh()
    return this.jobs.get(jobId)?.status
  }

  /** A trail CloudTrail's GetTrail and GetEventSelectors know (in this emulator's account). */
  addTrail(trail: EmulatedTrail): void {
    this.trails.push(trail)
  }

  private trailArn(trail: EmulatedTrail): string {
    return `arn:aws:cloudtrail:${trail.region}:${this.accountId}:trail/${trail.name}`
  }

  /** Queues an error response for an operation (throttling 429, 500, AccessDenied for one principal, ...). */
  fault(fault: Fault): void {
    this.faults.push({ ...fault, times: fault.times ?? 1 })
  }

  /**
   * The next `count` CheckNoNewAccess calls answer FAIL whatever the documents: Access Analyzer reasons over more
   * than any local approximation (resource types, condition keys), so a caller must handle a FAIL it did not expect.
   */
  findNewAccessInNextChecks(count = 1): void {
    this.newAccessVerdicts = count
  }

  clearFaults(): void {
    this.faults.length = 0
  }

  count(operation: string): number {
    return this.requests.filter(r => r.operation === operation).length
  }

  /** Job ids this emulator saw cancelled through CancelPolicyGeneration. */
  cancelledJobs(): string[] {
    return this.requests
      .filter(r => r.operation === 'CancelPolicyGeneration' && r.status === 200)
      .map(r => r.jobId ?? '')
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.dispatch(req, res, await readText(req))
  }

  /** Serves one request whose body was already read (by this emulator, or by a router of many accounts). */
  dispatch(req: IncomingMessage, res: ServerResponse, body: string): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    if (url.pathname.startsWith('/policy/')) return this.handleAccessAnalyzer(req, res, url, body)
    if (UnusedAccessEmulation.operationOf(req.method ?? 'GET', url.pathname))
      return this.handleAccessAnalyzer(req, res, url, body)
    const target = CLOUDTRAIL_TARGET.exec(String(req.headers['x-amz-target'] ?? ''))
    if (target?.[1]) return this.handleCloudTrail(req, res, target[1], body)
    return this.handleQuery(req, res, body)
  }

  private takeFault(operation: string, params: Record<string, unknown>): Fault | undefined {
    const fault = this.faults.find(
      f => f.operation === operation && (f.times ?? 0) > 0 && (!f.match || f.match(params))
    )
    if (fault) fault.times = (fault.times ?? 1) - 1
    return fault
  }

  private signed(req: IncomingMessage, service: string): boolean {
    const auth = req.headers.authorization ?? ''
    return auth.startsWith('AWS4-HMAC-SHA256 Credential=') && auth.includes(`/${service}/aws4_request`)
  }

  // ---- CloudTrail (awsJson1_1) -------------------------------------------------------------------------------------

  private handleCloudTrail(req: IncomingMessage, res: ServerResponse, operation: string, body: string): void {
    let params: Record<string, unknown> = {}
    const send = (status: number, payload: unknown): void => {
      this.requests.push({ service: 'cloudtrail', operation, status, params })
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.1',
        'x-amzn-requestid': randomUUID()
      })
      res.end(JSON.stringify(payload))
    }
    try {
      if (!this.signed(req, 'cloudtrail')) {
        throw new HttpError(400, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
      }
      if (req.headers['content-type'] !== 'application/x-amz-json-1.1') {
        throw new HttpError(400, 'SerializationException', 'expected Content-Type application/x-amz-json-1.1')
      }
      params = JSON.parse(body || '{}') as Record<string, unknown>
      const fault = this.takeFault(operation, params)
      if (fault) throw new HttpError(fault.status, fault.code, fault.message ?? fault.code)
      // Name or TrailName: a trail name or a trail ARN.
      const find = (value: unknown): EmulatedTrail => {
        const wanted = typeof value === 'string' ? value : ''
        const trail = this.trails.find(t => t.name === wanted || this.trailArn(t) === wanted)
        if (!trail)
          throw new HttpError(
            400,
            'TrailNotFoundException',
            `Unknown trail: ${wanted} for the user: ${this.accountId}`
          )
        return trail
      }
      if (operation === 'GetTrail') {
        const trail = find(params.Name)
        send(200, {
          Trail: {
            Name: trail.name,
            TrailARN: this.trailArn(trail),
            HomeRegion: trail.region,
            S3BucketName: `aws-cloudtrail-logs-${this.accountId}`,
            IsMultiRegionTrail: true,
            IncludeGlobalServiceEvents: true,
            LogFileValidationEnabled: true,
            IsOrganizationTrail: false,
            HasCustomEventSelectors: Boolean(trail.eventSelectors ?? trail.advancedEventSelectors),
            HasInsightSelectors: false
          }
        })
      } else if (operation === 'GetEventSelectors') {
        const trail = find(params.TrailName)
        send(200, {
          TrailARN: this.trailArn(trail),
          ...(trail.advancedEventSelectors
            ? { AdvancedEventSelectors: trail.advancedEventSelectors }
            : {
                EventSelectors: trail.eventSelectors ?? [
                  {
                    ReadWriteType: 'All',
                    IncludeManagementEvents: true,
                    DataResources: [],
                    ExcludeManagementEventSources: []
                  }
                ]
              })
        })
      } else {
        throw new HttpError(400, 'UnknownOperationException', `Unknown operation ${operation}`)
      }
    } catch (error) {
      const e = error instanceof HttpError ? error : new HttpError(500, 'InternalFailure', String(error))
      send(e.status, { __type: e.code, message: e.message })
    }
  }

  // ---- Access Analyzer (restJson1) --------------------------------------------------------------------------------

  private handleAccessAnalyzer(req: IncomingMessage, res: ServerResponse, url: URL, body: string): void {
    const method = req.method ?? 'GET'
    const path = url.pathname
    const query = Object.fromEntries(url.searchParams.entries())
    let operation = 'Unknown'
    let params: Record<string, unknown> = { ...query }
    let jobId: string | undefined
    const generation = /^\/policy\/generation\/([^/]+)$/.exec(path)
    if (path === '/policy/generation' && method === 'PUT') operation = 'StartPolicyGeneration'
    else if (path === '/policy/generation' && method === 'GET') operation = 'ListPolicyGenerations'
    else if (generation && method === 'GET') operation = 'GetGeneratedPolicy'
    else if (generation && method === 'PUT') operation = 'CancelPolicyGeneration'
    else if (path === '/policy/validation' && method === 'POST') operation = 'ValidatePolicy'
    else if (path === '/policy/check-no-new-access' && method === 'POST') operation = 'CheckNoNewAccess'
    if (generation?.[1]) jobId = decodeURIComponent(generation[1])
    const unusedAccess = UnusedAccessEmulation.operationOf(method, path)
    if (unusedAccess) operation = unusedAccess.operation

    const send = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      this.requests.push({
        service: 'access-analyzer',
        operation,
        status,
        params,
        ...(jobId ? { jobId } : {})
      })
      res.writeHead(status, {
        'content-type': 'application/json',
        'x-amzn-requestid': randomUUID(),
        ...headers
      })
      res.end(JSON.stringify(payload))
    }
    try {
      if (!this.signed(req, 'access-analyzer')) {
        throw new HttpError(403, 'MissingAuthenticationTokenException', 'Missing Authentication Token')
      }
      if (body) {
        try {
          params = { ...params, ...(JSON.parse(body) as Record<string, unknown>) }
        } catch {
          throw new HttpError(400, 'ValidationException', 'Request body is not valid JSON', {
            reason: 'cannotParse'
          })
        }
      }
      const fault = this.takeFault(operation, params)
      if (fault) {
        throw new HttpError(
          fault.status,
          fault.code,
          fault.message ?? fault.code,
          fault.members,
          fault.retryAfterSeconds
        )
      }
      switch (operation) {
        case 'StartPolicyGeneration': {
          const started = this.startPolicyGeneration(params)
          jobId = started
          return send(200, { jobId: started })
        }
        case 'ListPolicyGenerations':
          return send(200, this.listPolicyGenerations(query))
        case 'GetGeneratedPolicy':
          return send(200, this.getGeneratedPolicy(jobId ?? '', query))
        case 'CancelPolicyGeneration':
          this.cancelPolicyGeneration(jobId ?? '')
          return send(200, {})
        case 'ValidatePolicy':
          return send(200, this.validatePolicy(params, query))
        case 'CheckNoNewAccess':
          return send(200, this.checkNoNewAccess(params))
        default:
          if (unusedAccess) return send(200, this.unusedAccess.handle(operation, unusedAccess.id, params))
          throw new HttpError(404, 'UnknownOperationException', `${method} ${path} is not an operation`)
      }
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      const headers: Record<string, string> = {
        'x-amzn-errortype': `${error.code}:http://internal.amazon.com/coral/com.amazon.accessanalyzer/`
      }
      if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds)
      send(error.status, { message: error.message, ...error.members }, headers)
    }
  }

  private refresh(): void {
    const now = this.now()
    for (const job of this.jobs.values()) {
      if (job.status !== 'IN_PROGRESS') continue
      if (job.foreign) {
        if (job.foreignDurationMs !== undefined && now - job.startedOn >= job.foreignDurationMs) {
          job.status = 'SUCCEEDED'
          job.completedOn = job.startedOn + job.foreignDurationMs
        }
        continue
      }
      const script = this.scripts.get(job.principalArn)
      if (script?.stuck) continue
      const durationMs = script?.durationMs ?? this.options.durationMs
      const polls = script?.pollsInProgress ?? this.options.pollsInProgress ?? 2
      const done = durationMs !== undefined ? now - job.startedOn >= durationMs : job.polls >= polls
      if (done) {
        job.status = script?.failWith ? 'FAILED' : 'SUCCEEDED'
        job.completedOn = durationMs !== undefined ? job.startedOn + durationMs : now
      }
    }
  }

  private startPolicyGeneration(params: Record<string, unknown>): string {
    const details = params.policyGenerationDetails as { principalArn?: unknown } | undefined
    const principalArn = details?.principalArn
    if (typeof principalArn !== 'string' || !PRINCIPAL_ARN.test(principalArn)) {
      throw new HttpError(400, 'ValidationException', 'Invalid principalArn', {
        reason: 'fieldValidationFailed',
        fieldList: [{ name: 'policyGenerationDetails.principalArn', message: 'invalid' }]
      })
    }
    const trail = params.cloudTrailDetails as
      | {
          trails?: { cloudTrailArn?: unknown; regions?: unknown; allRegions?: unknown }[]
          accessRole?: unknown
          startTime?: unknown
          endTime?: unknown
        }
      | undefined
    if (
      !trail ||
      !Array.isArray(trail.trails) ||
      trail.trails.length === 0 ||
      typeof trail.accessRole !== 'string'
    ) {
      throw new HttpError(
        400,
        'ValidationException',
        'cloudTrailDetails with trails and accessRole is required',
        { reason: 'fieldValidationFailed' }
      )
    }
    for (const t of trail.trails) {
      if (typeof t.cloudTrailArn !== 'string' || !TRAIL_ARN.test(t.cloudTrailArn)) {
        throw new HttpError(400, 'ValidationException', 'Invalid cloudTrailArn', {
          reason: 'fieldValidationFailed'
        })
      }
    }
    // restJson1 timestamps are RFC 3339 strings on the wire.
    if (typeof trail.startTime !== 'string' || Number.isNaN(Date.parse(trail.startTime))) {
      throw new HttpError(400, 'ValidationException', 'startTime must be an RFC 3339 date-time string', {
        reason: 'cannotParse'
      })
    }
    if (
      trail.endTime !== undefined &&
      (typeof trail.endTime !== 'string' || Number.isNaN(Date.parse(trail.endTime)))
    ) {
      throw new HttpError(400, 'ValidationException', 'endTime must be an RFC 3339 date-time string', {
        reason: 'cannotParse'
      })
    }
    const now = this.now()
    if (Date.parse(trail.startTime) < now - 90 * DAY_MS - DAY_MS) {
      throw new HttpError(400, 'ValidationException', 'The CloudTrail time range cannot exceed 90 days', {
        reason: 'fieldValidationFailed'
      })
    }
    const token = typeof params.clientToken === 'string' ? params.clientToken : undefined
    const known = token ? this.clientTokens.get(token) : undefined
    if (known) return known

    this.refresh()
    const running = [...this.jobs.values()].find(j => j.status === 'IN_PROGRESS')
    if (running) {
      const code = this.options.concurrencyError ?? 'ConflictException'
      throw new HttpError(
        code === 'ConflictException' ? 409 : 402,
        code,
        code === 'ConflictException'
          ? 'A policy generation job is already in progress for this account and Region.'
          : 'Service quota exceeded: concurrent policy generations.',
        { resourceId: running.jobId, resourceType: 'PolicyGeneration' }
      )
    }
    const recentStarts = this.startTimes.filter(t => t > now - DAY_MS).length
    if (recentStarts >= (this.options.dailyQuota ?? 50)) {
      const daily = (this.options.dailyQuotaMessage ?? 'daily') === 'daily'
      throw new HttpError(
        402,
        'ServiceQuotaExceededException',
        daily ? 'Policy generation daily quota exceeded.' : 'Service quota exceeded.',
        { resourceId: this.accountId, resourceType: daily ? 'PolicyGenerationsPerDay' : 'PolicyGeneration' }
      )
    }
    this.startTimes.push(now)
    const jobId = randomUUID()
    if (token) this.clientTokens.set(token, jobId)
    this.jobs.set(jobId, {
      jobId,
      principalArn,
      status: 'IN_PROGRESS',
      startedOn: now,
      trails: trail.trails.map(t => {
        const regions = Array.isArray(t.regions) ? (t.regions as string[]) : []
        return {
          cloudTrailArn: t.cloudTrailArn as string,
          regions: t.allRegions === true ? [] : regions,
          allRegions: t.allRegions === true
        }
      }),
      startTime: iso(Date.parse(trail.startTime)),
      endTime: iso(typeof trail.endTime === 'string' ? Date.parse(trail.endTime) : now - 1000),
      polls: 0,
      foreign: false
    })
    return jobId
  }

  private page<T>(
    items: T[],
    token: string | undefined,
    limit: number | undefined
  ): { items: T[]; next?: string } {
    const size = Math.min(limit ?? Number.MAX_SAFE_INTEGER, this.options.pageSize ?? 100)
    const offset = token ? Number(Buffer.from(token, 'base64url').toString('utf8')) : 0
    if (!Number.isInteger(offset) || offset < 0)
      throw new HttpError(400, 'ValidationException', 'Invalid nextToken', { reason: 'other' })
    const slice = items.slice(offset, offset + size)
    const nextOffset = offset + slice.length
    return nextOffset < items.length
      ? { items: slice, next: Buffer.from(String(nextOffset)).toString('base64url') }
      : { items: slice }
  }

  private listPolicyGenerations(query: Record<string, string>): unknown {
    this.refresh()
    const since = this.now() - 7 * DAY_MS
    const jobs = [...this.jobs.values()]
      .filter(j => j.startedOn >= since && (!query.principalArn || j.principalArn === query.principalArn))
      .sort((a, b) => b.startedOn - a.startedOn)
    const { items, next } = this.page(
      jobs,
      query.nextToken,
      query.maxResults ? Number(query.maxResults) : undefined
    )
    return {
      policyGenerations: items.map(j => ({
        jobId: j.jobId,
        principalArn: j.principalArn,
        status: j.status,
        startedOn: iso(j.startedOn),
        ...(j.completedOn !== undefined ? { completedOn: iso(j.completedOn) } : {})
      })),
      ...(next ? { nextToken: next } : {})
    }
  }

  private getGeneratedPolicy(jobId: string, query: Record<string, string>): unknown {
    const job = this.jobs.get(jobId)
    if (!job)
      throw new HttpError(400, 'ValidationException', `Invalid jobId ${jobId}`, {
        reason: 'fieldValidationFailed'
      })
    if (job.status === 'IN_PROGRESS') job.polls++
    this.refresh()
    const script = this.scripts.get(job.principalArn)
    const jobError = job.status === 'FAILED' && script?.failWith ? script.failWith : undefined
    const policies =
      job.status === 'SUCCEEDED'
        ? this.generatedPolicies(
            script,
            query.includeResourcePlaceholders === 'true',
            query.includeServiceLevelTemplate === 'true'
          )
        : []
    return {
      jobDetails: {
        jobId,
        status: job.status,
        startedOn: iso(job.startedOn),
        ...(job.completedOn !== undefined ? { completedOn: iso(job.completedOn) } : {}),
        ...(jobError ? { jobError } : {})
      },
      generatedPolicyResult: {
        properties: {
          ...(job.status === 'SUCCEEDED' ? { isComplete: script?.isComplete ?? true } : {}),
          principalArn: job.principalArn,
          cloudTrailProperties: {
            trailProperties: job.trails,
            startTime: job.startTime,
            endTime: job.endTime
          }
        },
        generatedPolicies: policies.map(policy => ({ policy }))
      }
    }
  }

  /** Statements the way Access Analyzer writes them: `SupportedServiceSid<N>`, `*` actions first, then one per ARN template. */
  private generatedPolicies(
    script: GenerationScript | undefined,
    placeholders: boolean,
    serviceLevel: boolean
  ): string[] {
    const byResource = new Map<string, Set<string>>()
    for (const { action, resources } of script?.actions ?? []) {
      for (const resource of placeholders ? (resources ?? ['*']) : ['*']) {
        const set = byResource.get(resource) ?? new Set<string>()
        set.add(action)
        byResource.set(resource, set)
      }
    }
    const ordered = [...byResource.entries()].sort(([a], [b]) =>
      a === '*' ? -1 : b === '*' ? 1 : a.localeCompare(b)
    )
    const statements: Record<string, unknown>[] = ordered.map(([resource, actions], i) => {
      const list = [...actions].sort()
      return {
        Sid: `SupportedServiceSid${i}`,
        Effect: 'Allow',
        Action: list.length === 1 ? list[0] : list,
        Resource: resource
      }
    })
    if (serviceLevel && script?.serviceLevel?.length) {
      // Assumed shape: AWS documents no example of the service-level template.
      const list = script.serviceLevel.map(s => `${s}:*`).sort()
      statements.push({
        Sid: 'ServiceLevelSid0',
        Effect: 'Allow',
        Action: list.length === 1 ? list[0] : list,
        Resource: '*'
      })
    }
    const max = this.options.maxPolicyCharacters ?? 6144
    const documents: Record<string, unknown>[][] = [[]]
    for (const statement of statements) {
      const current = documents.at(-1) ?? []
      const size = JSON.stringify({ Version: '2012-10-17', Statement: [...current, statement] }).length
      if (current.length > 0 && size > max) documents.push([statement])
      else current.push(statement)
    }
    return documents.map(Statement => JSON.stringify({ Version: '2012-10-17', Statement }))
  }

  private cancelPolicyGeneration(jobId: string): void {
    const job = this.jobs.get(jobId)
    if (!job)
      throw new HttpError(400, 'ValidationException', `Invalid jobId ${jobId}`, {
        reason: 'fieldValidationFailed'
      })
    this.refresh()
    if (job.status === 'IN_PROGRESS') {
      job.status = 'CANCELED'
      job.completedOn = this.now()
    }
  }

  private validatePolicy(params: Record<string, unknown>, query: Record<string, string>): unknown {
    if (typeof params.policyDocument !== 'string' || params.policyType === undefined) {
      throw new HttpError(400, 'ValidationException', 'policyDocument and policyType are required', {
        reason: 'fieldValidationFailed'
      })
    }
    const findings: Record<string, unknown>[] = []
    const finding = (
      findingType: string,
      issueCode: string,
      findingDetails: string,
      path: unknown[]
    ): void => {
      findings.push({
        findingType,
        issueCode,
        findingDetails,
        learnMoreLink: `https://docs.aws.amazon.com/IAM/latest/UserGuide/access-analyzer-reference-policy-checks.html#access-analyzer-reference-policy-checks-${findingType.toLowerCase().replace('_', '-')}-${issueCode.toLowerCase().replace(/_/g, '-')}`,
        locations: [
          { path, span: { start: { line: 1, column: 0, offset: 0 }, end: { line: 1, column: 1, offset: 1 } } }
        ]
      })
    }
    let doc: { Version?: unknown; Statement?: unknown }
    try {
      doc = JSON.parse(params.policyDocument) as typeof doc
    } catch {
      finding('ERROR', 'JSON_SYNTAX_ERROR', 'Fix the JSON syntax error.', [])
      doc = {}
    }
    if (doc.Version === undefined && findings.length === 0)
      finding('SUGGESTION', 'MISSING_VERSION', 'Add a Version element.', [])
    const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : []
    statements.forEach((s: { Action?: unknown; Resource?: unknown; Effect?: unknown }, i: number) => {
      const actions = Array.isArray(s.Action) ? s.Action : s.Action === undefined ? [] : [s.Action]
      const resources = Array.isArray(s.Resource) ? s.Resource : [s.Resource]
      if (Array.isArray(s.Action) && s.Action.length === 0) {
        finding('SUGGESTION', 'EMPTY_ARRAY_ACTION', 'Add an action to the empty array.', [
          { value: 'Statement' },
          { index: i },
          { value: 'Action' }
        ])
      }
      if (
        s.Effect === 'Allow' &&
        actions.some(a => /^iam:(PassRole|\*)$/i.test(String(a))) &&
        resources.includes('*')
      ) {
        finding(
          'SECURITY_WARNING',
          'PASS_ROLE_WITH_STAR_IN_RESOURCE',
          'Using the iam:PassRole action with wildcards (*) in the resource can be overly permissive.',
          [{ value: 'Statement' }, { index: i }, { value: 'Resource' }]
        )
      }
    })
    const { items, next } = this.page(
      findings,
      query.nextToken,
      query.maxResults ? Number(query.maxResults) : undefined
    )
    return { findings: items, ...(next ? { nextToken: next } : {}) }
  }

  /**
   * An approximation of CheckNoNewAccess on identity policies: every (action, resource) pair of a new Allow must be
   * allowed by an existing Allow (by `*` glob; an existing Condition only covers the identical Condition; NotAction and
   * NotResource statements only by an identical statement), and every existing Deny must still be there.
   */
  private checkNoNewAccess(params: Record<string, unknown>): unknown {
    if (
      typeof params.newPolicyDocument !== 'string' ||
      typeof params.existingPolicyDocument !== 'string' ||
      params.policyType === undefined
    ) {
      throw new HttpError(
        400,
        'ValidationException',
        'newPolicyDocument, existingPolicyDocument and policyType are required',
        { reason: 'fieldValidationFailed' }
      )
    }
    const parse = (text: string, which: string): Record<string, unknown>[] => {
      try {
        const doc = JSON.parse(text) as { Statement?: unknown }
        return (Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement]) as Record<string, unknown>[]
      } catch {
        throw new HttpError(
          400,
          'InvalidParameterException',
          `The ${which} policy document is not valid JSON.`
        )
      }
    }
    const fresh = parse(params.newPolicyDocument, 'new')
    const existing = parse(params.existingPolicyDocument, 'existing')
    const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(text) : v === undefined ? [] : [text(v)])
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b)
    const matches = (patterns: string[], value: string): boolean =>
      patterns.some(p => p === value || globToRegExp(p).test(value))
    // Each (action, resource) pair of a new Allow must be allowed by some existing Allow.
    const covered = (s: Record<string, unknown>): boolean => {
      if (s.NotAction !== undefined || s.NotResource !== undefined) {
        return existing.some(e => same({ ...e, Sid: undefined }, { ...s, Sid: undefined }))
      }
      return list(s.Action).every(action =>
        list(s.Resource).every(resource =>
          existing.some(
            e =>
              e.Effect === 'Allow' &&
              e.NotAction === undefined &&
              e.NotResource === undefined &&
              (e.Condition === undefined || same(e.Condition, s.Condition)) &&
              matches(list(e.Action), action) &&
              matches(list(e.Resource), resource)
          )
        )
      )
    }
    const reasons: Record<string, unknown>[] = []
    fresh.forEach((s, i) => {
      if (s.Effect === 'Allow' && !covered(s)) {
        reasons.push({
          description: `New access in the statement with index: ${i}.`,
          statementIndex: i,
          ...(typeof s.Sid === 'string' ? { statementId: s.Sid } : {})
        })
      }
    })
    existing.forEach((e, i) => {
      if (e.Effect === 'Deny' && !fresh.some(s => same({ ...s, Sid: undefined }, { ...e, Sid: undefined }))) {
        reasons.push({ description: `The Deny statement with index ${i} of the existing policy is missing.` })
      }
    })
    if (this.newAccessVerdicts > 0) {
      this.newAccessVerdicts--
      reasons.push({
        description: 'The new policy grants access to a resource the existing policy does not.'
      })
    }
    return reasons.length === 0
      ? {
          result: 'PASS',
          message: 'The modified permissions do not grant new access compared to your existing policy.',
          reasons: []
        }
      : {
          result: 'FAIL',
          message: 'The modified permissions grant new access compared to your existing policy.',
          reasons
        }
  }

  // ---- IAM and STS (awsQuery, XML) -------------------------------------------------------------------------------

  private handleQuery(req: IncomingMessage, res: ServerResponse, body: string): void {
    const form = new URLSearchParams(body)
    const params = Object.fromEntries(form.entries())
    const operation = params.Action ?? 'Unknown'
    const service: EmulatedService = params.Version === '2011-06-15' ? 'sts' : 'iam'
    const ns = service === 'sts' ? STS_NS : IAM_NS
    const send = (status: number, xml: string): void => {
      this.requests.push({ service, operation, status, params })
      res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': randomUUID() }).end(xml)
    }
    try {
      if (req.method !== 'POST') throw new HttpError(400, 'InvalidAction', 'awsQuery requests are POST')
      const unsigned = service === 'sts' && operation === 'AssumeRoleWithWebIdentity'
      if (!unsigned && !this.signed(req, service)) {
        throw new HttpError(403, 'MissingAuthenticationToken', 'Request is missing Authentication Token')
      }
      const fault = this.takeFault(operation, params)
      if (fault) throw new HttpError(fault.status, fault.code, fault.message ?? fault.code)
      const result = service === 'sts' ? this.sts(operation, params) : this.iam(operation, params)
      send(
        200,
        `<${operation}Response xmlns="${ns}"><${operation}Result>${result}</${operation}Result>` +
          `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${operation}Response>`
      )
    } catch (error) {
      if (!(error instanceof HttpError)) throw error
      send(
        error.status,
        `<ErrorResponse xmlns="${ns}"><Error><Type>${error.status >= 500 ? 'Receiver' : 'Sender'}</Type>` +
          `${el('Code', error.code)}${el('Message', error.message)}</Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`
      )
    }
  }

  /** Marker pagination: Marker only on truncated pages (v3 paginators stop only when it is missing). */
  private iamPage<T>(items: T[], params: Record<string, string>): { items: T[]; tail: string } {
    const asked = params.MaxItems ? Number(params.MaxItems) : 100
    let size = Math.min(asked, this.options.pageSize ?? 100)
    const offset = params.Marker
      ? Number(Buffer.from(params.Marker, 'base64url').toString('utf8').replace('m', ''))
      : 0
    if (!Number.isInteger(offset) || offset < 0) throw new HttpError(400, 'InvalidInput', 'Invalid Marker.')
    if (this.options.partialPages) size = Math.max(1, Math.min(size, 1 + (offset % 2)))
    const slice = items.slice(offset, offset + size)
    const next = offset + slice.length
    const truncated = next < items.length
    return {
      items: slice,
      tail: truncated
        ? `<IsTruncated>true</IsTruncated>${el('Marker', Buffer.from(`m${next}`).toString('base64url'))}`
        : '<IsTruncated>false</IsTruncated>'
    }
  }

  private role(name: string | undefined): RoleRecord {
    const role = name ? this.roles.get(name) : undefined
    if (!role) throw new HttpError(404, 'NoSuchEntity', `The role with name ${name ?? ''} cannot be found.`)
    return role
  }

  private roleXml(role: RoleRecord, full: boolean): string {
    return (
      el('Path', role.path) +
      el('RoleName', role.name) +
      el('RoleId', role.roleId) +
      el('Arn', role.arn) +
      el('CreateDate', role.createDate) +
      el('AssumeRolePolicyDocument', encodeDocument(role.trustPolicy)) +
      el('MaxSessionDuration', 3600) +
      (full && role.boundary
        ? `<PermissionsBoundary>${el('PermissionsBoundaryType', 'PermissionsBoundaryPolicy')}${el('PermissionsBoundaryArn', role.boundary)}</PermissionsBoundary>`
        : '') +
      (full ? '<RoleLastUsed/>' : '') +
      (full && role.tags
        ? `<Tags>${Object.entries(role.tags)
            .sort(([a], [b]) => (a < b ? -1 : 1))
            .map(([k, v]) => `<member>${el('Key', k)}${el('Value', v)}</member>`)
            .join('')}</Tags>`
        : '')
    )
  }

  private managed(arn: string | undefined): ManagedPolicyRecord {
    const policy = arn ? this.policies.get(arn) : undefined
    if (!policy)
      throw new HttpError(404, 'NoSuchEntity', `Policy ${arn ?? ''} does not exist or is not attachable.`)
    return policy
  }

  private iam(operation: string, p: Record<string, string>): string {
    switch (operation) {
      case 'GenerateServiceLastAccessedDetails':
        return this.generateServiceLastAccessedDetails(p)
      case 'GetServiceLastAccessedDetails':
        return this.getServiceLastAccessedDetails(p)
      case 'ListRoles': {
        const prefix = p.PathPrefix ?? '/'
        const roles = [...this.roles.values()].filter(r => r.path.startsWith(prefix))
        const { items, tail } = this.iamPage(roles, p)
        return `<Roles>${items.map(r => `<member>${this.roleXml(r, false)}</member>`).join('')}</Roles>${tail}`
      }
      case 'GetRole':
        return `<Role>${this.roleXml(this.role(p.RoleName), true)}</Role>`
      case 'ListAttachedRolePolicies': {
        const role = this.role(p.RoleName)
        const { items, tail } = this.iamPage(role.attached, p)
        const members = items.map(
          arn => `<member>${el('PolicyName', arn.split('/').at(-1))}${el('PolicyArn', arn)}</member>`
        )
        return `<AttachedPolicies>${members.join('')}</AttachedPolicies>${tail}`
      }
      case 'ListRolePolicies': {
        const role = this.role(p.RoleName)
        const { items, tail } = this.iamPage([...role.inline.keys()], p)
        return `${items.length ? `<PolicyNames>${items.map(n => el('member', n)).join('')}</PolicyNames>` : '<PolicyNames/>'}${tail}`
      }
      case 'GetRolePolicy': {
        const role = this.role(p.RoleName)
        const doc = role.inline.get(p.PolicyName ?? '')
        if (doc === undefined)
          throw new HttpError(
            404,
            'NoSuchEntity',
            `The role policy with name ${p.PolicyName ?? ''} cannot be found.`
          )
        return (
          el('RoleName', role.name) +
          el('PolicyName', p.PolicyName) +
          el('PolicyDocument', encodeDocument(doc))
        )
      }
      case 'GetPolicy': {
        const policy = this.managed(p.PolicyArn)
        const attachments = [...this.roles.values()].filter(r => r.attached.includes(policy.arn)).length
        return (
          `<Policy>${el('PolicyName', policy.name)}${el('PolicyId', policy.policyId)}${el('Arn', policy.arn)}${el('Path', policy.path)}` +
          `${el('DefaultVersionId', policy.defaultVersionId)}${el('AttachmentCount', attachments)}${el('PermissionsBoundaryUsageCount', 0)}` +
          `${el('IsAttachable', true)}${el('CreateDate', policy.createDate)}${el('UpdateDate', policy.createDate)}</Policy>`
        )
      }
      case 'GetPolicyVersion': {
        const policy = this.managed(p.PolicyArn)
        const doc = policy.versions.get(p.VersionId ?? '')
        if (doc === undefined)
          throw new HttpError(
            404,
            'NoSuchEntity',
            `Policy ${policy.arn} version ${p.VersionId ?? ''} does not exist.`
          )
        return (
          `<PolicyVersion>${el('Document', encodeDocument(doc))}${el('VersionId', p.VersionId)}` +
          `${el('IsDefaultVersion', p.VersionId === policy.defaultVersionId)}${el('CreateDate', policy.createDate)}</PolicyVersion>`
        )
      }
      default: {
        const user = this.users.handle(operation, p)
        if (user !== undefined) return user
        throw new HttpError(
          400,
          'InvalidAction',
          `Could not find operation ${operation} for version 2010-05-08`
        )
      }
    }
  }

  /** IAM last-accessed jobs: `Arn` a role, user or policy; `Granularity` SERVICE_LEVEL (default) or ACTION_LEVEL. */
  private generateServiceLastAccessedDetails(p: Record<string, string>): string {
    const arn = p.Arn ?? ''
    if (arn.length < 20 || !/^arn:[^:]+:iam::[^:]*:(role|user|group|policy)\//.test(arn))
      throw new HttpError(400, 'InvalidInput', `ARN ${arn} is not valid.`)
    const granularity = p.Granularity ?? 'SERVICE_LEVEL'
    if (granularity !== 'SERVICE_LEVEL' && granularity !== 'ACTION_LEVEL')
      throw new HttpError(400, 'InvalidInput', `Granularity ${granularity} is not valid.`)
    const known = this.lastAccessedScripts.has(arn) || [...this.roles.values()].some(r => r.arn === arn)
    if (!known) throw new HttpError(404, 'NoSuchEntity', `The entity ${arn} cannot be found.`)
    const jobId = randomUUID()
    this.lastAccessedJobs.set(jobId, { principalArn: arn, granularity, createdOn: this.now(), polls: 0 })
    return el('JobId', jobId)
  }

  private getServiceLastAccessedDetails(p: Record<string, string>): string {
    const job = this.lastAccessedJobs.get(p.JobId ?? '')
    if (!job) throw new HttpError(404, 'NoSuchEntity', `The job with ID ${p.JobId ?? ''} cannot be found.`)
    const script = this.lastAccessedScripts.get(job.principalArn) ?? { services: [] }
    const head = el('JobType', job.granularity) + el('JobCreationDate', iso(job.createdOn))
    job.polls++
    if (job.polls <= (script.pollsInProgress ?? 1))
      return `${el('JobStatus', 'IN_PROGRESS')}${head}<ServicesLastAccessed/><IsTruncated>false</IsTruncated>`
    const done = el('JobCompletionDate', iso(job.createdOn + 1000))
    if (script.failWith)
      return (
        `${el('JobStatus', 'FAILED')}${head}${done}<ServicesLastAccessed/><IsTruncated>false</IsTruncated>` +
        `<Error>${el('Message', script.failWith.message)}${el('Code', script.failWith.code)}</Error>`
      )
    const { items, tail } = this.iamPage(script.services, p)
    const actionLevel = job.granularity === 'ACTION_LEVEL'
    const members = items.map(s => {
      const used = s.lastAuthenticated !== undefined
      const tracked =
        actionLevel && s.tracked
          ? `<TrackedActionsLastAccessed>${s.tracked
              .map(
                t =>
                  `<member>${el('ActionName', t.action)}` +
                  (t.lastAccessed
                    ? el('LastAccessedEntity', job.principalArn) +
                      el('LastAccessedTime', t.lastAccessed) +
                      el('LastAccessedRegion', s.region ?? 'us-east-1')
                    : '') +
                  '</member>'
              )
              .join('')}</TrackedActionsLastAccessed>`
          : ''
      return (
        `<member>${el('ServiceName', s.name ?? s.namespace)}${el('ServiceNamespace', s.namespace)}` +
        (used
          ? el('LastAuthenticated', s.lastAuthenticated) +
            el('LastAuthenticatedEntity', job.principalArn) +
            el('LastAuthenticatedRegion', s.region ?? 'us-east-1')
          : '') +
        el('TotalAuthenticatedEntities', used ? 1 : 0) +
        `${tracked}</member>`
      )
    })
    return `${el('JobStatus', 'COMPLETED')}${head}${done}<ServicesLastAccessed>${members.join('')}</ServicesLastAccessed>${tail}`
  }

  private sts(operation: string, p: Record<string, string>): string {
    if (operation === 'GetCallerIdentity') {
      return (
        el('Arn', `arn:aws:iam::${this.accountId}:user/emulator`) +
        el('UserId', 'AIDAEMULATOR') +
        el('Account', this.accountId)
      )
    }
    if (operation === 'AssumeRole') return this.assumeRole(p)
    if (operation !== 'AssumeRoleWithWebIdentity') {
      throw new HttpError(
        400,
        'InvalidAction',
        `Could not find operation ${operation} for version 2011-06-15`
      )
    }
    const claims = decodeJwt(p.WebIdentityToken ?? '')
    if (!claims)
      throw new HttpError(
        400,
        'InvalidIdentityToken',
        "Couldn't retrieve verification key from your identity provider"
      )
    if (!this.oidc.providerExists || claims.iss !== GITHUB_OIDC_ISSUER) {
      throw new HttpError(
        400,
        'InvalidIdentityToken',
        `No OpenIDConnect provider found in your account for ${claims.iss}`
      )
    }
    if (claims.aud !== this.oidc.audience)
      throw new HttpError(400, 'InvalidIdentityToken', 'Incorrect token audience')
    if (claims.exp * 1000 < this.now())
      throw new HttpError(
        400,
        'ExpiredTokenException',
        'Token expired: current date/time is after the exp claim'
      )
    const role = [...this.roles.values()].find(r => r.arn === p.RoleArn)
    if (!role || !globToRegExp(this.oidc.subject).test(claims.sub)) {
      throw new HttpError(403, 'AccessDenied', 'Not authorized to perform sts:AssumeRoleWithWebIdentity')
    }
    return (
      el('SubjectFromWebIdentityToken', claims.sub) +
      el('Audience', claims.aud) +
      this.issue(role, p) +
      el('Provider', `arn:aws:iam::${this.accountId}:oidc-provider/token.actions.githubusercontent.com`)
    )
  }

  /** The assumed-role user and fresh credentials, as both AssumeRole operations answer. */
  private issue(role: RoleRecord, p: Record<string, string>): string {
    const session = p.RoleSessionName ?? 'session'
    if (!/^[\w+=,.@-]{2,64}$/.test(session))
      throw new HttpError(
        400,
        'ValidationError',
        `1 validation error detected: Value '${session}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`
      )
    const expiration = iso(this.now() + Number(p.DurationSeconds ?? 3600) * 1000)
    const accessKeyId = `ASIA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`
    this.options.onCredentialsIssued?.(accessKeyId, this.accountId)
    return (
      `<AssumedRoleUser>${el('Arn', `arn:aws:sts::${this.accountId}:assumed-role/${role.name}/${session}`)}${el('AssumedRoleId', `${role.roleId}:${session}`)}</AssumedRoleUser>` +
      `<Credentials>${el('AccessKeyId', accessKeyId)}` +
      `${el('SecretAccessKey', randomUUID() + randomUUID())}${el('SessionToken', `FwoG${randomUUID()}${randomUUID()}`)}${el('Expiration', expiration)}</Credentials>`
    )
  }

  /**
   * sts:AssumeRole from another session (signed). Session tags (Tags.member.N.Key/Value) are checked as STS does:
   * at most 50, keys of 1 to 128 and values of at most 256 characters of letters, digits, spaces and _.:/=+-@.
   */
  private assumeRole(p: Record<string, string>): string {
    const role = [...this.roles.values()].find(r => r.arn === p.RoleArn)
    if (!role)
      throw new HttpError(
        403,
        'AccessDenied',
        `Not authorized to perform sts:AssumeRole on ${p.RoleArn ?? ''}`
      )
    const tag = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u
    for (let i = 1; p[`Tags.member.${i}.Key`] !== undefined; i++) {
      const key = p[`Tags.member.${i}.Key`] ?? ''
      const value = p[`Tags.member.${i}.Value`] ?? ''
      if (
        i > 50 ||
        !tag.test(key) ||
        key.length < 1 ||
        key.length > 128 ||
        !tag.test(value) ||
        value.length > 256
      )
        throw new HttpError(
          400,
          'ValidationError',
          `Tags.member.${i} does not satisfy the session tag constraints`
        )
    }
    return this.issue(role, p)
  }
}
