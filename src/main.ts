import * as core from '@actions/core'
import * as github from '@actions/github'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAwsSession } from './aws/session.js'
import { RUNNER_CANCELLATION, abortOnSignals } from './cancellation.js'
import { errorMessage } from './error-message.js'
import { buildActionConfig } from './config.js'
import type { ActionConfig } from './config.js'
import { pullRequestRefs, readFileAtCommit } from './github/base-file.js'
import { removedFiles } from './github/pull-request-files.js'
import { createGitHubClient } from './github/client.js'
import type { GitHubClient } from './github/client.js'
import { isForkPullRequest, publishStickyComment, renderForkNotice } from './github/comment.js'
import { readJudgedState, writeJudgedState } from './github/judged-state-file.js'
import { publishPullRequest } from './github/pull-request.js'
import { STEP_SUMMARY_LIMIT_BYTES, writeJobSummary, writeJobSummaryText } from './github/summary.js'
import { MemoryLogger } from './logger.js'
import type { Logger } from './logger.js'
import type { ReportV1 } from './model.js'
import { policyFileContent, repositoryPolicySources, streamedOutputs, writableProposals } from './output.js'
import type { WrittenFiles } from './output.js'
import { allSinks } from './pipeline/judge-roles.js'
import type { RoleSections } from './report/markdown.js'
import { spoolSections } from './github/section-spool.js'
import { escapeControl, escapeText } from './report/escape.js'
import { iacChangesOf, iacMarkdown } from './iac/output.js'
import { failureWarnings, judgeRun } from './report/run-verdict.js'
import { runAnalysis } from './run.js'
import type { RunDeps } from './run.js'
import {
  JUDGED_STATE_PATH,
  judgedInReport,
  mergeJudgedStates,
  serializeJudgedState
} from './usage/judged-state.js'
import type { JudgedState } from './usage/judged-state.js'
import { VERSION } from './version.js'

/** The parts of @actions/core the action uses. */
type ActionsCore = Pick<
  typeof core,
  | 'getInput'
  | 'setOutput'
  | 'setFailed'
  | 'info'
  | 'warning'
  | 'notice'
  | 'error'
  | 'debug'
  | 'setSecret'
  | 'getIDToken'
>

/** The parts of the workflow run's context (@actions/github) the action uses. */
export type ActionContext = Pick<
  typeof github.context,
  'eventName' | 'payload' | 'repo' | 'runId' | 'serverUrl' | 'workflow' | 'job'
>

/** What the action runs in: the runner's toolkit, the run's context and the step's environment. */
interface ActionRuntime {
  core: ActionsCore
  context: ActionContext
  env: NodeJS.ProcessEnv
  /** The run's clock and how it waits; default real time (tests run many scheduled days on an emulated one). */
  clock?: Pick<RunDeps, 'now' | 'sleep'>
}

function actionsLogger(core: ActionsCore): Logger {
  return {
    info: m => core.info(escapeControl(m)),
    warning: m => core.warning(escapeControl(m)),
    debug: m => core.debug(escapeControl(m)),
    setSecret: s => core.setSecret(s)
  }
}

function message(error: unknown): string {
  return escapeControl(errorMessage(error))
}

type PullRequestPayload = Parameters<typeof isForkPullRequest>[0] & { number: number }

function runUrl({ context, env }: ActionRuntime): string | undefined {
  const { serverUrl, runId } = context
  const repo = env.GITHUB_REPOSITORY
  return repo && runId ? `${serverUrl}/${repo}/actions/runs/${runId}` : undefined
}

/** An Octokit for the API of this run (GITHUB_API_URL: GitHub Enterprise Server, or the default). */
function gitHubClient(config: ActionConfig, env: NodeJS.ProcessEnv): GitHubClient {
  return createGitHubClient(
    config.githubToken ?? '',
    env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}
  )
}

