/** One role from its case to its report entry: the reads and AWS checks around the pure verdict. */
import { checkNoNewAccess, validateProposedPolicies } from '../aws/checks.js'
import { describeAwsError } from '../aws/retry.js'
import type { AwsSession } from '../aws/session.js'
import type { Config } from '../config.js'
import { principalPolicyPath } from '../config.js'
import { errorMessage } from '../error-message.js'
import { parsePolicyFile } from '../granted/policy-file.js'
import { isSafePathSegment } from '../granted/workspace-file.js'
import type { WorkspaceFile } from '../granted/workspace-file.js'
import type { Logger } from '../logger.js'
import type { GrantedPolicy, PullRequestChange, RoleGrants, RoleResult, RoleUsage } from '../model.js'
import { NO_CONDITIONAL, NO_UNOBSERVABLE } from '../policy/action-groups.js'
import { addedAccess, canonicalJson } from '../policy/added-access.js'
import { sourceEvidence, usedEvidence } from '../policy/action-evidence.js'
import { analyzeRole } from '../policy/analyze.js'
import type { AnalyzeOptions, RoleAnalysis } from '../policy/analyze.js'
import { normalizePolicy } from '../policy/document.js'
import type { NormalizedStatement } from '../policy/document.js'
import { judgeEvidence } from '../policy/evidence.js'
import { NO_EXCESS, excessActions } from '../policy/excess.js'
import { proposePolicies } from '../policy/propose.js'
import { recommendationDifferences } from '../policy/recommendation-diff.js'
import type { Proposal } from '../policy/propose.js'
import { judgeRole, judgeUnverified, wantsAwsChecks, wantsProposal } from '../verdict/role-verdict.js'
import type { AwsChecks } from '../verdict/role-verdict.js'
import type { RoleCase } from './role-case.js'

/** The base commit of a pull request, and how to read a repository file as that commit has it. */
export interface PullRequestBase {
  sha: string
  read: (path: string) => Promise<WorkspaceFile>
  /**
   * The repository paths the pull request deletes, and the old paths of those it renames (which the head no longer
   * has); throws when that list cannot be known to be complete.
   */
  removed?: () => Promise<string[]>
}

interface JudgeContext {
  config: Config
  aws: AwsSession
  log: Logger
  base?: PullRequestBase
  /** The workspace's policy files are a pull request author's: no keep-Sid statement of theirs is trusted. */
  pullRequest: boolean
}

/** Analysis, proposal, proofs and checks for one role. A role's failure never stops the others. */
export async function judgeCase(c: RoleCase, ctx: JudgeContext): Promise<RoleResult> {
  const { config } = ctx
  const entry = reportEntry(c, config)
  if (c.outcome)
    return {
      ...entry,
      status: c.outcome.status,
      reason: c.outcome.reason,
      ...(c.outcome.waiting ? { waiting: c.outcome.waiting } : {}),
      ...(c.outcome.lastJudged ? { lastJudged: c.outcome.lastJudged } : {})
    }
  const grants = c.grants
  if (!grants) return { ...entry, reason: 'internal: no grants' }
  try {
    const base = !ctx.base
      ? undefined
      : c.fromRepositoryFile
        ? await readBase(ctx, ctx.base, grants)
        : c.iacBase
          ? baseView(ctx.base.sha, grants, c.iacBase.policies)
          : undefined
    const changeFor = async (usage: RoleUsage | undefined): Promise<PullRequestChange | undefined> =>
      base ? await pullRequestChange(ctx, grants, base, usage, c.unverifiedReason) : undefined
    if (c.unverifiedReason) return judgeUnverified(entry, c.unverifiedReason, await changeFor(undefined))
    const usage = c.usage
    if (!usage) return { ...entry, reason: 'internal: no usage' }

    const options: AnalyzeOptions = {
      keepActions: [...config.keepActions],
      keepSidPrefix: config.keepSidPrefix,
      ...(base
        ? { trustedKeep: base.trusts }
        : ctx.pullRequest && (c.fromRepositoryFile || c.fromInfrastructureCode)
          ? { trustedKeep: () => false }
          : {})
    }
    const analysis = analyzeRole(grants, usage, options)
    const evidence = judgeEvidence(usage, {
      minObservationDays: config.minObservationDays,
      allowIncomplete: config.allowIncomplete,
      ...(grants.createdAt !== undefined ? { roleCreatedAt: grants.createdAt } : {})
    })
    const change = await changeFor(evidence.sufficient ? usage : undefined)
    const findings = { entry, grants, usage, analysis, evidence, ...(change ? { change } : {}) }
    const withEvidence = (result: RoleResult) =>
      withActionEvidence(withAwsRecommendation(result, grants, usage), usage, analysis, evidence.sufficient)
    if (!wantsProposal(findings)) return withEvidence(judgeRole(findings))
    const proposal = proposePolicies(grants, usage, analysis, options)
    const awsChecks = wantsAwsChecks(proposal) ? await checkProposal(ctx, grants, proposal) : undefined
    return withEvidence(judgeRole({ ...findings, proposal, ...(awsChecks ? { awsChecks } : {}) }))
  } catch (e) {
    return { ...entry, status: 'failed', reason: errorMessage(e) }
  }
}

