import { errorMessage } from './error-message.js'
import { AccessAnalyzerClient } from '@aws-sdk/client-accessanalyzer'
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail'
import { IAMClient } from '@aws-sdk/client-iam'
import type { S3Client } from '@aws-sdk/client-s3'
import { readFile, stat } from 'node:fs/promises'
import { checkNoNewAccess, validateProposedPolicies } from './aws/checks.js'
import { resolveCredentials } from './aws/credentials.js'
import { sessionName } from './aws/session-name.js'
import type { TemporaryCredentials } from './aws/credentials.js'
import { GrantedPolicyReader, resolveRoles } from './aws/iam.js'
import { describeAwsError } from './aws/retry.js'
import { readTrailLogging, trailRegion } from './aws/trail.js'
import type { Config } from './config.js'
import { ConfigError, isRoleArn, policyPathFor } from './config.js'
import { editability } from './granted/editability.js'
import { parseAuthorizationDetails, parsePolicyFile } from './granted/policy-file.js'
import { discoverPolicyFiles, isSafePathSegment, readWorkspaceFile } from './granted/workspace-file.js'
import type { WorkspaceFile } from './granted/workspace-file.js'
import type { Logger } from './logger.js'
import type {
  GrantedPolicy,
  PullRequestChange,
  RoleSelector,
  ProposalChecks,
  ReportV1,
  RoleGrants,
  RoleResult,
  RoleUsage,
  TrailLogging
} from './model.js'
import { DAY_MS } from './model.js'
import { addedAccess, canonicalJson } from './policy/added-access.js'
import { analyzeRole } from './policy/analyze.js'
import type { AnalyzeOptions } from './policy/analyze.js'
import { normalizePolicy } from './policy/document.js'
import type { NormalizedStatement } from './policy/document.js'
import { policyDiff } from './policy/diff.js'
import { judgeEvidence } from './policy/evidence.js'
import { proposePolicies } from './policy/propose.js'
import { buildReport } from './report/json.js'
import { NO_EXCESS, compactExcess } from './policy/excess.js'
import {
  accountFromArn,
  canonicalRoleArns,
  roleKey,
  roleNameFromArn,
  selectorMatches,
  selectRoles
} from './roles.js'
import type { KnownRole } from './roles.js'
import { createTrailS3Client } from './usage/cloudtrail/s3-files.js'
import { scanCloudTrail } from './usage/cloudtrail/scan.js'
import type { CloudTrailScan } from './usage/cloudtrail/scan.js'
import { runPolicyGenerations } from './usage/generation-scheduler.js'

export interface RunDeps {
  log: Logger
  now?: () => Date
  /** Aborted when the job is cancelled (SIGINT/SIGTERM): in-flight generation jobs we started are cancelled. */
  signal?: AbortSignal
  /** GitHub OIDC token source (the action passes core.getIDToken). */
  getIdToken?: (audience: string) => Promise<string>
  /** Where granted-source files are read (GITHUB_WORKSPACE); default the working directory. */
  workspace?: string
  env?: NodeJS.ProcessEnv
  /**
   * When cloudtrail-path holds no CloudTrail log file: 'error' stops the run with a ConfigError (the CLI: bad
   * usage); 'insufficient-evidence' (default) judges every role so and names the path (the action still publishes).
   */
  noLogFiles?: 'error' | 'insufficient-evidence'
  /** On a pull request: its base commit, and how to read a repository file as that commit has it. */
  base?: { sha: string; read: (path: string) => Promise<WorkspaceFile> }
  /**
   * The run judges a pull request: the workspace's policy files are its author's. Even when the base cannot be
   * read, no keep-Sid statement of those files is trusted and no file under policy-path is left unjudged.
   */
  pullRequest?: boolean
}

/** A role on its way through the pipeline: it ends as exactly one RoleResult. */
interface RoleCase {
  arn: string
  name: string
  accountId: string
  grants?: RoleGrants
  /** The grants came from the role's policy file in the repository (policy-path). */
  fromRepositoryFile?: boolean
  /** Known before any grants are read (service-linked and IAM Identity Center roles). */
  notEditableReason?: string
  /** Set once the role cannot go further. */
  outcome?: { status: 'failed' | 'skipped' | 'insufficient-evidence'; reason: string }
  usage?: RoleUsage
  /** A policy file under policy-path for a role that does not exist or is not listed: judged by risk only. */
  unverifiedReason?: string
}

