import { relative, resolve } from 'node:path'
import { planAccounts, spansAccounts } from './aws/accounts.js'
import type { Sleep } from './aws/retry.js'
import type { AwsSession } from './aws/session.js'
import type { Config } from './config.js'
import { ConfigError } from './config.js'
import { errorMessage } from './error-message.js'
import { parseAuthorizationDetails, parsePolicyFile } from './granted/policy-file.js'
import type { ExportedRole } from './granted/policy-file.js'
import type { Logger } from './logger.js'
import type { GrantedPolicy, ReportV1, RoleUsage, UsageSource } from './model.js'
import { readsLogRecords } from './model.js'
import { accountCases } from './pipeline/accounts.js'
import { localFiles, readInputAs } from './pipeline/files.js'
import type { RunFiles } from './pipeline/files.js'
import { parseIacMapping } from './iac/mapping.js'
import type { IacMapping } from './iac/mapping.js'
import { parseTerraformState } from './iac/terraform/state.js'
import { isIacPathUnder, readIacFilesAt, readIacFolder } from './iac/workspace.js'
import { partitionOf } from './iac/managed-arn.js'
import { applyIacGrants, readLiveAwsManaged } from './pipeline/iac-grants.js'
import type { IacCaseFacts } from './pipeline/iac-grants.js'
import { judgeCase } from './pipeline/judge.js'
import { judgeRoles } from './pipeline/judge-roles.js'
import type { RoleSink } from './pipeline/judge-roles.js'
import type { PullRequestBase } from './pipeline/judge.js'
import { awaitsUsage } from './pipeline/role-case.js'
import type { RoleCase } from './pipeline/role-case.js'
import { selectCases, unlistedPolicyFiles } from './pipeline/select.js'
import type { SelectionContext } from './pipeline/select.js'
import { readMergedUsage } from './pipeline/read-usage.js'
import { readOnceForAll } from './pipeline/shared-usage.js'
import { trailLogging } from './pipeline/trail-logging.js'
import { buildReport, reportSources } from './report/json.js'
import { USAGE_PROVIDERS } from './usage/registry.js'
import type { UsageReading } from './usage/source.js'
import { globalServicesUnseen } from './verdict/role-verdict.js'

export interface RunDeps {
  log: Logger
  /** The run's AWS clients; the entry builds it (createAwsSession). */
  aws: AwsSession
  now?: () => Date
  /** How waits between polls are slept; default real time. */
  sleep?: Sleep
  /**
   * When each role was last judged as recorded on the proposals branch (role ARN -> end of the usage window): orders
   * the roles Access Analyzer analyzes, nothing else.
   */
  judged?: ReadonlyMap<string, string>
  /** Aborted when the job is cancelled (SIGINT/SIGTERM): in-flight generation jobs we started are cancelled. */
  signal?: AbortSignal
  /** Where granted-source files are read (GITHUB_WORKSPACE); default the working directory. */
  workspace?: string
  /** How the run reads the files it is given and the workspace; default this machine's, at `workspace`. */
  files?: RunFiles
  /**
   * When cloudtrail-path holds no CloudTrail log file: 'error' stops the run with a ConfigError (the CLI: bad
   * usage); 'insufficient-evidence' (default) judges every role so and names the path (the action still publishes).
   */
  noLogFiles?: 'error' | 'insufficient-evidence'
  /** On a pull request: its base commit, and how to read a repository file as that commit has it. */
  base?: PullRequestBase
  /**
   * The run judges a pull request: the workspace's policy files are its author's. Even when the base cannot be
   * read, no keep-Sid statement of those files is trusted and no file under policy-path is left unjudged.
   */
  pullRequest?: boolean
  /**
   * Takes each judged role as it is judged (in report order): the returned report then holds only each role's
   * facts (no diff, usage evidence or AWS recommendation), so memory does not grow with the full results.
   */
  sink?: RoleSink
}