/** AWS's recommended policy next to ours, with the differences between the two. */
function withAwsRecommendation(result: RoleResult, grants: RoleGrants, usage: RoleUsage): RoleResult {
  const fetched = usage.recommendation
  if (!fetched) return result
  return {
    ...result,
    awsRecommendation: { ...fetched, differences: recommendationDifferences(grants, result, fetched) }
  }
}

/**
 * Access Analyzer's checks of a proposal, when validate is on. A run that used no AWS credentials (everything from
 * files and local logs) does not start calling AWS for them.
 */
async function checkProposal(
  ctx: JudgeContext,
  grants: RoleGrants,
  proposal: Proposal
): Promise<AwsChecks | undefined> {
  if (!ctx.config.validate) return undefined
  if (!ctx.aws.used && !ctx.config.roleToAssume) return 'no-credentials'
  const client = await ctx.aws.analyzer()
  return {
    validatePolicy: await validateProposedPolicies(client, proposal.policies),
    checkNoNewAccess: await checkNoNewAccess(
      client,
      proposal.policies.map(p => p.document),
      grants.policies.map(p => p.document)
    ),
    evaluator: 'PASS'
  }
}

/** The role's report entry before any verdict. */
function reportEntry(c: RoleCase, config: Config): RoleResult {
  const notEditableReason = c.grants?.notEditableReason ?? c.notEditableReason
  return {
    arn: c.arn,
    status: 'failed',
    window: c.usage?.window ?? { start: '', end: '' },
    complete: c.usage?.complete ?? false,
    used: [],
    excess: NO_EXCESS,
    unobservable: NO_UNOBSERVABLE,
    conditional: NO_CONDITIONAL,
    proposed: [],
    editable: c.grants?.editable ?? !c.notEditableReason,
    ...(notEditableReason ? { notEditableReason } : {}),
    ...(c.usage ? { evidence: c.usage.evidence } : {}),
    // Access Analyzer rotates roles across scheduled runs: when each was judged is part of its report.
    ...(c.usage?.source === 'access-analyzer' ? { lastJudged: c.usage.window.end } : {}),
    // A name read from IAM or logs becomes a path only when it is one plain segment (never `.`, `..` or `a/b`).
    ...(c.accountId && isSafePathSegment(c.name)
      ? { policyFile: principalPolicyPath(config.policyPath, c.arn, c.accountId, c.name) }
      : {}),
    ...(c.fromRepositoryFile ? { policyFileInRepository: true } : {}),
    ...(c.judgedBy ? { judgedBy: c.judgedBy } : {})
  }
}

/** Each source's window and completeness, and what backs each used action (policy/action-evidence.ts). */
function withActionEvidence(
  result: RoleResult,
  usage: RoleUsage,
  analysis: RoleAnalysis,
  sufficient: boolean
): RoleResult {
  const catalog = analysis.model.catalog
  // Blind spots matter only where another source judged: a single source observes all of its excess.
  const excess = usage.merged ? excessActions(result.excess).map(e => e.action) : []
  const used = result.used.length > 0 ? usedEvidence(catalog, usage, result.used) : []
  return {
    ...result,
    sources: sourceEvidence(catalog, usage, sufficient, excess),
    ...(used.length > 0 ? { usedEvidence: used } : {})
  }
}

/** The base branch's version of a role's policy file, and which of its statements a keep marker may trust. */
interface BaseView {
  sha: string
  grants?: RoleGrants
  trusts: (statement: NormalizedStatement) => boolean
}

async function readBase(ctx: JudgeContext, base: PullRequestBase, head: RoleGrants): Promise<BaseView> {
  const path = principalPolicyPath(ctx.config.policyPath, head.arn, head.accountId, head.name)
  const file = await base.read(path)
  if (file.status === 'refused') throw new Error(file.reason)
  if (file.status === 'absent') return { sha: base.sha, trusts: () => false }
  let policies: GrantedPolicy[]
  try {
    policies = parsePolicyFile(file.text, path)
  } catch (e) {
    // A base that does not parse grants nothing we can compare with: everything the head grants is added.
    ctx.log.warning(
      `${path} at the base commit: ${errorMessage(e)}; judging every grant of the head as added`
    )
    return { sha: base.sha, trusts: () => false }
  }
  return baseView(base.sha, head, policies)
}

/** The base's policies as grants to compare with; a keep marker is trusted only on a statement the base has. */
function baseView(sha: string, head: RoleGrants, policies: GrantedPolicy[] | undefined): BaseView {
  if (!policies) return { sha, trusts: () => false }
  const grants: RoleGrants = { ...head, policies }
  const unchanged = new Set(
    policies.flatMap(p => normalizePolicy(p.name, p.document).statements.map(st => canonicalJson(st.raw)))
  )
  return { sha, grants, trusts: statement => unchanged.has(canonicalJson(statement.raw)) }
}

/** What the head of the pull request grants beyond the base, judged against usage (none: unverified). */
async function pullRequestChange(
  ctx: JudgeContext,
  head: RoleGrants,
  base: BaseView,
  usage: RoleUsage | undefined,
  unverifiedReason: string | undefined
): Promise<PullRequestChange> {
  const { config, aws } = ctx
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
      ctx.log.warning(`${head.name}: CheckNoNewAccess of the pull request failed (${describeAwsError(e)})`)
    }
  }
  return change
}
