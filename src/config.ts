import type { RoleSelector, UsageSource } from './model.js'
import { USAGE_SOURCES } from './model.js'
import { FAIL_ON_VALUES } from './report/gate.js'
import type { FailOn } from './report/gate.js'

export const MODES = ['report', 'comment', 'pull-request'] as const
export type Mode = (typeof MODES)[number]
export const GRANTED_SOURCES = ['auto', 'iam', 'files'] as const
export type GrantedSource = (typeof GRANTED_SOURCES)[number]
export const FORMATS = ['markdown', 'json', 'sarif'] as const
export type Format = (typeof FORMATS)[number]

/** The one validated configuration both entries (action and CLI) run on. */
export interface Config {
  readonly roles: readonly RoleSelector[]
  readonly roleToAssume?: string
  readonly roleSessionName: string
  readonly roleDurationSeconds: number
  readonly awsRegion: string
  readonly audience: string
  readonly source: UsageSource
  readonly trailArn?: string
  readonly trailRegions: readonly string[]
  /** CloudTrail source without trail-arn: what the trail logs, as stated by the user (undefined = judge from the records). */
  readonly trailLogging?: TrailLoggingOptions
  readonly accessRoleArn?: string
  readonly cloudtrailPath?: string
  readonly lookbackDays: number
  readonly minObservationDays: number
  readonly allowIncomplete: boolean
  readonly mode: Mode
  readonly policyPath: string
  readonly grantedSource: GrantedSource
  readonly failOn: FailOn
  readonly keepActions: readonly string[]
  readonly keepSidPrefix: string
  readonly validate: boolean
  readonly githubToken?: string
  readonly prBranch: string
  readonly prLabels: readonly string[]
  readonly timeoutMinutes: number
  /** CLI only: granted policies from files instead of IAM. */
  readonly policyFiles: readonly string[]
  /** CLI only: a get-account-authorization-details export. */
  readonly authorizationDetails?: string
  /** CLI only: narrow the window (a local folder's window defaults to the span of its records). */
  readonly since?: Date
  readonly until?: Date
  readonly format: Format
  readonly outDir?: string
  /** CLI only: the JSON report's version (1: every excess action; 2: excess per service and access level). */
  readonly reportVersion: '1' | '2'
}

export const TRAIL_READ_WRITE_TYPES = ['All', 'ReadOnly', 'WriteOnly'] as const
export type TrailReadWriteType = (typeof TRAIL_READ_WRITE_TYPES)[number]
export const TRAIL_EXCLUDABLE_SOURCES = ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] as const

/** What the trail logs, stated as inputs instead of read from CloudTrail. */
export interface TrailLoggingOptions {
  readWriteType: TrailReadWriteType
  excludedSources: string[]
}

/** A bad value in the configuration: the message names the input and what is allowed. */
export class ConfigError extends Error {
  constructor(
    readonly input: string,
    message: string
  ) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** Reads one named input (kebab-case, as in action.yml); undefined or '' when not given. */
export type InputReader = (name: string) => string | undefined

/** Every input's default, as in action.yml (a test keeps the two equal). */
export const INPUT_DEFAULTS: Readonly<Record<string, string>> = {
  'role-to-assume': '',
  'role-session-name': 'iam-least-privilege',
  'role-duration-seconds': '3600',
  'aws-region': '',
  audience: 'sts.amazonaws.com',
  source: 'access-analyzer',
  'trail-arn': '',
  'trail-regions': '',
  'access-role-arn': '',
  'cloudtrail-path': '',
  'trail-read-write-type': '',
  'trail-excluded-sources': '',
  'lookback-days': '90',
  'min-observation-days': '30',
  'allow-incomplete': 'false',
  mode: 'report',
  'policy-path': 'iam/least-privilege/{account}/{role}.json',
  'granted-source': 'auto',
  'fail-on': 'never',
  'keep-actions': '',
  'keep-sid-prefix': 'Keep',
  validate: 'true',
  'github-token': '${{ github.token }}',
  'pr-branch': 'iam-least-privilege/proposals',
  'pr-labels': '',
  'timeout-minutes': '45'
}

const ROLE_ARN =
  /^arn:(aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b):iam::(\d{12}):role(\/(?:[\x21-\x7e]*\/)?)([\w+=,.@-]{1,64})$/
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/
const ROLE_PATTERN = /^[\w+=,.@*-]{1,64}$/
const TRAIL_ARN = /^arn:[\w-]+:cloudtrail:[a-z0-9-]+:\d{12}:trail\/.{1,576}$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const ACTION_PATTERN = /^([a-z0-9-]+:[A-Za-z0-9*?]+|\*)$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/

/** A well-formed role ARN (12-digit account, valid path and name): ARNs read from logs are checked with it too. */
export function isRoleArn(value: string): boolean {
  return ROLE_ARN.test(value)
}

export function parseRoleSelector(input: string): RoleSelector {
  const value = input.trim()
  if (value.startsWith('arn:')) {
    const m = ROLE_ARN.exec(value)
    if (!m) {
      throw new ConfigError(
        'roles',
        `roles: "${value}" is not a valid role ARN; expected arn:aws:iam::<12-digit account>:role/<optional path/><name>`
      )
    }
    return { kind: 'arn', input: value, accountId: m[2], path: m[3], name: m[4] }
  }
  if (value.includes('*')) {
    if (!ROLE_PATTERN.test(value)) {
      throw new ConfigError(
        'roles',
        `roles: "${value}" is not a valid role name pattern; use letters, digits, +=,.@_- and *`
      )
    }
    return { kind: 'pattern', input: value }
  }
  if (!ROLE_NAME.test(value)) {
    throw new ConfigError(
      'roles',
      `roles: "${value}" is neither a role ARN nor a role name (1 to 64 of letters, digits and +=,.@_-)`
    )
  }
  return { kind: 'name', input: value, name: value }
}

/** Splits a list input on newlines and commas, trimming and dropping blanks. */
export function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s.length > 0)
}