/** The whole job: roles -> granted + usage -> analysis -> proposals -> the version-1 report. */
export async function runAnalysis(config: Config, deps: RunDeps): Promise<ReportV1> {
  const now = deps.now ?? (() => new Date())
  const startedAt = now()
  const { log, aws } = deps
  const files = deps.files ?? localFiles(deps.workspace ?? process.cwd())
  const selection: SelectionContext = { config, aws, files, log }

  const fileGrants: GrantedPolicy[] = []
  for (const file of config.policyFiles)
    fileGrants.push(...(await readInputAs(files, file, '--policy', text => parsePolicyFile(text, file))))
  const detailsFile = config.authorizationDetails
  const exported: ExportedRole[] | undefined = detailsFile
    ? await readInputAs(files, detailsFile, '--authorization-details', text =>
        parseAuthorizationDetails(text, detailsFile)
      )
    : undefined

  // Many accounts: each is read with its own session; the hub reads what the run shares (the trail, log files).
  const plan = spansAccounts(config) ? await planAccounts(config, aws, log) : undefined
  const hub = plan?.hub ?? aws
  const openSources = async (
    scoped: Config,
    session: AwsSession,
    shared?: ReadonlyMap<UsageSource, UsageReading>
  ): Promise<Map<UsageSource, UsageReading>> => {
    const readings = new Map<UsageSource, UsageReading>()
    for (const source of config.sources)
      readings.set(
        source,
        shared?.get(source) ??
          (await USAGE_PROVIDERS[source].open({
            config: scoped,
            aws: session,
            log,
            startedAt,
            deadline: new Date(startedAt.getTime() + config.timeoutMinutes * 60_000),
            ...(deps.signal ? { signal: deps.signal } : {}),
            ...(deps.sleep ? { sleep: deps.sleep } : {}),
            ...(deps.now ? { now: deps.now } : {}),
            ...(deps.judged ? { judged: deps.judged } : {})
          }))
      )
    return readings
  }
  const readings = await openSources(config, hub)
  const reading = readings.get(config.source) ?? [...readings.values()][0]
  if (!reading) throw new ConfigError('source', 'source: give at least one usage source')
  const several = readings.size > 1
  const rolesSeen = [...readings.values()].find(r => r.rolesSeen)?.rolesSeen
  // With several sources, one that found no evidence cannot judge; the others still do.
  const noEvidence = several ? undefined : reading.noEvidence
  const readAll = (sourceReadings: ReadonlyMap<UsageSource, UsageReading>, cases: RoleCase[]) => {
    const only = [...sourceReadings.values()][0]
    return sourceReadings.size > 1 || !only
      ? readMergedUsage(config, sourceReadings, cases, log)
      : readUsage(only, cases)
  }
  // Log records are read once for every account; the other sources ask AWS per account, with its session and quota.
  const shared = new Map([...readings].filter(([source]) => readsLogRecords(source)))
  const readShared = async (all: RoleCase[]) => {
    for (const [source, sharedReading] of shared) shared.set(source, await readOnceForAll(sharedReading, all))
  }
  if (noEvidence && deps.noLogFiles === 'error') throw new ConfigError(noEvidence.input, noEvidence.reason)

  const sources = {
    fileGrants,
    ...(exported ? { exported } : {}),
    ...(rolesSeen ? { rolesSeen } : {}),
    ...(noEvidence ? { noEvidence: noEvidence.reason } : {})
  }
  const accounts = plan
    ? await accountCases(plan, {
        config,
        files,
        log,
        sources,
        readShared,
        // Access Analyzer generates per account and Region: one queue (and one quota) per account.
        readUsage: async (scoped, session, accountCases) =>
          readAll(await openSources(scoped, session, shared), accountCases)
      })
    : undefined
  const cases = accounts?.cases ?? (await selectCases(selection, sources))
  const pullRequest = deps.pullRequest === true
  if (config.grantedSource !== 'iam' && config.policyFiles.length === 0 && (deps.base || pullRequest))
    cases.push(...unlistedPolicyFiles(selection, cases))

  const iacFacts = await iacGrants(config, deps, files, cases)
  if (!accounts) await readAll(readings, cases)
  await addTrailFacts(config, { ...deps, aws: hub }, cases)

  const judge = { config, aws, log, pullRequest, ...(deps.base ? { base: deps.base } : {}) }
  const head = deps.sink ? { generatedAt: now().toISOString(), source: config.source } : undefined
  const results = await judgeRoles(
    cases,
    async c => {
      // A pull-request gate never passes on a role it could not look at, whatever kept it back.
      if (pullRequest && c.outcome?.waiting) {
        delete c.outcome.waiting
        c.outcome.reason = c.outcome.reason.replace(
          /^waits for a later run/,
          'not judged on this pull request (the gate cannot pass on it)'
        )
      }
      const result = await judgeCase(c, { ...judge, aws: accounts?.sessionOf(c) ?? aws })
      const facts = iacFacts?.get(c)
      return facts
        ? {
            ...result,
            iacLink: facts.link,
            ...(facts.grantedFrom.length > 0 ? { grantedFrom: facts.grantedFrom } : {}),
            ...(facts.awsManaged ? { iacAwsManaged: facts.awsManaged } : {})
          }
        : result
    },
    deps.sink && head ? { sink: deps.sink, head: { ...head, ...reportSources(config.sources) } } : undefined,
    { log, ...(deps.signal ? { signal: deps.signal } : {}) }
  )
  const report = buildReport(results, config.source, head?.generatedAt ?? now().toISOString(), config.sources)
  log.info(
    `analyzed ${report.summary.analyzed} of ${report.summary.roles} roles; ${report.summary.excess} excess actions; ${report.summary.failed} failed`
  )
  return report
}

