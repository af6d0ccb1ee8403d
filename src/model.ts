/**
 * The domain types every layer agrees on. Adapters (aws/, usage/, github/) produce and consume these;
 * the pure core (policy/, report/) computes on them. Nothing here does I/O.
 */

export const USAGE_SOURCES = [
  'access-analyzer',
  'cloudtrail',
  'access-advisor',
  'unused-access',
  'athena'
] as const
export type UsageSource = (typeof USAGE_SOURCES)[number]

/** Whether a source reads CloudTrail records (a local scan or an Athena query): it shows only what was logged. */
export function readsLogRecords(source: UsageSource): boolean {
  return source === 'cloudtrail' || source === 'athena'
}

/** A time window as ISO-8601 strings (UTC). */
export interface TimeWindow {
  start: string
  end: string
}

/** One action a role was observed using (authorized calls only), in the catalog's spelling. */
export interface ObservedAction {
  action: string
  /** Resource ARNs seen for it; may hold ARN templates with `${...}` placeholders (Access Analyzer). `*` when unknown. */
  resources: string[]
  /** How many authorized calls were seen; undefined when the source does not count (Access Analyzer). */
  count?: number
  /** Operations recorded under another name, with dependent actions of their own, that proved this action (`s3:CopyObject` for s3:PutObject); CloudTrail only. */
  operations?: string[]
  /** First and last authorized call seen (ISO 8601), when the source dates them. */
  firstSeen?: string
  lastSeen?: string
}

export interface SkippedFile {
  file: string
  reason: string
}

export interface UnmappedEvent {
  eventSource: string
  eventName: string
  count: number
  /** The IAM service prefix of the event source, when the catalog knows it. */
  service?: string
}

/** Which management events a trail logs: read from the trail's configuration, or given as options (an assumption). */
export interface TrailLogging {
  /** `trail`: read with cloudtrail:GetTrail and GetEventSelectors; `options`: stated by whoever ran the analysis. */
  origin: 'trail' | 'options'
  /** The trail's ARN, when known. */
  trail?: string
  /** Whether read-only management events are logged. */
  managementRead: boolean
  /** Whether write management events are logged. */
  managementWrite: boolean
  /** Event sources left out of the management events (kms.amazonaws.com, rdsdata.amazonaws.com). */
  excludedSources: string[]
}

/** The Athena query a usage came from: shown so its cost is visible. */
export interface AthenaQueryEvidence {
  queryExecutionId: string
  workgroup: string
  bytesScanned: number
  estimatedCostUsd: number
  /** Rows the aggregation returned (it grows with roles and actions, not with events). */
  rows: number
}

/** What backs a usage claim: shown to reviewers so they can judge it. */
export interface UsageEvidence {
  /** Access Analyzer job id. */
  jobId?: string
  /** Log files read / skipped (CloudTrail source). */
  filesRead?: number
  filesSkipped?: SkippedFile[]
  /** Lines of JSON-lines files not read (too long, or not JSON): they may hold this role's calls. */
  linesSkipped?: number
  /** Events attributed to this role (any outcome). */
  eventsMatched?: number
  /** Calls denied by authorization: not usage. */
  deniedCalls?: number
  /** Calls that need no permission (for example sts:GetCallerIdentity): not usage. */
  permissionlessCalls?: number
  /** Events that did not map to a catalog action: never silently dropped. */
  unmapped?: UnmappedEvent[]
  /** Whether data events (S3 object-level, Lambda Invoke, ...) were present in the source for this role. */
  dataEventsSeen?: string[]
  /**
   * What the records show the trail logs, from any principal (CloudTrail source): `kms.amazonaws.com` and
   * `rdsdata.amazonaws.com` when a management event of that source was seen, `read` / `write` when a read-only / a
   * write management event was seen. Undefined when unknown.
   */
  managementEventsSeen?: string[]
  /** What the trail logs, when known; it replaces what the records suggest. */
  trailLogging?: TrailLogging
  /** Source athena: the query behind the usage and what it cost (USD 5 per TB scanned, 10 MB minimum). */
  athena?: AthenaQueryEvidence
  notes: string[]
}

/**
 * When a source last saw an action, or a whole service, used by the role (access advisor, unused-access findings):
 * `lastUsed` absent means not used at all in the source's window. Only `level: 'action'` entries may judge one action.
 */
export interface LastAccess {
  /** `s3:GetObject` for an action, `s3` for a service. */
  key: string
  level: 'action' | 'service'
  lastUsed?: string
}