class AwsSession {
  private credentials?: Promise<TemporaryCredentials | undefined>
  private iamClient?: IAMClient
  private analyzerClient?: AccessAnalyzerClient
  used = false

  constructor(
    private readonly config: Config,
    private readonly deps: RunDeps
  ) {}

  private creds(): Promise<TemporaryCredentials | undefined> {
    this.used = true
    this.credentials ??= resolveCredentials({
      roleToAssume: this.config.roleToAssume,
      audience: this.config.audience,
      sessionName: sessionName(
        this.config.roleSessionName,
        this.deps.env?.GITHUB_REPOSITORY,
        this.deps.env?.GITHUB_RUN_ID
      ),
      durationSeconds: this.config.roleDurationSeconds,
      region: this.config.awsRegion,
      getIdToken:
        this.deps.getIdToken ??
        (() =>
          Promise.reject(
            new Error('role-to-assume needs a GitHub OIDC token, which only exists inside GitHub Actions')
          )),
      log: this.deps.log,
      env: this.deps.env
    })
    return this.credentials
  }

  private async clientConfig(): Promise<{ region: string; credentials?: TemporaryCredentials }> {
    const credentials = await this.creds()
    return { region: this.config.awsRegion, ...(credentials ? { credentials } : {}) }
  }

  async iam(): Promise<IAMClient> {
    const config = await this.clientConfig()
    this.iamClient ??= new IAMClient(config)
    return this.iamClient
  }

  async s3(): Promise<S3Client> {
    return createTrailS3Client(await this.clientConfig())
  }

  async cloudtrail(region: string): Promise<CloudTrailClient> {
    return new CloudTrailClient({ ...(await this.clientConfig()), region })
  }

  async analyzer(): Promise<AccessAnalyzerClient> {
    const config = await this.clientConfig()
    this.analyzerClient ??= new AccessAnalyzerClient(config)
    return this.analyzerClient
  }
}

/**
 * A file the user named: a regular file (a pipe or device could block the read forever), read without blocking the
 * event loop so a signal still ends the run. Any problem is bad usage.
 */
async function readInputFile(file: string, option: string): Promise<string> {
  const input = option.replace(/^--/, '')
  try {
    if (!(await stat(file)).isFile())
      throw new ConfigError(input, `${option} ${file} is not a regular file; give a JSON file`)
    return await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError(
      input,
      `${option} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); check the path`
    )
  }
}

/** Parses a file the user named; a file that is not what the option takes is bad usage too. */
function parsedInput<T>(option: string, parse: () => T): T {
  try {
    return parse()
  } catch (e) {
    throw new ConfigError(option.replace(/^--/, ''), errorMessage(e))
  }
}