/** With iac-path: each role granted what its infrastructure code says (granted-source iac, or auto). */
async function iacGrants(
  config: Config,
  deps: RunDeps,
  files: RunFiles,
  cases: RoleCase[]
): Promise<Map<RoleCase, IacCaseFacts> | undefined> {
  if (!config.iacPath || (config.grantedSource !== 'iac' && config.grantedSource !== 'auto')) return undefined
  const workspace = resolve(deps.workspace ?? process.cwd())
  let iac
  try {
    iac = await readIacFolder(resolve(workspace, config.iacPath), workspace)
  } catch (e) {
    throw new ConfigError('iac-path', errorMessage(e))
  }
  for (const problem of iac.reading.problems) deps.log.warning(problem)
  const iacDir = relative(workspace, resolve(workspace, config.iacPath)).split('\\').join('/')
  const removed = deps.base ? await removedIacPaths(deps.base, iacDir) : undefined
  const base = deps.base
    ? await readIacFilesAt(
        [
          ...new Set([
            ...iac.files.map(f => f.file.path),
            ...(iac.reading.unreadBlocks ?? []).map(b => b.file),
            ...(removed?.paths ?? [])
          ])
        ],
        deps.base.read
      )
    : undefined
  for (const problem of base?.problems ?? []) deps.log.warning(`at the base commit: ${problem}`)
  const stateFile = config.terraformState
  // On a pull request the workspace is its author's: a state file there could link a role to a decoy block.
  if (stateFile && deps.pullRequest === true)
    deps.log.warning(
      `terraform-state: not used on a pull request (the file in the workspace may be the author's); roles are linked by iac-mapping from the base commit and by name`
    )
  const state =
    stateFile && deps.pullRequest !== true
      ? await readInputAs(files, stateFile, '--terraform-state', text => parseTerraformState(text, stateFile))
      : undefined
  const mapping = await iacMapping(config, deps, files)
  // With credentials, IAM's own documents of the AWS-managed policies the code attaches; without, the bundled ones.
  const live =
    deps.aws.used || config.roleToAssume
      ? await readLiveAwsManaged(deps.aws, base ? [iac.reading, base] : [iac.reading], deps.log, [
          ...new Set(cases.map(c => partitionOf(c.arn)))
        ])
      : undefined
  return applyIacGrants(config, iac, cases, {
    ...(live ? { live } : {}),
    authored: deps.pullRequest === true,
    ...(base ? { base } : {}),
    ...(removed?.unknown ? { baseUnknown: removed.unknown } : {}),
    ...(state ? { state } : {}),
    ...(mapping ? { mapping } : {})
  })
}