/** What a role did in a window, from one source. */
export interface RoleUsage {
  roleArn: string
  source: UsageSource
  window: TimeWindow
  /** False when the source says it may have missed actions (Access Analyzer isComplete=false). */
  complete: boolean
  actions: ObservedAction[]
  /** Service prefixes the source knows were used but only at service level (no action detail). */
  serviceLevelOnly: string[]
  /** What the source knows of last use, for actions and services it tracks (see LastAccess). */
  lastAccess?: LastAccess[]
  /** Services whose events the source did not read at all (for example a Region left out), with the reason. */
  unseenServices?: { service: string; reason: string }[]
  evidence: UsageEvidence
  /**
   * Set on the usage of several sources merged into one (usage/merge.ts): each source's own usage and whether its
   * evidence can judge the role. The merged actions are the union; an action is unobservable only when no source
   * that can judge observes it.
   */
  merged?: MergedSource[]
  /** The unused-access finding AWS's recommendation is asked for (unused-access source with aws-recommendation). */
  recommendation?: FetchedRecommendation
}

/** One source of a merged usage: what it read, and why it cannot judge (incomplete, too short, failed...). */
export interface MergedSource {
  usage: RoleUsage
  /** Set when this source's evidence cannot make an action excess; what it saw still counts as used. */
  insufficient?: string
}

/** What one source contributed to a role's verdict, for the reader of the report. */
export interface SourceEvidence {
  source: UsageSource
  window: TimeWindow
  complete: boolean
  /** Whether this source's evidence could make an action excess; otherwise why not. */
  judged: boolean
  reason?: string
  /** Last use per tracked action and per service, for sources that report it (access advisor). */
  lastAccess?: LastAccess[]
  /** Excess actions (judged excess from another source) that this source could not observe. */
  blind?: string[]
}

/** A used action with what backs it: how often, when, and which sources saw it. */
export interface UsedActionEvidence {
  action: string
  count?: number
  firstSeen?: string
  lastSeen?: string
  sources: UsageSource[]
}

/** One step of AWS's recommendation for an unused-permission finding (GetFindingRecommendation). */
export interface RecommendedStep {
  action: 'CREATE_POLICY' | 'DETACH_POLICY'
  /** The ARN or name of the policy the step replaces or detaches. */
  existingPolicyId?: string
  /** CREATE_POLICY: the recommended document, parsed. */
  recommendedPolicy?: unknown
}

/** AWS's recommendation for a finding as fetched: its steps, or why there is none. */
export interface FetchedRecommendation {
  findingId: string
  status: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS' | 'unavailable'
  steps: RecommendedStep[]
  /** FAILED or unavailable: AWS's error, or why it was not fetched. */
  error?: string
}

/** AWS's recommendation shown next to ours, with how the two documents differ (computed, per action). */
export interface AwsRecommendation extends FetchedRecommendation {
  differences: string[]
}

type PolicyKind = 'inline' | 'managed' | 'boundary'

/** One policy document granted to a role, with where it came from. */
export interface GrantedPolicy {
  /** Policy name (inline name, managed policy name, or file name). */
  name: string
  /** Managed policy ARN when managed. */
  arn?: string
  kind: PolicyKind
  /** True for AWS managed policies (arn:aws:iam::aws:policy/...): they cannot be edited, only detached. */
  awsManaged: boolean
  /** The parsed JSON document (not yet validated: policy/document.ts validates and normalizes). */
  document: unknown
  /** Where it was read from: `iam`, a file path, or an export file. */
  origin: string
}

/** A role and everything granted to it. */
export interface RoleGrants {
  arn: string
  name: string
  path: string
  accountId: string
  policies: GrantedPolicy[]
  /** The permissions boundary, when one is set. */
  boundary?: GrantedPolicy
  /** False for service-linked roles and IAM Identity Center roles: we report but never propose edits. */
  editable: boolean
  notEditableReason?: string
  /** When the role was created (ISO 8601): a role younger than the window was observed for less. */
  createdAt?: string
  /** The role's tags; CloudFormation's `aws:cloudformation:*` tags link it to its template (iac-path). */
  tags?: Record<string, string>
}

export const ROLE_STATUSES = ['analyzed', 'insufficient-evidence', 'skipped', 'failed'] as const
export type RoleStatus = (typeof ROLE_STATUSES)[number]

export const ACCESS_LEVELS = ['Permissions management', 'Write', 'Tagging', 'Read', 'List'] as const
export type AccessLevel = (typeof ACCESS_LEVELS)[number]