/** The whole job: roles -> granted + usage -> analysis -> proposals -> the version-1 report. */
export async function runAnalysis(config: Config, deps: RunDeps): Promise<ReportV1> {
  const now = deps.now ?? (() => new Date())
  const startedAt = now()
  const deadline = new Date(startedAt.getTime() + config.timeoutMinutes * 60_000)
  const log = deps.log
  const aws = new AwsSession(config, deps)

  const fileGrants: GrantedPolicy[] = []
  for (const file of config.policyFiles) {
    const text = await readInputFile(file, '--policy')
    fileGrants.push(...parsedInput('--policy', () => parsePolicyFile(text, file)))
  }
  let exported: ReturnType<typeof parseAuthorizationDetails> | undefined
  const detailsFile = config.authorizationDetails
  if (detailsFile) {
    const text = await readInputFile(detailsFile, '--authorization-details')
    exported = parsedInput('--authorization-details', () => parseAuthorizationDetails(text, detailsFile))
  }

  const scan =
    config.source === 'cloudtrail'
      ? await scanCloudTrail(
          {
            path: config.cloudtrailPath ?? '',
            roles: [],
            since:
              config.since ??
              (config.cloudtrailPath?.startsWith('s3://')
                ? lookbackStart(startedAt, config.lookbackDays)
                : undefined),
            until: config.until,
            regions: [...config.trailRegions]
          },
          {
            onProgress: message => log.info(message),
            signal: deps.signal,
            ...(config.cloudtrailPath?.startsWith('s3://') ? { s3Client: await aws.s3() } : {})
          }
        )
      : undefined
  const noEvidence =
    scan && scan.filesRead === 0 ? noLogFilesReason(config.cloudtrailPath ?? '', scan) : undefined
  if (noEvidence && deps.noLogFiles === 'error') throw new ConfigError('cloudtrail-path', noEvidence)

  const cases = await selectCases(config, deps, aws, {
    fileGrants,
    exported,
    rolesSeen: scan?.rolesSeen,
    noEvidence
  })
  if (config.grantedSource !== 'iam' && config.policyFiles.length === 0)
    cases.push(...unlistedPolicyFiles(config, deps, cases))

  // Usage.
  if (scan) {
    for (const c of cases) {
      if (c.outcome || c.unverifiedReason) continue
      c.usage = scanUsage(scan.roles, c.arn) ?? emptyCloudTrailUsage(c.arn, scan)
      if (noEvidence) c.outcome = { status: 'insufficient-evidence', reason: noEvidence }
    }
  } else {
    await generateUsage(config, deps, aws, cases, startedAt, deadline)
  }

  // Access Analyzer reads the same trail: what the trail does not log, it cannot show either.
  if (scan || config.trailArn) {
    const logging = await trailLogging(config, aws, log)
    for (const c of cases) {
      if (c.usage && logging)
        c.usage = { ...c.usage, evidence: { ...c.usage.evidence, trailLogging: logging } }
    }
  }

  const unseen = globalServicesUnseen(config.trailRegions)
  if (unseen.length > 0) {
    deps.log.warning(
      'trail-regions leaves out us-east-1, where global services (IAM, CloudFront, Route 53, Organizations, ...) record their events: their actions are treated as unobservable'
    )
    for (const c of cases)
      if (c.usage) c.usage = { ...c.usage, unseenServices: [...(c.usage.unseenServices ?? []), ...unseen] }
  }

  const results: RoleResult[] = []
  for (const c of cases) results.push(await judgeRole(config, deps, aws, c))
  const report = buildReport(results, config.source, now().toISOString())
  log.info(
    `analyzed ${report.summary.analyzed} of ${report.summary.roles} roles; ${report.summary.excess} excess actions; ${report.summary.failed} failed`
  )
  return report
}

/**
 * What the trail logs: read from CloudTrail when trail-arn names it, stated by the trail options, or undefined (the
 * records then decide). A trail that cannot be read is a warning, not a failure: the records decide instead.
 */
async function trailLogging(config: Config, aws: AwsSession, log: Logger): Promise<TrailLogging | undefined> {
  if (config.trailArn) {
    try {
      return await readTrailLogging(await aws.cloudtrail(trailRegion(config.trailArn)), config.trailArn)
    } catch (error) {
      log.warning(`${errorMessage(error)}; what the trail logs is judged from the records instead`)
      return undefined
    }
  }
  const stated = config.trailLogging
  if (!stated) return undefined
  return {
    origin: 'options',
    managementRead: stated.readWriteType !== 'WriteOnly',
    managementWrite: stated.readWriteType !== 'ReadOnly',
    excludedSources: [...stated.excludedSources]
  }
}

/** Services whose calls CloudTrail records in us-east-1 whatever Region they were made from. */
const GLOBAL_SERVICES = [
  'iam',
  'sts',
  'cloudfront',
  'route53',
  'organizations',
  'waf',
  'globalaccelerator',
  'shield'
]

function globalServicesUnseen(regions: readonly string[]): { service: string; reason: string }[] {
  if (regions.length === 0 || regions.includes('us-east-1')) return []
  return GLOBAL_SERVICES.map(service => ({
    service,
    reason: `${service} records its events in us-east-1, which trail-regions leaves out`
  }))
}

function lookbackStart(now: Date, days: number): Date {
  return new Date(now.getTime() - days * DAY_MS)
}