/** The action: inputs -> configuration -> analysis -> files, outputs, summary, comment or pull request -> gate. */
export async function run(
  runtime: ActionRuntime = { core, context: github.context, env: process.env }
): Promise<void> {
  const { core, context, env } = runtime
  let config: ActionConfig
  try {
    // An input the workflow does not set is absent; one set to '' is present and empty (keep-sid-prefix: '').
    const given = (name: string) => env[`INPUT_${name.replace(/ /g, '_').toUpperCase()}`] !== undefined
    config = buildActionConfig(name => (given(name) ? core.getInput(name) : undefined), env)
  } catch (error) {
    core.setFailed(message(error))
    return
  }
  const log = actionsLogger(core)
  const pullRequest = context.payload.pull_request as PullRequestPayload | undefined

  if (
    pullRequest &&
    isForkPullRequest(pullRequest) &&
    !env.ACTIONS_ID_TOKEN_REQUEST_URL &&
    (config.mode !== 'report' || config.roleToAssume)
  ) {
    const notice = renderForkNotice({
      headRepo: pullRequest.head.repo?.full_name,
      baseRepo: pullRequest.base.repo.full_name
    })
    core.notice(
      'This pull request comes from a fork: GitHub gives it no OIDC token and a read-only token, so nothing was analyzed.'
    )
    await writeJobSummaryText(notice)
    const verdict = judgeRun(
      { nothingAnalyzed: 'nothing was analyzed for this pull request from a fork' },
      config.failOn
    )
    if (verdict.exitCode !== 0) core.setFailed(verdict.message)
    return
  }
  if (context.eventName === 'pull_request_target') {
    core.warning(
      'pull_request_target runs with the base branch checked out by default: granted-source files reads the base, not the pull request, unless the workflow checks out the pull request head (files are only parsed as JSON)'
    )
  }

  const cancellation = abortOnSignals(
    name =>
      core.warning(
        `received ${name}: cancelling the policy generation jobs this run started, then publishing what is known`
      ),
    { ...RUNNER_CANCELLATION, onForcedExit: message => core.error(message) }
  )
  const temp = env.RUNNER_TEMP || tmpdir()
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  let spool: ReturnType<typeof spoolSections> | undefined
  try {
    const judged = await judgedStateOf(runtime, config, log)
    // Each role is written as it is judged (report.json, its proposal, its Markdown sections): the run keeps only
    // the roles' facts, whatever their number.
    const outputs = streamedOutputs({
      outDir: join(temp, 'iam-least-privilege'),
      version: 1,
      sarif: report => ({
        toolVersion: VERSION,
        sources: repositoryPolicySources(report, workspace),
        ...(env.GITHUB_WORKFLOW_REF ? { workflowRef: env.GITHUB_WORKFLOW_REF } : {})
      })
    })
    spool = spoolSections(temp, STEP_SUMMARY_LIMIT_BYTES)
    const report = await runAnalysis(config, {
      ...runtime.clock,
      ...(judged ? { judged: new Map([...judged].map(([arn, entry]) => [arn, entry.usageEnd])) } : {}),
      log,
      aws: createAwsSession(config, {
        log,
        env,
        getIdToken: audience => core.getIDToken(audience)
      }),
      signal: cancellation.signal,
      ...(env.GITHUB_WORKSPACE ? { workspace: env.GITHUB_WORKSPACE } : {}),
      pullRequest: ['pull_request', 'pull_request_target'].includes(context.eventName),
      ...pullRequestBase(runtime, config),
      sink: allSinks(outputs.sink, spool.sink)
    }).catch((e: unknown) => {
      outputs.discard()
      throw e
    })
    const files = await outputs.finish(report)
    if (!files) throw new Error('internal: the report files were not written')
    await publish(runtime, config, { report, files, sections: spool.sections }, pullRequest, judged)
  } catch (error) {
    core.setFailed(message(error))
    await writeJobSummaryText(
      `## IAM least privilege: the run failed\n\n> [!CAUTION]\n> ${escapeText(message(error))}\n`
    ).catch(() => undefined)
  } finally {
    spool?.close()
    cancellation.dispose()
  }
}

/**
 * On a pull request the gate judges what the pull request changes: each policy file is compared with the base
 * commit's version, read through the API (the author of the pull request cannot change it).
 */
function pullRequestBase({ core, context, env }: ActionRuntime, config: ActionConfig): Pick<RunDeps, 'base'> {
  const { eventName, payload } = context
  if (eventName !== 'pull_request' && eventName !== 'pull_request_target') return {}
  const refs = pullRequestRefs(payload)
  if (!refs || config.grantedSource === 'iam') return {}
  if (!config.githubToken) {
    core.warning(
      'github-token is empty: the base version of the policy files cannot be read, so the gate judges each whole policy instead of what this pull request adds'
    )
    return {}
  }
  const client = gitHubClient(config, env)
  const repo = context.repo
  const { number, changedFiles } = refs
  return {
    base: {
      sha: refs.baseSha,
      read: path => readFileAtCommit(client, repo, path, refs.baseSha),
      removed: () =>
        number === undefined
          ? Promise.reject(new Error('the pull_request event names no pull request number'))
          : removedFiles(client, repo, number, changedFiles)
    }
  }
}