export interface ExcessAction {
  action: string
  accessLevel: AccessLevel
  /** `policy-name` or `policy-name#Sid` of every statement that grants it. */
  grantedBy: string[]
  /** Set when the action is a known privilege-escalation path. */
  risk?: 'privilege-escalation'
}

/**
 * The excess actions of one service at one access level that the same statements grant. Exactly one of `actions`
 * and `allExcept` is set: `allExcept` when the group is nearly every catalog action of the service at that level,
 * which keeps a role granted `*` as small as a role granted a few actions.
 */
export interface ExcessGroup {
  service: string
  accessLevel: AccessLevel
  grantedBy: string[]
  /** How many excess actions the group holds. */
  count: number
  /** The actions, sorted. */
  actions?: string[]
  /** Every catalog action of the service at this access level except these (sorted). */
  allExcept?: string[]
  /** The group's actions that are known privilege-escalation paths, sorted. */
  privilegeEscalation?: string[]
}

/** A role's excess: per service and access level (policy/excess.ts turns it into the per-action list). */
export interface RoleExcess {
  count: number
  /** Sorted by service, access level, then granting statements. */
  groups: ExcessGroup[]
}

export interface UnobservableAction {
  action: string
  reason: string
}

export interface ConditionalAction {
  action: string
  grantedBy: string[]
}

/**
 * Unobservable actions of one service at one access level with the same reason. Exactly one of `actions` and
 * `allExcept` is set, as in ExcessGroup.
 */
export interface UnobservableGroup {
  service: string
  accessLevel: AccessLevel
  reason: string
  count: number
  actions?: string[]
  allExcept?: string[]
}

/** A role's unobservable actions, per service, access level and reason (policy/action-groups.ts expands them). */
export interface RoleUnobservable {
  count: number
  /** Sorted by service, access level, then reason. */
  groups: UnobservableGroup[]
}

/** Conditionally granted actions of one service at one access level that the same statements grant. */
export interface ConditionalGroup {
  service: string
  accessLevel: AccessLevel
  grantedBy: string[]
  count: number
  actions?: string[]
  allExcept?: string[]
}

/** A role's conditionally granted actions, per service, access level and granting statements. */
export interface RoleConditional {
  count: number
  /** Sorted by service, access level, then granting statements. */
  groups: ConditionalGroup[]
}

export interface PolicyDocumentJson {
  Version: string
  Statement: Record<string, unknown>[]
  Id?: string
}

export interface ProposedPolicy {
  name: string
  document: PolicyDocumentJson
  /** Characters excluding white space, as IAM counts them. */
  characters: number
}

export interface ValidationFinding {
  policy: string
  findingType: string
  issueCode: string
  details: string
  learnMoreLink?: string
}

export interface ProposalChecks {
  validatePolicy: ValidationFinding[]
  checkNoNewAccess: 'PASS' | 'FAIL' | 'SKIPPED'
  /** Our own evaluator: used ⊆ allowed(proposal) and allowed(proposal) ⊆ allowed(current). */
  evaluator?: 'PASS' | 'FAIL'
}

/**
 * One role of the report; its excess, unobservable and conditional actions are written per action in version 1 and
 * per group in version 2.
 */