/** Whether a role ARN or name selector (not a pattern) names the role. */
function namedExplicitly(selectors: readonly RoleSelector[], role: KnownRole): boolean {
  return selectors.some(s => s.kind !== 'pattern' && selectorMatches(s, role))
}

/** The usage of a role by ARN, or by account and name when the records named it without its path. */
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
  const skipped = scan.filesSkipped
  const found =
    skipped.length === 0
      ? 'no .json or .json.gz file is there'
      : `${skipped.length} file(s) were skipped, the first: ${skipped[0].file}: ${skipped[0].reason}`
  return `cloudtrail-path: no CloudTrail log file was read from ${path} (${found}); point it at the folder or s3:// prefix your trail delivers to (AWSLogs/...)`
}

interface GrantSources {
  fileGrants: GrantedPolicy[]
  exported?: ReturnType<typeof parseAuthorizationDetails>
  rolesSeen?: string[]
  /** Set when no log file was read: a selector no record matches is then no evidence, not a failure. */
  noEvidence?: string
}

/** Which roles, and what each is granted. */
async function selectCases(
  config: Config,
  deps: RunDeps,
  aws: AwsSession,
  sources: GrantSources
): Promise<RoleCase[]> {
  const cases: RoleCase[] = []
  const failed = (input: string, reason: string) =>
    cases.push({ arn: input, name: input, accountId: '', outcome: { status: 'failed', reason } })

  const offline =
    sources.exported !== undefined ||
    (config.source === 'cloudtrail' && (sources.fileGrants.length > 0 || config.grantedSource === 'files'))
  if (offline) {
    const known = new Map<string, KnownRole & { exported?: (typeof sources.exported & object)[number] }>()
    // Role ARNs from log records are data: only well-formed ones become roles (and policy file paths).
    for (const arn of sources.rolesSeen ?? [])
      if (isRoleArn(arn)) known.set(arn, { arn, name: roleNameFromArn(arn) })
    for (const e of sources.exported ?? []) known.set(e.arn, { arn: e.arn, name: e.name, exported: e })
    // One role per account and name: an ARN seen without its path gives way to the same role's ARN with its path.
    const canonical = canonicalRoleArns(known.keys())
    for (const arn of [...known.keys()]) if (canonical.get(arn) !== arn) known.delete(arn)
    const knownAs = (s: RoleSelector) => [...known.keys()].some(k => roleKey(k) === roleKey(s.input))
    // A role asked for by ARN is analyzed even when nothing mentions it (it then has no activity to show).
    for (const s of config.roles)
      if (s.kind === 'arn' && !knownAs(s)) known.set(s.input, { arn: s.input, name: s.name ?? s.input })
    const where = [
      sources.exported ? 'the authorization-details export' : '',
      sources.rolesSeen ? 'the CloudTrail records' : ''
    ]
      .filter(Boolean)
      .join(' or ')
    const selected = selectRoles(config.roles, [...known.values()], where)
    for (const u of selected.unmatched) {
      if (sources.noEvidence)
        cases.push({
          arn: u.input,
          name: u.input,
          accountId: '',
          outcome: { status: 'insufficient-evidence', reason: sources.noEvidence }
        })
      else failed(u.input, u.reason)
    }
    for (const role of selected.roles) {
      const path = role.arn.split(':role')[1]?.replace(/[^/]*$/, '') || '/'
      const edit = editability(path, role.name)
      const c: RoleCase = {
        arn: role.arn,
        name: role.name,
        accountId: accountFromArn(role.arn),
        notEditableReason: edit.notEditableReason
      }
      if (role.exported?.error) c.outcome = { status: 'failed', reason: role.exported.error }
      else if (role.exported?.grants) {
        c.grants = withFileGrants(role.exported.grants, sources.fileGrants)
      } else if (sources.fileGrants.length > 0) {
        c.grants = {
          arn: role.arn,
          name: role.name,
          path,
          accountId: c.accountId,
          policies: sources.fileGrants,
          ...edit
        }
      } else if (config.grantedSource === 'files' && !sources.exported) {
        const file = readWorkspacePolicy(config, deps, c)
        c.fromRepositoryFile = file.grants !== undefined
        if (file.grants)
          c.grants = {
            arn: role.arn,
            name: role.name,
            path,
            accountId: c.accountId,
            policies: file.grants,
            ...edit
          }
        else c.outcome = { status: 'failed', reason: file.reason ?? 'no policy file' }
      } else if (!edit.editable) {
        c.outcome = { status: 'skipped', reason: edit.notEditableReason ?? 'not editable' }
      } else if (sources.exported && !namedExplicitly(config.roles, role)) {
        // Matched by a pattern from the CloudTrail records only: not a role the export was asked to cover.
        c.outcome = {
          status: 'skipped',
          reason:
            'not in the export: seen only in the CloudTrail records (export it, or name it to require it)'
        }
      } else {
        c.outcome = {
          status: 'failed',
          reason: `role ${role.arn} is not in the authorization-details export; export it again or pass its policies with --policy`
        }
      }
      if (c.grants && !c.grants.editable && c.grants.path.startsWith('/aws-service-role/')) {
        c.outcome = { status: 'skipped', reason: c.grants.notEditableReason ?? 'not editable' }
      }
      cases.push(c)
    }
    return cases
  }

  // IAM: resolve the selectors, then read (or take from the workspace) each role's policies.
  let iam: IAMClient
  try {
    iam = await aws.iam()
  } catch (e) {
    throw new Error(`AWS credentials: ${errorMessage(e)}`)
  }
  const resolution = await resolveRoles(iam, [...config.roles], deps.log)
  for (const f of resolution.failures) failed(f.arn ?? f.input, f.reason)
  const reader = new GrantedPolicyReader(iam, deps.log)
  for (const role of resolution.roles) {
    const c: RoleCase = {
      arn: role.arn,
      name: role.name,
      accountId: role.accountId,
      notEditableReason: role.notEditableReason
    }
    cases.push(c)
    if (!role.editable && role.path.startsWith('/aws-service-role/')) {
      c.outcome = { status: 'skipped', reason: role.notEditableReason ?? 'service-linked role' }
      continue
    }
    const file = config.grantedSource === 'iam' ? undefined : readWorkspacePolicy(config, deps, c)
    // A policy file that exists but cannot be read is an error, never a reason to judge the live policy instead.
    if (file?.exists && !file.grants) {
      c.outcome = { status: 'failed', reason: file.reason ?? `${file.path} cannot be read` }
      continue
    }
    if (file?.grants) {
      c.fromRepositoryFile = true
      c.grants = {
        arn: role.arn,
        name: role.name,
        path: role.path,
        accountId: role.accountId,
        policies: file.grants,
        ...editability(role.path, role.name)
      }
      deps.log.info(`${role.name}: granted policies from ${file.path}`)
      continue
    }
    if (config.grantedSource === 'files') {
      c.outcome = { status: 'failed', reason: file?.reason ?? 'no policy file' }
      continue
    }
    try {
      c.grants = withFileGrants(await reader.readRoleGrants(role), sources.fileGrants)
    } catch (e) {
      c.outcome = { status: 'failed', reason: describeAwsError(e) }
    }
  }
  return cases
}