function oneOf<T extends string>(name: string, value: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T
  throw new ConfigError(name, `${name}: "${value}" is not allowed; use one of ${allowed.join(', ')}`)
}

function integer(name: string, value: string, min: number, max: number): number {
  if (!/^\d+$/.test(value))
    throw new ConfigError(name, `${name}: "${value}" is not a whole number; use ${min} to ${max}`)
  const n = Number(value)
  if (n < min || n > max) throw new ConfigError(name, `${name}: ${n} is outside ${min} to ${max}`)
  return n
}

function boolean(name: string, value: string): boolean {
  if (/^true$/i.test(value)) return true
  if (/^false$/i.test(value)) return false
  throw new ConfigError(name, `${name}: "${value}" is not a boolean; use true or false`)
}

function date(name: string, value: string | undefined): Date | undefined {
  if (!value) return undefined
  const isoish = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T00:00:00Z` : value)
  if (!isoish.test(value) || Number.isNaN(d.getTime())) {
    throw new ConfigError(
      name,
      `${name}: "${value}" is not a date; use ISO 8601, e.g. 2026-11-01 or 2026-11-01T12:00:00Z`
    )
  }
  return d
}

function optional(value: string | undefined): string | undefined {
  const v = value?.trim()
  return v ? v : undefined
}

export interface ConfigExtras {
  policyFiles?: string[]
  authorizationDetails?: string
  since?: string
  until?: string
  format?: string
  outDir?: string
  reportVersion?: string
  /** Used when aws-region is empty. */
  env?: NodeJS.ProcessEnv
}

/**
 * Builds and validates the configuration. `read` returns the raw value of an input (action input or CLI option,
 * same kebab-case names); defaults are those of action.yml.
 */
export function buildConfig(read: InputReader, extras: ConfigExtras = {}): Config {
  const get = (name: string): string => {
    const raw = read(name)
    return raw === undefined || raw.trim() === '' ? (INPUT_DEFAULTS[name] ?? '') : raw.trim()
  }
  // One role per line only: IAM role names may contain commas.
  const roleLines = (read('roles') ?? '')
    .split('\n')
    .map(s => s.trim())
    .filter(s => s.length > 0)
  if (roleLines.length === 0) {
    throw new ConfigError(
      'roles',
      'roles: required; give one role ARN, role name or name pattern (with *) per line'
    )
  }
  const roles = roleLines.map(parseRoleSelector)

  const source = oneOf('source', get('source'), USAGE_SOURCES)
  const env = extras.env ?? process.env
  const awsRegion = optional(read('aws-region')) ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1'
  if (!REGION.test(awsRegion)) {
    throw new ConfigError(
      'aws-region',
      `aws-region: "${awsRegion}" is not an AWS Region name such as us-east-1`
    )
  }
  const trailRegions = splitList(get('trail-regions'))
  for (const r of trailRegions) {
    if (!REGION.test(r))
      throw new ConfigError(
        'trail-regions',
        `trail-regions: "${r}" is not an AWS Region name such as eu-west-1`
      )
  }
  const roleToAssume = optional(read('role-to-assume'))
  if (roleToAssume && !ROLE_ARN.test(roleToAssume)) {
    throw new ConfigError(
      'role-to-assume',
      `role-to-assume: "${roleToAssume}" is not a role ARN (arn:aws:iam::<account>:role/<name>)`
    )
  }
  const roleSessionName = get('role-session-name')
  if (!SESSION_NAME.test(roleSessionName)) {
    throw new ConfigError(
      'role-session-name',
      `role-session-name: "${roleSessionName}" must be 2 to 64 of letters, digits and +=,.@_-`
    )
  }
  const trailArn = optional(read('trail-arn'))
  if (trailArn && !TRAIL_ARN.test(trailArn)) {
    throw new ConfigError(
      'trail-arn',
      `trail-arn: "${trailArn}" is not a trail ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>)`
    )
  }
  const accessRoleArn = optional(read('access-role-arn'))
  if (accessRoleArn && !ROLE_ARN.test(accessRoleArn)) {
    throw new ConfigError(
      'access-role-arn',
      `access-role-arn: "${accessRoleArn}" is not a role ARN (arn:aws:iam::<account>:role/<name>)`
    )
  }
  const cloudtrailPath = optional(read('cloudtrail-path'))
  refuseInapplicable(read, extras, source, cloudtrailPath)
  const trailLogging = trailLoggingOptions(
    optional(read('trail-read-write-type')),
    splitList(get('trail-excluded-sources'))
  )
  if (trailLogging && (source !== 'cloudtrail' || trailArn)) {
    throw new ConfigError(
      trailLogging.given,
      `${trailLogging.given}: only with source: cloudtrail and no trail-arn (with trail-arn the trail's own configuration is read)`
    )
  }
  if (source === 'access-analyzer') {
    if (!trailArn)
      throw new ConfigError(
        'trail-arn',
        'trail-arn: required with source: access-analyzer (the trail Access Analyzer reads)'
      )
    if (!accessRoleArn) {
      throw new ConfigError(
        'access-role-arn',
        'access-role-arn: required with source: access-analyzer (the service role Access Analyzer assumes to read the trail)'
      )
    }
  } else if (!cloudtrailPath) {
    throw new ConfigError(
      'cloudtrail-path',
      'cloudtrail-path: required with source: cloudtrail (a folder of log files or s3://bucket/prefix)'
    )
  } else if (
    cloudtrailPath.startsWith('s3://') &&
    !/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/.test(cloudtrailPath)
  ) {
    throw new ConfigError(
      'cloudtrail-path',
      `cloudtrail-path: "${cloudtrailPath}" is not a valid s3://bucket/prefix URL`
    )
  }

  const keepActions = splitList(get('keep-actions'))
  for (const a of keepActions) {
    if (!ACTION_PATTERN.test(a)) {
      throw new ConfigError(
        'keep-actions',
        `keep-actions: "${a}" is not an action or action pattern such as s3:GetObject or s3:Get*`
      )
    }
  }
  const policyPath = get('policy-path')
  if (policyPath.startsWith('/') || policyPath.split('/').includes('..') || !policyPath.includes('{role}')) {
    throw new ConfigError(
      'policy-path',
      `policy-path: "${policyPath}" must be a relative path inside the repository containing {role} (and usually {account})`
    )
  }
  const prBranch = get('pr-branch')
  if (
    !/^[\w./-]+$/.test(prBranch) ||
    prBranch.includes('..') ||
    prBranch.endsWith('/') ||
    prBranch.startsWith('/')
  ) {
    throw new ConfigError('pr-branch', `pr-branch: "${prBranch}" is not a valid branch name`)
  }
  const githubToken = optional(read('github-token'))
  const since = date('since', extras.since)
  const until = date('until', extras.until)
  if (since && until && since >= until)
    throw new ConfigError('since', `since: ${extras.since} is not before until: ${extras.until}`)

  return {
    roles,
    roleToAssume,
    roleSessionName,
    roleDurationSeconds: integer('role-duration-seconds', get('role-duration-seconds'), 900, 43200),
    awsRegion,
    audience: get('audience'),
    source,
    trailArn,
    trailRegions,
    ...(trailLogging ? { trailLogging: trailLogging.options } : {}),
    accessRoleArn,
    cloudtrailPath,
    lookbackDays: integer('lookback-days', get('lookback-days'), 1, 90),
    minObservationDays: integer('min-observation-days', get('min-observation-days'), 0, 90),
    allowIncomplete: boolean('allow-incomplete', get('allow-incomplete')),
    mode: oneOf('mode', get('mode'), MODES),
    policyPath,
    grantedSource: oneOf('granted-source', get('granted-source'), GRANTED_SOURCES),
    failOn: oneOf('fail-on', get('fail-on'), FAIL_ON_VALUES),
    keepActions,
    // Given but empty turns keep-Sid exemptions off; not given at all is the default.
    keepSidPrefix:
      read('keep-sid-prefix') === undefined ? get('keep-sid-prefix') : (read('keep-sid-prefix') ?? '').trim(),
    validate: boolean('validate', get('validate')),
    githubToken: githubToken && githubToken !== INPUT_DEFAULTS['github-token'] ? githubToken : undefined,
    prBranch,
    prLabels: splitList(get('pr-labels')),
    timeoutMinutes: integer('timeout-minutes', get('timeout-minutes'), 1, 360),
    policyFiles: extras.policyFiles ?? [],
    authorizationDetails: optional(extras.authorizationDetails),
    since,
    until,
    format: oneOf('format', extras.format ?? 'markdown', FORMATS),
    outDir: optional(extras.outDir),
    reportVersion: oneOf('report-version', extras.reportVersion ?? '1', ['1', '2'] as const)
  }
}