export interface RoleResult {
  arn: string
  status: RoleStatus
  reason?: string
  window: TimeWindow
  complete: boolean
  used: string[]
  excess: RoleExcess
  unobservable: RoleUnobservable
  conditional: RoleConditional
  proposed: ProposedPolicy[]
  checks?: ProposalChecks
  /** Additions beyond the minimum contract, for reviewers. */
  editable: boolean
  notEditableReason?: string
  evidence?: UsageEvidence
  /** Actions named by a granted policy that the catalog does not know (reported, never dropped). */
  unknownActions?: string[]
  /**
   * What happened to the proposal of a role with excess: `proposed` (documents in `proposed`), `detach-all` (the
   * role uses nothing it is granted: detach its policies; no document), `withheld` (a check failed; see notes).
   */
  proposalOutcome?: 'proposed' | 'detach-all' | 'withheld'
  /** What was done to fit IAM limits (split, compacted), and other notes on the proposal. */
  proposalNotes?: string[]
  /** Unified diff of the normalized current documents against the proposal. */
  diff?: string
  /** Repository path of the role's policy file (policy-path): where pull-request mode writes the proposal. */
  policyFile?: string
  /** True when the granted policies were read from that file in the repository (so findings can point at it). */
  policyFileInRepository?: boolean
  /** Exempted by keep-actions and trusted keep-Sid statements. */
  kept?: KeptAccess
  /** On a pull request: what the head of its policy file grants beyond the base. */
  change?: PullRequestChange
  /** Every source that judged the role, its window and completeness; what each knows of last use. */
  sources?: SourceEvidence[]
  /** Used actions with their counts, first and last seen and sources, where the sources tell. */
  usedEvidence?: UsedActionEvidence[]
  /** How the role was judged when a source served as a prefilter (`access-advisor alone: ...`). */
  judgedBy?: string
  /** source unused-access with aws-recommendation: AWS's recommended policy and how it differs from ours. */
  awsRecommendation?: AwsRecommendation
  /** When the role was last judged: the end of the usage window it was (or, waiting, last) judged on (ISO 8601). */
  lastJudged?: string
  /** Skipped only because a quota is spent (Access Analyzer's daily generations): a later run judges it. */
  waiting?: true
  /** Where the role's granted policies are written in infrastructure code (granted-source iac/auto with iac-path). */
  grantedFrom?: IacGrantLocation[]
  /** How the role was linked to its infrastructure code, or why it could not be. */
  iacLink?: string
  /**
   * The AWS-managed policies its infrastructure code attaches, with the documents the role was judged on: what a
   * detach-and-replace edit of the code keeps. In memory only (not in the JSON report).
   */
  iacAwsManaged?: { role: IacGrantLocation; policies: GrantedPolicy[] }
}

/** A policy written in infrastructure code: a repository path, 1-based inclusive lines, and its address. */
export interface IacGrantLocation {
  kind: 'terraform' | 'cloudformation' | 'policy-file'
  file: string
  startLine: number
  endLine: number
  address: string
}

interface ReportSummary {
  roles: number
  analyzed: number
  failed: number
  excess: number
}

export interface ReportV1 {
  version: 1
  generatedAt: string
  source: UsageSource
  /** Every source of the run, the first being `source`. */
  sources?: UsageSource[]
  roles: RoleResult[]
  summary: ReportSummary
}

/**
 * How the user named a role: a full ARN (with its parsed parts), a bare name, or a name pattern with `*` (resolved
 * with ListRoles). `input` is what the user wrote, trimmed: for a name it is the name, for a pattern the pattern.
 */
export type RoleSelector = (
  | { kind: 'arn'; input: string; accountId: string; path: string; name: string }
  | { kind: 'name'; input: string }
  | { kind: 'pattern'; input: string }
) & {
  /** Set when the selector names IAM users (the `users` input, or a `user/` ARN in `roles`). */
  principal?: 'user'
}

/** Why an added grant is high-risk: it fails `fail-on: high` whatever else is known about it. */
export type AddedRisk =
  | 'privilege-escalation'
  | 'permissions-management'
  | 'write'
  | 'unobservable-write'
  | 'secret-read-on-all-resources'

/** One action the pull request grants beyond the base branch, with the resources it adds. */
export interface AddedAccess {
  action: string
  accessLevel: AccessLevel
  /** Resource patterns of the head that the base did not grant the action on (`NotResource: ...` when negated). */
  resources: string[]
  /** The base granted the action on fewer resources: the pull request widens it. */
  widened?: boolean
  /** Granted only under a condition that really restricts requests. */
  conditional: boolean
  grantedBy: string[]
  /** `used`: observed on what was added; `excess`: observable and not used; `unverified`: nothing to judge it on. */
  judgement: 'used' | 'excess' | 'unobservable' | 'unverified'
  risk?: AddedRisk
}

/** What a pull request changes in a role's policy file: the gate judges this, not the whole role. */
export interface PullRequestChange {
  /** The commit of the base branch the head was compared with. */
  baseSha: string
  /** The policy file does not exist at the base. */
  newFile: boolean
  /** The role does not exist (or was not listed): nothing it did can be known. */
  unverifiedReason?: string
  added: AddedAccess[]
  /** Statements whose Condition restricts nothing (`policy#Sid`: the condition as written). */
  nonRestrictingConditions: string[]
  /** Access Analyzer CheckNoNewAccess of the head against the base, when AWS was reachable. */
  checkNoNewAccess?: 'PASS' | 'FAIL' | 'SKIPPED'
}

/** What keep-actions and keep-Sid statements protected, listed so a reviewer sees every exemption. */
interface KeptAccess {
  statements: string[]
  actions: string[]
}

/** Milliseconds in a day. */
export const DAY_MS = 86_400_000

/** Code-unit order: the same on every machine and locale (localeCompare is neither). */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}