function withFileGrants(grants: RoleGrants, fileGrants: GrantedPolicy[]): RoleGrants {
  return fileGrants.length === 0 ? grants : { ...grants, policies: [...grants.policies, ...fileGrants] }
}

/** The policy file of a role in the checked-out workspace (granted-source files/auto). Parsed as JSON only. */
function readWorkspacePolicy(
  config: Config,
  deps: RunDeps,
  c: { accountId: string; name: string }
): { grants?: GrantedPolicy[]; path: string; exists: boolean; reason?: string } {
  const path = policyPathFor(config.policyPath, c.accountId, c.name)
  if (!isSafePathSegment(c.name) || (c.accountId !== '' && !/^\d{12}$/.test(c.accountId)))
    return { path, exists: true, reason: `the role name ${JSON.stringify(c.name)} cannot name a policy file` }
  const file = readWorkspaceFile(deps.workspace ?? process.cwd(), path)
  if (file.status === 'absent') {
    return {
      path,
      exists: false,
      reason: `granted-source is files but ${path} does not exist in the workspace; check out the repository first or set granted-source: iam`
    }
  }
  if (file.status === 'refused') return { path, exists: true, reason: file.reason }
  try {
    return { path, exists: true, grants: parsePolicyFile(file.text, path) }
  } catch (e) {
    return { path, exists: true, reason: errorMessage(e) }
  }
}