/**
 * Options that do not apply to the chosen source are refused, not ignored: a user who sets one believes it does
 * something. Inputs equal to their default count as not given (the action passes every default).
 */
function refuseInapplicable(
  read: InputReader,
  extras: ConfigExtras,
  source: UsageSource,
  cloudtrailPath: string | undefined
): void {
  const given = (name: string): boolean => {
    const raw = read(name)?.trim()
    return raw !== undefined && raw !== '' && raw !== INPUT_DEFAULTS[name]
  }
  const refuse = (name: string, why: string) => {
    throw new ConfigError(name, `${name}: ${why}; remove it`)
  }
  if (source === 'access-analyzer') {
    if (given('cloudtrail-path'))
      refuse(
        'cloudtrail-path',
        'only applies to source: cloudtrail (set source: cloudtrail to read log files)'
      )
    for (const name of ['since', 'until'] as const) {
      if (extras[name]?.trim())
        refuse(name, 'only applies to source: cloudtrail (Access Analyzer reads lookback-days up to now)')
    }
    return
  }
  // trail-arn stays: with source cloudtrail it names the trail whose logging configuration is read.
  if (given('access-role-arn'))
    refuse(
      'access-role-arn',
      'only applies to source: access-analyzer (source: cloudtrail reads cloudtrail-path)'
    )
  if (cloudtrailPath && !cloudtrailPath.startsWith('s3://')) {
    if (given('trail-regions'))
      refuse(
        'trail-regions',
        'does not apply to a local cloudtrail-path (every log file in the folder is read)'
      )
    if (given('lookback-days'))
      refuse(
        'lookback-days',
        'does not apply to a local cloudtrail-path (its window is the span of its records; narrow it with since/until)'
      )
  }
}

/** Expands policy-path for one role. */
export function policyPathFor(template: string, accountId: string, roleName: string): string {
  return template.replace(/\{account\}/g, accountId).replace(/\{role\}/g, roleName)
}

/** The trail options, or undefined when neither was given (then the records decide what the trail logs). */
function trailLoggingOptions(
  readWrite: string | undefined,
  excluded: string[]
): { options: TrailLoggingOptions; given: string } | undefined {
  if (!readWrite && excluded.length === 0) return undefined
  const readWriteType = readWrite ? oneOf('trail-read-write-type', readWrite, TRAIL_READ_WRITE_TYPES) : 'All'
  for (const source of excluded) {
    if (!(TRAIL_EXCLUDABLE_SOURCES as readonly string[]).includes(source)) {
      throw new ConfigError(
        'trail-excluded-sources',
        `trail-excluded-sources: "${source}" cannot be excluded from a trail; use ${TRAIL_EXCLUDABLE_SOURCES.join(' or ')}`
      )
    }
  }
  return {
    options: { readWriteType, excludedSources: excluded },
    given: readWrite ? 'trail-read-write-type' : 'trail-excluded-sources'
  }
}