/**
 * Pull-request mode with Access Analyzer: when each role was last judged, from the state file on the proposals
 * branch and the default branch, so roles whose generations AWS no longer lists (after 7 days) are not taken for
 * never judged. The other modes have no branch of their own and order roles on what AWS lists.
 */
async function judgedStateOf(
  { context, env, clock }: ActionRuntime,
  config: ActionConfig,
  log: Logger
): Promise<JudgedState | undefined> {
  if (config.mode !== 'pull-request' || !config.sources.includes('access-analyzer') || !config.githubToken)
    return undefined
  return readJudgedState(gitHubClient(config, env), context.repo, config.prBranch, log, clockNow({ clock }))
}

function setCountOutputs(core: ActionsCore, report: ReportV1): void {
  core.setOutput('excess-count', String(report.summary.excess))
  core.setOutput('roles-analyzed', String(report.summary.analyzed))
  core.setOutput('roles-failed', String(report.summary.failed))
}

/** The infrastructure-code diff in the pull request body: the report keeps the rest of its 65,536 characters. */
const IAC_SECTION_MAX_CHARACTERS = 20_000

/** What a run has to publish: its roles' facts, the files written as they were judged, their Markdown sections. */
interface RunOutputs {
  report: ReportV1
  files: WrittenFiles
  sections: RoleSections
}

async function publish(
  runtime: ActionRuntime,
  config: ActionConfig,
  { report, files, sections }: RunOutputs,
  pullRequest: PullRequestPayload | undefined,
  judged?: JudgedState
): Promise<void> {
  const { core, context, env } = runtime
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd()
  core.setOutput('report', files.report)
  // An upload without results closes every alert of its category: a run that judged no role offers none.
  const judgedAny = report.summary.analyzed > 0
  core.setOutput('sarif', judgedAny ? files.sarif : '')
  if (!judgedAny)
    core.notice(
      'no role was analyzed, so the sarif output is empty: uploading it would close every code scanning alert'
    )
  setCountOutputs(core, report)
  for (const line of failureWarnings(report)) core.warning(escapeControl(line))
  // A bare URL becomes a link in the comment or pull request; the report file only lives as long as the job.
  const hint = runUrl(runtime) ?? 'the job summary of this run'
  // A run that judged nothing (an outage, a spent quota, a cancelled job) must not undo earlier review state.
  const nothingAnalyzed = config.mode === 'pull-request' && report.summary.analyzed === 0
  await writeJobSummary(report, {
    ...(nothingAnalyzed
      ? {
          preface: `> [!NOTE]\n> No role was analyzed in this run, so nothing was published: the pull request of an earlier run was left as it was.`
        }
      : {}),
    fullReportHint: `the report file (output report; upload it as an artifact to keep it): ${files.report}`,
    sections
  })

  const { owner, repo } = context.repo
  if (nothingAnalyzed) {
    core.notice(
      `no role was analyzed in this run, so the pull request on GitHub was left as it was; fix the causes above and run again`
    )
  } else if (config.mode === 'comment') {
    if (!pullRequest) {
      core.warning(
        `mode is comment but this run was triggered by ${context.eventName}, not a pull request: published the job summary only`
      )
    } else {
      const client = gitHubClient(config, env)
      const result = await publishStickyComment(
        client,
        {
          owner,
          repo,
          issueNumber: pullRequest.number,
          workflow: context.workflow,
          job: context.job
        },
        report,
        { fullReportHint: hint, sections }
      )
      if (result.url) core.setOutput('comment-url', result.url)
      core.info(`sticky comment ${result.operation}${result.url ? `: ${result.url}` : ''}`)
    }
  } else if (config.mode === 'pull-request') {
    // A role granted from infrastructure code gets its code edited, not a policy file written.
    const fromCode = new Set(report.roles.filter(r => r.grantedFrom || r.iacAwsManaged).map(r => r.arn))
    const roles = writableProposals(report).filter(r => !fromCode.has(r.arn))
    const iac = config.iacPath ? await iacChangesOf(report, config.iacPath, workspace) : undefined
    for (const note of iac?.notes ?? []) core.warning(escapeControl(note))
    const iacSection = iac
      ? iacMarkdown(iac.edits, iac.notes, `This pull request edits ${iac.edits.length} file(s):`, {
          collapse: true,
          maxLength: IAC_SECTION_MAX_CHARACTERS
        })
      : ''
    if (iacSection) await writeJobSummaryText(iacSection)
    const client = gitHubClient(config, env)
    // The state goes into the proposal commit, so a rerun that judged nothing new leaves the branch as it is. That
    // commit moves the branch by force: what another run recorded there since this run read it (hours ago, while
    // the generations ran) is read again, or it would be rewound. Its warnings were given at the start.
    // When the branch's copy cannot be read now, it is carried over unchanged: rewritten, it would drop every other
    // role's entry.
    const selected = new Set(report.roles.map(r => r.arn))
    const judgedNow = judged && (await stateToWrite(runtime, config, client, judged, report))
    const result = await publishPullRequest(
      client,
      {
        owner,
        repo,
        branch: config.prBranch,
        title: 'IAM least privilege: remove unused permissions',
        files: [
          ...roles.map(r => ({ path: r.policyFile as string, content: policyFileContent(r.proposed) })),
          ...(iac?.edits ?? []).map(e => ({ path: e.file, content: e.after }))
        ],
        labels: [...config.prLabels],
        policyPath: config.policyPath,
        ...(judgedNow
          ? {
              alongside: { path: JUDGED_STATE_PATH, content: serializeJudgedState(judgedNow, selected).text }
            }
          : judged
            ? { keep: JUDGED_STATE_PATH }
            : {})
      },
      report,
      { fullReportHint: hint, sections, ...(iacSection ? { appendix: iacSection } : {}) }
    )
    if (result.url && result.operation !== 'closed') core.setOutput('pull-request-url', result.url)
    core.info(`least-privilege pull request ${result.operation}${result.url ? `: ${result.url}` : ''}`)
    // With nothing to propose there was no proposal commit: the state gets a commit of its own.
    if (judgedNow) await recordJudgedState(runtime, config, judgedNow, selected)
  }

  const verdict = judgeRun(report, config.failOn)
  if (verdict.exitCode !== 0) core.setFailed(escapeControl(verdict.message))
  else core.info(escapeControl(verdict.message))
}