/**
 * On a pull request, the policy files under policy-path that no selected role reads: a file for a role that does
 * not exist yet, or for a role left out of `roles`. Each is judged by the risk of what it grants, never ignored.
 */
function unlistedPolicyFiles(config: Config, deps: RunDeps, cases: RoleCase[]): RoleCase[] {
  if (!deps.base && !deps.pullRequest) return []
  // By the exact path each role reads: a file whose name differs only in case is another file, never skipped.
  const known = new Set(cases.map(c => policyPathFor(config.policyPath, c.accountId, c.name)))
  const out: RoleCase[] = []
  for (const file of discoverPolicyFiles(deps.workspace ?? process.cwd(), config.policyPath)) {
    if (known.has(file.path)) continue
    const named = { arn: `arn:aws:iam::${file.accountId}:role/${file.roleName}`, name: file.roleName }
    const listed = config.roles.some(s => selectorMatches(s, named))
    const c: RoleCase = {
      arn: `arn:aws:iam::${file.accountId || '000000000000'}:role/${file.roleName}`,
      name: file.roleName,
      accountId: file.accountId,
      fromRepositoryFile: true,
      unverifiedReason: listed
        ? 'new role: unverified (it does not exist yet, so nothing it did can be known): judged by the risk of what it is granted'
        : `${file.path} matches no role in roles: judged by the risk of what it grants; list the role in roles to judge it on its usage`
    }
    const read = readWorkspacePolicy(config, deps, c)
    if (read.grants) {
      c.grants = {
        arn: c.arn,
        name: c.name,
        path: '/',
        accountId: c.accountId,
        policies: read.grants,
        editable: true
      }
    } else c.outcome = { status: 'failed', reason: read.reason ?? `${file.path} cannot be read` }
    out.push(c)
  }
  return out
}

async function generateUsage(
  config: Config,
  deps: RunDeps,
  aws: AwsSession,
  cases: RoleCase[],
  startedAt: Date,
  deadline: Date
): Promise<void> {
  const pending = cases.filter(c => !c.outcome && !c.unverifiedReason)
  if (pending.length === 0) return
  const client = await aws.analyzer()
  const window = {
    start: lookbackStart(startedAt, config.lookbackDays).toISOString(),
    end: startedAt.toISOString()
  }
  const outcomes = await runPolicyGenerations(
    pending.map(c => ({
      roleArn: c.arn,
      trailArn: config.trailArn ?? '',
      regions: [...config.trailRegions],
      accessRoleArn: config.accessRoleArn ?? '',
      window
    })),
    { client, log: deps.log, deadline, signal: deps.signal }
  )
  outcomes.forEach((o, i) => {
    const c = pending[i]
    if (o.status === 'succeeded' && o.usage) c.usage = o.usage
    else
      c.outcome = {
        status: o.status === 'skipped' ? 'skipped' : 'failed',
        reason: o.reason ?? `policy generation ${o.status}`
      }
  })
}

function baseResult(c: RoleCase, config: Config): RoleResult {
  return {
    arn: c.arn,
    status: 'failed',
    window: c.usage?.window ?? { start: '', end: '' },
    complete: c.usage?.complete ?? false,
    used: [],
    excess: NO_EXCESS,
    unobservable: [],
    conditional: [],
    proposed: [],
    editable: c.grants?.editable ?? !c.notEditableReason,
    ...((c.grants?.notEditableReason ?? c.notEditableReason)
      ? { notEditableReason: c.grants?.notEditableReason ?? c.notEditableReason }
      : {}),
    ...(c.usage ? { evidence: c.usage.evidence } : {}),
    // A name read from IAM or logs becomes a path only when it is one plain segment (never `.`, `..` or `a/b`).
    ...(c.accountId && isSafePathSegment(c.name)
      ? { policyFile: policyPathFor(config.policyPath, c.accountId, c.name) }
      : {}),
    ...(c.fromRepositoryFile ? { policyFileInRepository: true } : {})
  }
}