/**
 * The infrastructure-code files under `iacDir` that the pull request deletes or renames away: the head does not have
 * them, so the base side of the gate reads them by these paths. When the list cannot be had, `unknown` says why.
 */
async function removedIacPaths(
  base: PullRequestBase,
  iacDir: string
): Promise<{ paths: string[]; unknown?: string }> {
  if (!base.removed) return { paths: [] }
  let removed: string[]
  try {
    removed = await base.removed()
  } catch (e) {
    return { paths: [], unknown: errorMessage(e) }
  }
  return { paths: removed.filter(path => isIacPathUnder(path, iacDir)) }
}

/**
 * The iac-mapping file. On a pull request it is read as the base commit has it: a mapping the pull request edits
 * could point the gate at a block it did not widen.
 */
async function iacMapping(config: Config, deps: RunDeps, files: RunFiles): Promise<IacMapping | undefined> {
  const path = config.iacMapping
  if (!path) return undefined
  if (!deps.base) return readInputAs(files, path, '--iac-mapping', text => parseIacMapping(text, path))
  const file = await deps.base.read(path)
  if (file.status === 'refused') throw new ConfigError('iac-mapping', file.reason)
  if (file.status === 'absent') {
    deps.log.warning(`iac-mapping: ${path} is not in the base commit; roles are linked without it`)
    return undefined
  }
  try {
    return parseIacMapping(file.text, `${path} at the base commit`)
  } catch (e) {
    throw new ConfigError('iac-mapping', errorMessage(e))
  }
}

/** Each role's usage, or why it has none; with no evidence at all every role is judged so. */
async function readUsage(reading: UsageReading, cases: RoleCase[]): Promise<void> {
  const pending = cases.filter(awaitsUsage)
  const outcomes = await reading.usageOf(pending.map(c => c.arn))
  pending.forEach((c, i) => {
    const read = outcomes[i]
    if (!read) c.outcome = { status: 'failed', reason: 'internal: no usage read' }
    else if ('usage' in read) c.usage = read.usage
    else c.outcome = read.outcome
    if (reading.noEvidence) c.outcome = { status: 'insufficient-evidence', reason: reading.noEvidence.reason }
  })
}

/** What the trail logs and the Regions it leaves out: both limit what any usage source can show. */
async function addTrailFacts(config: Config, deps: RunDeps, cases: RoleCase[]): Promise<void> {
  const logging = await trailLogging(config, deps.aws, deps.log)
  if (logging)
    for (const c of cases)
      if (c.usage)
        c.usage = onTrailSources(c.usage, u => ({ ...u, evidence: { ...u.evidence, trailLogging: logging } }))

  const unseen = globalServicesUnseen(config.trailRegions)
  if (unseen.length === 0) return
  deps.log.warning(
    'trail-regions leaves out us-east-1, where global services (IAM, CloudFront, Route 53, Organizations, ...) record their events: their actions are treated as unobservable'
  )
  for (const c of cases)
    if (c.usage)
      c.usage = onTrailSources(c.usage, u => ({
        ...u,
        unseenServices: [...(u.unseenServices ?? []), ...unseen]
      }))
}

/** What the trail logs limits the sources that read it, never IAM last-accessed data; merged: each such source. */
function onTrailSources(usage: RoleUsage, change: (usage: RoleUsage) => RoleUsage): RoleUsage {
  if (usage.merged)
    return { ...usage, merged: usage.merged.map(p => ({ ...p, usage: onTrailSources(p.usage, change) })) }
  return usage.lastAccess ? usage : change(usage)
}