function clockNow({ clock }: { clock?: ActionRuntime['clock'] | undefined }): Date {
  return clock?.now?.() ?? new Date()
}

/**
 * The state the proposal commit carries: this run's judgements merged with the branch's copy read again now.
 * Undefined when that copy cannot be read (the commit then carries it over unchanged).
 */
async function stateToWrite(
  runtime: ActionRuntime,
  config: ActionConfig,
  client: GitHubClient,
  judged: JudgedState,
  report: ReportV1
): Promise<JudgedState | undefined> {
  try {
    const onBranch = await readJudgedState(
      client,
      runtime.context.repo,
      config.prBranch,
      new MemoryLogger(),
      clockNow(runtime),
      true
    )
    return mergeJudgedStates(judged, onBranch, judgedInReport(report))
  } catch (error) {
    runtime.core.warning(
      `could not read ${JUDGED_STATE_PATH} on the branch ${config.prBranch} again (${message(error)}); this run does not record when its roles were judged, and the file is kept as it is`
    )
    return undefined
  }
}

/** A state that cannot be written is a warning: the proposals are published, and the next run orders roles anyway. */
async function recordJudgedState(
  runtime: ActionRuntime,
  config: ActionConfig,
  state: JudgedState,
  selected: ReadonlySet<string>
): Promise<void> {
  const { core, context, env, clock } = runtime
  const log = actionsLogger(core)
  try {
    const client = gitHubClient(config, env)
    if (
      await writeJudgedState(client, context.repo, config.prBranch, state, log, clockNow({ clock }), selected)
    )
      core.info(`recorded when ${state.size} role(s) were last judged on the branch ${config.prBranch}`)
  } catch (error) {
    core.warning(
      `could not record when each role was last judged on the branch ${config.prBranch} (${message(error)}); the next run orders roles on the policy generations AWS lists`
    )
  }
}