/** The base branch's version of a role's policy file, and which of its statements a keep marker may trust. */
interface BaseView {
  sha: string
  grants?: RoleGrants
  trusts: (statement: NormalizedStatement) => boolean
}

async function readBase(
  config: Config,
  base: NonNullable<RunDeps['base']>,
  head: RoleGrants,
  log: Logger
): Promise<BaseView> {
  const path = policyPathFor(config.policyPath, head.accountId, head.name)
  const file = await base.read(path)
  if (file.status === 'refused') throw new Error(file.reason)
  if (file.status === 'absent') return { sha: base.sha, trusts: () => false }
  let policies: GrantedPolicy[]
  try {
    policies = parsePolicyFile(file.text, path)
  } catch (e) {
    // A base that does not parse grants nothing we can compare with: everything the head grants is added.
    log.warning(`${path} at the base commit: ${errorMessage(e)}; judging every grant of the head as added`)
    return { sha: base.sha, trusts: () => false }
  }
  const grants: RoleGrants = { ...head, policies }
  const unchanged = new Set(
    policies.flatMap(p => normalizePolicy(p.name, p.document).statements.map(st => canonicalJson(st.raw)))
  )
  return { sha: base.sha, grants, trusts: statement => unchanged.has(canonicalJson(statement.raw)) }
}

/** What the head of the pull request grants beyond the base, judged against usage (none: unverified). */
async function pullRequestChange(
  config: Config,
  aws: AwsSession,
  head: RoleGrants,
  base: BaseView,
  usage: RoleUsage | undefined,
  unverifiedReason: string | undefined,
  log: Logger
): Promise<PullRequestChange> {
  const { added, nonRestrictingConditions } = addedAccess(head, base.grants, usage, config.keepActions)
  const change: PullRequestChange = {
    baseSha: base.sha,
    newFile: base.grants === undefined,
    ...(unverifiedReason ? { unverifiedReason } : {}),
    added,
    nonRestrictingConditions
  }
  if (base.grants && config.validate && (aws.used || config.roleToAssume)) {
    try {
      change.checkNoNewAccess = await checkNoNewAccess(
        await aws.analyzer(),
        head.policies.map(p => p.document),
        base.grants.policies.map(p => p.document)
      )
    } catch (e) {
      change.checkNoNewAccess = 'SKIPPED'
      log.warning(`${head.name}: CheckNoNewAccess of the pull request failed (${describeAwsError(e)})`)
    }
  }
  return change
}

/** Analysis, proposal, proofs and checks for one role. A role's failure never stops the others. */
async function judgeRole(config: Config, deps: RunDeps, aws: AwsSession, c: RoleCase): Promise<RoleResult> {
  const result = baseResult(c, config)
  if (c.outcome) return { ...result, status: c.outcome.status, reason: c.outcome.reason }
  if (!c.grants) return { ...result, reason: 'internal: no grants' }
  const grants = c.grants
  try {
    const base =
      c.fromRepositoryFile && deps.base ? await readBase(config, deps.base, grants, deps.log) : undefined
    const changeFor = async (usage: RoleUsage | undefined) =>
      base
        ? { change: await pullRequestChange(config, aws, grants, base, usage, c.unverifiedReason, deps.log) }
        : {}
    if (c.unverifiedReason)
      return {
        ...result,
        status: 'insufficient-evidence',
        reason: c.unverifiedReason,
        ...(await changeFor(undefined))
      }
    if (!c.usage) return { ...result, reason: 'internal: no usage' }
    const options: AnalyzeOptions = {
      keepActions: [...config.keepActions],
      keepSidPrefix: config.keepSidPrefix,
      ...(base
        ? { trustedKeep: base.trusts }
        : deps.pullRequest && c.fromRepositoryFile
          ? { trustedKeep: () => false }
          : {})
    }
    const analysis = analyzeRole(c.grants, c.usage, options)
    const facts = {
      ...result,
      used: analysis.used,
      unobservable: analysis.unobservable,
      conditional: analysis.conditional,
      ...(analysis.unknownActions.length ? { unknownActions: analysis.unknownActions } : {}),
      ...(analysis.kept.length || analysis.keptStatements.length
        ? { kept: { statements: analysis.keptStatements, actions: analysis.kept } }
        : {})
    }
    if (analysis.usedNotGranted.length > 0) {
      facts.evidence = {
        ...(facts.evidence ?? { notes: [] }),
        notes: [
          ...(facts.evidence?.notes ?? []),
          `observed but not granted by the current policies (not added to the proposal): ${analysis.usedNotGranted.join(', ')}`
        ]
      }
    }
    const verdict = judgeEvidence(c.usage, {
      minObservationDays: config.minObservationDays,
      allowIncomplete: config.allowIncomplete,
      roleCreatedAt: c.grants.createdAt
    })
    if (!verdict.sufficient)
      return {
        ...facts,
        status: 'insufficient-evidence',
        reason: verdict.reason,
        ...(await changeFor(undefined))
      }
    const analyzed: RoleResult = {
      ...facts,
      status: 'analyzed',
      excess: compactExcess(analysis.excess),
      ...(await changeFor(c.usage))
    }
    if (analysis.excess.length === 0) return analyzed

    if (!c.grants.editable) {
      return {
        ...analyzed,
        proposalNotes: [`No proposal: ${c.grants.notEditableReason ?? 'the role cannot be edited'}.`]
      }
    }
    const proposal = proposePolicies(c.grants, c.usage, analysis, options)
    const notes = [...proposal.notes]
    const withheld = (why: string, checks?: ProposalChecks): RoleResult => ({
      ...analyzed,
      ...(checks ? { checks } : {}),
      proposalOutcome: 'withheld',
      proposalNotes: [...notes, `proposal withheld: ${why}`]
    })
    if (!proposal.verification.usedCovered || !proposal.verification.noNewAccess) {
      return withheld(
        proposal.verification.problems.join('; ') || 'our own evaluator could not prove the proposal safe',
        {
          validatePolicy: [],
          checkNoNewAccess: 'SKIPPED',
          evaluator: 'FAIL'
        }
      )
    }
    // CloudTrail shows only authorized calls: one the known policies do not grant means they are not the whole story.
    const unexplained = c.usage.source === 'cloudtrail' ? analysis.usedNotGranted : []
    if (unexplained.length > 0) {
      notes.push(
        `the role made authorized calls its known policies do not grant (${unexplained.join(', ')}): some granted policy is missing from this analysis`
      )
    }
    if (proposal.outcome === 'detach-all') {
      if (unexplained.length > 0)
        return withheld('the granted view is incomplete, so detaching everything is not safe')
      return { ...analyzed, proposalOutcome: 'detach-all', proposalNotes: notes }
    }
    if (proposal.outcome === 'none')
      return withheld('no proposal fits IAM limits without changing what is granted')
    const checks: ProposalChecks = { validatePolicy: [], checkNoNewAccess: 'SKIPPED', evaluator: 'PASS' }
    if (config.validate && (aws.used || config.roleToAssume)) {
      const client = await aws.analyzer()
      checks.validatePolicy = await validateProposedPolicies(client, proposal.policies)
      checks.checkNoNewAccess = await checkNoNewAccess(
        client,
        proposal.policies.map(p => p.document),
        c.grants.policies.map(p => p.document)
      )
    } else if (config.validate) {
      notes.push(
        'Access Analyzer checks skipped: this run used no AWS credentials; our own evaluator proved the proposal'
      )
    }
    if (checks.checkNoNewAccess === 'FAIL')
      return withheld('Access Analyzer CheckNoNewAccess found possible new access', checks)
    if (checks.validatePolicy.some(f => f.findingType === 'ERROR')) {
      return withheld('Access Analyzer ValidatePolicy reported an error', checks)
    }
    const current = c.grants.policies.map(p => ({ name: p.name, document: p.document }))
    return {
      ...analyzed,
      checks,
      proposed: proposal.policies,
      proposalOutcome: 'proposed',
      proposalNotes: notes,
      diff: policyDiff(current, proposal.policies)
    }
  } catch (e) {
    return { ...result, status: 'failed', reason: errorMessage(e) }
  }
}
