import type { RoleSelector, UsageSource } from './model.js'
import { ROLE_ARN_FORM, USER_ARN_FORM, isRoleArn, isUserArn, parseRoleArn, parseUserArn } from './roles.js'
import { USAGE_SOURCES, readsLogRecords } from './model.js'
import { FAIL_ON_VALUES } from './report/gate.js'
import type { FailOn } from './report/gate.js'

const MODES = ['report', 'comment', 'pull-request'] as const
type Mode = (typeof MODES)[number]
const GRANTED_SOURCES = ['auto', 'iam', 'files', 'iac'] as const
type GrantedSource = (typeof GRANTED_SOURCES)[number]
const FORMATS = ['markdown', 'json', 'sarif'] as const
type Format = (typeof FORMATS)[number]
const REPORT_VERSIONS = ['1', '2'] as const
type ReportVersion = (typeof REPORT_VERSIONS)[number]
const TRAIL_READ_WRITE_TYPES = ['All', 'ReadOnly', 'WriteOnly'] as const
type TrailReadWriteType = (typeof TRAIL_READ_WRITE_TYPES)[number]
const TRAIL_EXCLUDABLE_SOURCES = ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] as const

/** The Region used when neither aws-region nor the environment names one. */
export const DEFAULT_REGION = 'us-east-1'

/** What the trail logs, stated as inputs instead of read from CloudTrail. */
interface TrailLoggingOptions {
  readWriteType: TrailReadWriteType
  excludedSources: string[]
}

/** Source athena: the table (`catalog` optional), the workgroup and the limits of its query. */
export interface AthenaOptions {
  readonly catalog?: string | undefined
  readonly database: string
  readonly table: string
  readonly workgroup: string
  readonly outputLocation?: string | undefined
  readonly createTable: boolean
  /** Bytes a query may scan before it is stopped. */
  readonly maxScanBytes: number
}

/** What the run needs, whichever entry (action or CLI) started it. */
export interface Config {
  readonly roles: readonly RoleSelector[]
  readonly roleToAssume?: string | undefined
  readonly roleSessionName: string
  readonly roleDurationSeconds: number
  readonly awsRegion: string
  readonly audience: string
  /** The first of `sources` (the report's `source`). */
  readonly source: UsageSource
  /** Every usage source, merged into one verdict (policy/merge-usage.ts). */
  readonly sources: readonly UsageSource[]
  readonly trailArn?: string | undefined
  readonly trailRegions: readonly string[]
  /** CloudTrail source without trail-arn: what the trail logs, as stated by the user (undefined = judge from the records). */
  readonly trailLogging?: TrailLoggingOptions
  readonly accessRoleArn?: string | undefined
  readonly cloudtrailPath?: string | undefined
  /** Source athena: the CloudTrail table and where and how its query runs. */
  readonly athena?: AthenaOptions | undefined
  readonly lookbackDays: number
  readonly minObservationDays: number
  readonly allowIncomplete: boolean
  readonly policyPath: string
  readonly grantedSource: GrantedSource
  /** The folder of the infrastructure code (Terraform, CloudFormation), relative to the workspace. */
  readonly iacPath?: string | undefined
  /** `terraform show -json` output, to link roles to the Terraform that defines them (address ↔ ARN). */
  readonly terraformState?: string | undefined
  /** A JSON file mapping role ARN or name to the file and address that define it. */
  readonly iacMapping?: string | undefined
  readonly keepActions: readonly string[]
  readonly keepSidPrefix: string
  readonly validate: boolean
  readonly timeoutMinutes: number
  /** CLI only: policies granted to every role analyzed, on top of what IAM or the export grants it. */
  readonly policyFiles: readonly string[]
  /** CLI only: a get-account-authorization-details export; each role's policies are taken from it. */
  readonly authorizationDetails?: string | undefined
  /** CLI only: narrow the window (a local folder's window defaults to the span of its records). */
  readonly since?: Date | undefined
  readonly until?: Date | undefined
  /** source unused-access: the analyzer's ARN; undefined = the account's active unused-access analyzer. */
  readonly unusedAccessAnalyzer?: string | undefined
  /** source unused-access: fetch AWS's recommended policy for each finding and show it next to ours. */
  readonly awsRecommendation: boolean
  /** Accounts to analyze besides those of the role ARNs in `roles`: ids, or every active account of the organization. */
  readonly accounts?: readonly string[] | 'organization' | undefined
  /** A role ARN with `{account}`, assumed with sts:AssumeRole from the hub session in each account. */
  readonly memberRole?: string | undefined
  /** How many accounts are read at once (each has its own Access Analyzer queue). */
  readonly accountConcurrency?: number
  /** A role whose last policy generation is younger than this many days is not analyzed again (its job is reused). */
  readonly reanalyzeAfterDays?: number
}

/** The action's own settings: how the report is published on GitHub, and the gate. */
export interface ActionSettings {
  readonly mode: Mode
  readonly githubToken?: string | undefined
  readonly prBranch: string
  readonly prLabels: readonly string[]
  readonly failOn: FailOn
}

/** The CLI's own settings: where the report goes, and the gate. */
export interface CliSettings {
  readonly format: Format
  readonly outDir?: string | undefined
  readonly failOn: FailOn
  /** The JSON report's version: 1 lists every excess action; 2 groups excess per service and access level. */
  readonly reportVersion: ReportVersion
  /** Apply the proposals to the infrastructure-code files under iac-path, in place. */
  readonly writeIac: boolean
}

export type ActionConfig = Config & ActionSettings
export type CliConfig = Config & CliSettings

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

/**
 * Reads one named input (kebab-case, as in action.yml and as the CLI option); undefined when not given, '' when
 * given empty. A repeatable CLI option reads as its values joined by newlines.
 */
type InputReader = (name: string) => string | undefined

type Entry = 'action' | 'cli'

/** How the CLI spells an input: `--name VALUE` (once or repeated), or a flag that sets the input to `value`. */
type CliForm =
  | { readonly kind: 'value'; readonly multiple: boolean }
  | { readonly kind: 'flag'; readonly option: string; readonly value: string }

interface InputSpec<T> {
  /** The default (as action.yml states it); '' = none. */
  readonly default: string
  readonly entries: readonly Entry[]
  /** The CLI form; `--name VALUE` given once when absent. */
  readonly cli?: CliForm
  /** An input given as '' keeps '' instead of falling back to the default. */
  readonly emptyIsValue?: true
  /** The value as given, untrimmed: a repeatable option's blank values stay (one per line). */
  readonly verbatim?: true
  /** Parses the trimmed value (the default when the input was not given or blank); `name` is for messages. */
  readonly parse: (value: string, name: string, context: ParseContext) => T
}

interface ParseContext {
  /** Where aws-region falls back to AWS_REGION and AWS_DEFAULT_REGION. */
  readonly env: NodeJS.ProcessEnv
  /** Whether the entry read the input at all (given, even blank), as opposed to taking its default. */
  readonly given: boolean
}

const BOTH: readonly Entry[] = ['action', 'cli']
const ACTION: readonly Entry[] = ['action']
const CLI: readonly Entry[] = ['cli']
const REPEATABLE: CliForm = { kind: 'value', multiple: true }

function input<T>(spec: InputSpec<T>): InputSpec<T> {
  return spec
}

const ROLE_NAME = /^[\w+=,.@-]{1,64}$/
const ROLE_PATTERN = /^[\w+=,.@*-]{1,64}$/
const TRAIL_ARN = /^arn:[\w-]+:cloudtrail:[a-z0-9-]+:\d{12}:trail\/.{1,576}$/
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/
const ACTION_PATTERN = /^([a-z0-9-]+:[A-Za-z0-9*?]+|\*)$/
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/
const ATHENA_NAME = /^[\w.-]{1,128}$/
const ATHENA_TABLE = /^[A-Za-z0-9_-]{1,255}\.[A-Za-z0-9_-]{1,255}$/
const S3_URL = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/
const ANALYZER_ARN = /^arn:[\w-]+:access-analyzer:[a-z0-9-]+:\d{12}:analyzer\/[A-Za-z][\w.-]{0,254}$/

export function parseRoleSelector(input: string): RoleSelector {
  const value = input.trim()
  const user = value.startsWith('arn:') ? parseUserArn(value) : undefined
  if (user)
    return {
      kind: 'arn',
      input: value,
      accountId: user.accountId,
      path: user.path,
      name: user.name,
      principal: 'user'
    }
  if (value.startsWith('arn:')) {
    const role = parseRoleArn(value)
    if (!role) {
      throw new ConfigError('roles', `roles: "${value}" is not a valid role ARN; expected ${ROLE_ARN_FORM}`)
    }
    return { kind: 'arn', input: value, accountId: role.accountId, path: role.path, name: role.name }
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
  return { kind: 'name', input: value }
}

/** A `users` line: a user ARN, a user name, or a name pattern with `*`. */
function parseUserSelector(input: string): RoleSelector {
  const value = input.trim()
  if (value.startsWith('arn:')) {
    if (!parseUserArn(value))
      throw new ConfigError(
        'users',
        `users: "${value}" is not a valid IAM user ARN; expected ${USER_ARN_FORM}`
      )
    return parseRoleSelector(value)
  }
  if (!(value.includes('*') ? ROLE_PATTERN : ROLE_NAME).test(value))
    throw new ConfigError(
      'users',
      `users: "${value}" is neither a user ARN, a user name nor a name pattern (letters, digits, +=,.@_- and *)`
    )
  return { kind: value.includes('*') ? 'pattern' : 'name', input: value, principal: 'user' }
}

/** Splits a list input on newlines and commas, trimming and dropping blanks. */
function splitList(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\n,]/)
    .map(s => s.trim())
    .filter(s => s.length > 0)
}

/** One item per line only (IAM role names may contain commas). */
function splitLines(value: string): string[] {
  return value
    .split('\n')
    .map(s => s.trim())
    .filter(s => s.length > 0)
}

function oneOf<T extends string>(allowed: readonly T[]): (value: string, name: string) => T {
  return (value, name) => {
    if ((allowed as readonly string[]).includes(value)) return value as T
    throw new ConfigError(name, `${name}: "${value}" is not allowed; use one of ${allowed.join(', ')}`)
  }
}

function integer(min: number, max: number): (value: string, name: string) => number {
  return (value, name) => {
    if (!/^\d+$/.test(value))
      throw new ConfigError(name, `${name}: "${value}" is not a whole number; use ${min} to ${max}`)
    const n = Number(value)
    if (n < min || n > max) throw new ConfigError(name, `${name}: ${n} is outside ${min} to ${max}`)
    return n
  }
}

/** One source or several (comma or newline separated), each once, in the order given. */
function usageSources(value: string, name: string): [UsageSource, ...UsageSource[]] {
  const parse = oneOf(USAGE_SOURCES)
  const [first, ...rest] = [...new Set(splitList(value).map(v => parse(v, name)))]
  if (!first) throw new ConfigError(name, `${name}: give one or more of ${USAGE_SOURCES.join(', ')}`)
  return [first, ...rest]
}

function boolean(value: string, name: string): boolean {
  if (/^true$/i.test(value)) return true
  if (/^false$/i.test(value)) return false
  throw new ConfigError(name, `${name}: "${value}" is not a boolean; use true or false`)
}

function date(value: string, name: string): Date | undefined {
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

function optional(value: string): string | undefined {
  return value === '' ? undefined : value
}

/** An optional value that must match `pattern` when given. */
function matching(
  valid: RegExp | ((value: string) => boolean),
  what: string
): (value: string, name: string) => string | undefined {
  const test = valid instanceof RegExp ? (value: string) => valid.test(value) : valid
  return (value, name) => {
    if (value && !test(value)) throw new ConfigError(name, `${name}: "${value}" is not ${what}`)
    return optional(value)
  }
}

/** The placeholder a role ARN holds in place of the account id, replaced once per account. */
export const ACCOUNT_PLACEHOLDER = '{account}'
const ACCOUNT_ID = /^\d{12}$/

/** A role ARN, or one with `{account}` as its account. */
const roleArnOrTemplate = matching(
  value => isRoleArn(value.replace(`:${ACCOUNT_PLACEHOLDER}:`, ':000000000000:')),
  'a role ARN (arn:aws:iam::<account>:role/<name>, where <account> may be {account})'
)

function accountList(value: string, name: string): string[] | 'organization' | undefined {
  const list = splitList(value)
  if (list.length === 0) return undefined
  if (list.includes('organization')) {
    if (list.length > 1)
      throw new ConfigError(name, `${name}: organization already means every active account; give it alone`)
    return 'organization'
  }
  for (const id of list)
    if (!ACCOUNT_ID.test(id))
      throw new ConfigError(
        name,
        `${name}: "${id}" is not a 12-digit AWS account id; give account ids (one per line) or organization`
      )
  return [...new Set(list)]
}

function regions(value: string, name: string): string[] {
  const list = splitList(value)
  for (const r of list) {
    if (!REGION.test(r))
      throw new ConfigError(name, `${name}: "${r}" is not an AWS Region name such as eu-west-1`)
  }
  return list
}

function actionPatterns(value: string, name: string): string[] {
  const list = splitList(value)
  for (const a of list) {
    if (!ACTION_PATTERN.test(a)) {
      throw new ConfigError(
        name,
        `${name}: "${a}" is not an action or action pattern such as s3:GetObject or s3:Get*`
      )
    }
  }
  return list
}

function excludedSources(value: string, name: string): string[] {
  const list = splitList(value)
  for (const source of list) {
    if (!(TRAIL_EXCLUDABLE_SOURCES as readonly string[]).includes(source)) {
      throw new ConfigError(
        name,
        `${name}: "${source}" cannot be excluded from a trail; use ${TRAIL_EXCLUDABLE_SOURCES.join(' or ')}`
      )
    }
  }
  return list
}

const GITHUB_TOKEN_DEFAULT = '${{ github.token }}'

/**
 * Every input, declared once: its default, the entries that take it, how the CLI spells it and its parser.
 * action.yml, the README tables, the CLI's options and its usage text are checked against this table.
 */
export const INPUTS = {
  roles: input({
    default: '',
    entries: BOTH,
    cli: REPEATABLE,
    // Required unless users are given (checked with them).
    parse: value => splitLines(value).map(parseRoleSelector)
  }),
  'role-to-assume': input({
    default: '',
    entries: ACTION,
    parse: roleArnOrTemplate
  }),
  accounts: input({ default: '', entries: BOTH, parse: accountList }),
  'member-role': input({
    default: '',
    entries: BOTH,
    parse: (value, name) => {
      const arn = roleArnOrTemplate(value, name)
      if (arn && !arn.includes(`:${ACCOUNT_PLACEHOLDER}:`))
        throw new ConfigError(
          name,
          `${name}: "${arn}" has no {account}; write the account as {account}, e.g. arn:aws:iam::{account}:role/iam-least-privilege`
        )
      return arn
    }
  }),
  'account-concurrency': input({ default: '10', entries: BOTH, parse: integer(1, 64) }),
  'role-session-name': input({
    default: 'iam-least-privilege',
    entries: ACTION,
    parse: (value, name) => {
      if (!SESSION_NAME.test(value))
        throw new ConfigError(name, `${name}: "${value}" must be 2 to 64 of letters, digits and +=,.@_-`)
      return value
    }
  }),
  'role-duration-seconds': input({ default: '3600', entries: ACTION, parse: integer(900, 43200) }),
  'aws-region': input({
    default: '',
    entries: BOTH,
    parse: (value, name, { env }) => {
      // A blank variable is unset, as the SDK reads it (a workflow's `${{ vars.X }}` that is not defined).
      const fromEnv = (['AWS_REGION', 'AWS_DEFAULT_REGION'] as const).find(v => env[v]?.trim())
      const region = optional(value) ?? (fromEnv ? (env[fromEnv] ?? '').trim() : DEFAULT_REGION)
      if (!REGION.test(region)) {
        const origin = value || !fromEnv ? '' : ` (from ${fromEnv})`
        throw new ConfigError(
          name,
          `${name}: "${region}"${origin} is not an AWS Region name such as us-east-1`
        )
      }
      return region
    }
  }),
  audience: input({ default: 'sts.amazonaws.com', entries: ACTION, parse: value => value }),
  source: input({ default: 'access-analyzer', entries: BOTH, parse: usageSources }),
  'trail-arn': input({
    default: '',
    entries: BOTH,
    parse: matching(TRAIL_ARN, 'a trail ARN (arn:aws:cloudtrail:<region>:<account>:trail/<name>)')
  }),
  'trail-read-write-type': input({
    default: '',
    entries: BOTH,
    parse: (value, name) => (value ? oneOf(TRAIL_READ_WRITE_TYPES)(value, name) : undefined)
  }),
  'trail-excluded-sources': input({ default: '', entries: BOTH, parse: excludedSources }),
  'trail-regions': input({ default: '', entries: BOTH, parse: regions }),
  'access-role-arn': input({
    default: '',
    entries: BOTH,
    parse: roleArnOrTemplate
  }),
  'cloudtrail-path': input({
    default: '',
    entries: BOTH,
    parse: (value, name) => {
      if (value.startsWith('s3://') && !S3_URL.test(value))
        throw new ConfigError(name, `${name}: "${value}" is not a valid s3://bucket/prefix URL`)
      return optional(value)
    }
  }),
  'athena-table': input({
    default: '',
    entries: BOTH,
    parse: matching(ATHENA_TABLE, 'a table name database.table (letters, digits, _ and -)')
  }),
  'athena-workgroup': input({
    default: 'primary',
    entries: BOTH,
    parse: (value, name) => {
      if (!ATHENA_NAME.test(value) || value.length > 128)
        throw new ConfigError(
          name,
          `${name}: "${value}" is not a workgroup name (letters, digits, _, . and -)`
        )
      return value
    }
  }),
  'athena-output-location': input({
    default: '',
    entries: BOTH,
    parse: matching(S3_URL, 'an s3://bucket/prefix/ location for query results')
  }),
  'athena-catalog': input({
    default: '',
    entries: BOTH,
    parse: matching(ATHENA_NAME, 'a data catalog name (letters, digits, _ and -)')
  }),
  'athena-create-table': input({
    default: 'false',
    entries: BOTH,
    cli: { kind: 'flag', option: 'athena-create-table', value: 'true' },
    parse: boolean
  }),
  'athena-max-scan-gb': input({
    default: '100',
    entries: BOTH,
    parse: (value, name) => {
      const gb = Number(value)
      if (!/^\d+(\.\d+)?$/.test(value) || !(gb > 0) || gb > 1_000_000)
        throw new ConfigError(
          name,
          `${name}: "${value}" is not a number of gigabytes above 0 (for example 50 or 0.5)`
        )
      return gb
    }
  }),
  'lookback-days': input({ default: '90', entries: BOTH, parse: integer(1, 400) }),
  // ListPolicyGenerations lists the last seven days: an older generation cannot be found to be reused.
  'reanalyze-after-days': input({ default: '7', entries: BOTH, parse: integer(1, 7) }),
  'min-observation-days': input({ default: '30', entries: BOTH, parse: integer(0, 90) }),
  'allow-incomplete': input({
    default: 'false',
    entries: BOTH,
    cli: { kind: 'flag', option: 'allow-incomplete', value: 'true' },
    parse: boolean
  }),
  mode: input({ default: 'report', entries: ACTION, parse: oneOf(MODES) }),
  'policy-path': input({
    default: 'iam/least-privilege/{account}/{role}.json',
    entries: BOTH,
    parse: (value, name) => {
      if (value.startsWith('/') || value.split('/').includes('..') || !value.includes('{role}')) {
        throw new ConfigError(
          name,
          `${name}: "${value}" must be a relative path inside the repository containing {role} (and usually {account})`
        )
      }
      return value
    }
  }),
  'granted-source': input({ default: 'auto', entries: BOTH, parse: oneOf(GRANTED_SOURCES) }),
  'iac-path': input({ default: '', entries: BOTH, parse: value => optional(value) }),
  'terraform-state': input({ default: '', entries: BOTH, parse: value => optional(value) }),
  'iac-mapping': input({ default: '', entries: BOTH, parse: value => optional(value) }),
  'write-iac': input({
    default: 'false',
    entries: CLI,
    cli: { kind: 'flag', option: 'write-iac', value: 'true' },
    parse: boolean
  }),
  'fail-on': input({ default: 'never', entries: BOTH, parse: oneOf(FAIL_ON_VALUES) }),
  'keep-actions': input({ default: '', entries: BOTH, parse: actionPatterns }),
  // Given but empty turns keep-Sid exemptions off; not given at all is the default.
  'keep-sid-prefix': input({ default: 'Keep', entries: BOTH, emptyIsValue: true, parse: value => value }),
  validate: input({
    default: 'true',
    entries: BOTH,
    cli: { kind: 'flag', option: 'no-validate', value: 'false' },
    parse: boolean
  }),
  'github-token': input({
    default: GITHUB_TOKEN_DEFAULT,
    entries: ACTION,
    // The unexpanded expression (a run outside GitHub Actions) is no token.
    parse: value => (value === GITHUB_TOKEN_DEFAULT ? undefined : optional(value))
  }),
  'pr-branch': input({
    default: 'iam-least-privilege/proposals',
    entries: ACTION,
    parse: (value, name) => {
      if (!/^[\w./-]+$/.test(value) || value.includes('..') || value.endsWith('/') || value.startsWith('/'))
        throw new ConfigError(name, `${name}: "${value}" is not a valid branch name`)
      return value
    }
  }),
  'pr-labels': input({ default: '', entries: ACTION, parse: value => splitList(value) }),
  'timeout-minutes': input({ default: '45', entries: BOTH, parse: integer(1, 360) }),
  // Each value is one file: a blank one (an unset shell variable) is an error, never dropped.
  policy: input({
    default: '',
    entries: CLI,
    cli: REPEATABLE,
    verbatim: true,
    parse: (value, name, { given }) =>
      given
        ? value.split('\n').map(line => {
            const file = line.trim()
            if (!file)
              throw new ConfigError(
                name,
                `${name}: a blank --${name} names no file; give the path of a policy file`
              )
            return file
          })
        : []
  }),
  'authorization-details': input({ default: '', entries: CLI, parse: optional }),
  since: input({ default: '', entries: CLI, parse: date }),
  until: input({ default: '', entries: CLI, parse: date }),
  format: input({ default: 'markdown', entries: CLI, parse: oneOf(FORMATS) }),
  'report-version': input({ default: '1', entries: CLI, parse: oneOf(REPORT_VERSIONS) }),
  out: input({ default: '', entries: CLI, parse: optional }),
  'unused-access-analyzer': input({
    default: '',
    entries: BOTH,
    parse: matching(
      ANALYZER_ARN,
      'an analyzer ARN (arn:aws:access-analyzer:<region>:<account>:analyzer/<name>)'
    )
  }),
  users: input({
    default: '',
    entries: BOTH,
    cli: REPEATABLE,
    parse: value => splitLines(value).map(parseUserSelector)
  }),
  'aws-recommendation': input({
    default: 'false',
    entries: BOTH,
    cli: { kind: 'flag', option: 'aws-recommendation', value: 'true' },
    parse: boolean
  })
} as const

export type InputName = keyof typeof INPUTS
type InputValues = { [K in InputName]: ReturnType<(typeof INPUTS)[K]['parse']> }

/** The inputs an entry takes, in table order. */
export function inputsOf(entry: Entry): InputName[] {
  return (Object.keys(INPUTS) as InputName[]).filter(name => INPUTS[name].entries.includes(entry))
}

/** How the CLI spells an input. */
export function cliForm(name: InputName): CliForm {
  return INPUTS[name].cli ?? { kind: 'value', multiple: false }
}

/** An input's default as action.yml states it. */
export function inputDefault(name: InputName): string {
  return INPUTS[name].default
}

/** The raw value of an input: trimmed (unless verbatim), with its default when not given or blank. */
function rawValue(read: InputReader, name: InputName): string {
  const spec: InputSpec<unknown> = INPUTS[name]
  const given = read(name)
  if (given === undefined) return spec.default
  if (spec.verbatim) return given
  const raw = given.trim()
  return raw === '' && !spec.emptyIsValue ? spec.default : raw
}

/** Parses every input; `read` answers only for the inputs of the entry, the others have their defaults. */
function parseInputs(read: InputReader, env: NodeJS.ProcessEnv): InputValues {
  const parse = <K extends InputName>(name: K): InputValues[K] => {
    const spec = INPUTS[name] as InputSpec<InputValues[K]>
    return spec.parse(rawValue(read, name), name, { env, given: read(name) !== undefined })
  }
  const values: Partial<Record<InputName, unknown>> = {}
  for (const name of Object.keys(INPUTS) as InputName[]) values[name] = parse(name)
  return values as InputValues
}

/**
 * Options that do not apply to the chosen source are refused, not ignored: a user who sets one believes it does
 * something. Inputs equal to their default count as not given (the action passes every default).
 */
function refuseInapplicable(read: InputReader, values: InputValues): void {
  const given = (name: InputName): boolean => {
    const raw = read(name)?.trim()
    return raw !== undefined && raw !== '' && raw !== INPUTS[name].default
  }
  const refuse = (name: InputName, why: string) => {
    if (given(name)) throw new ConfigError(name, `${name}: ${why}; remove it`)
  }
  const uses = (source: UsageSource) => values.source.includes(source)
  const createsTable = uses('athena') && values['athena-create-table']
  if (!uses('athena')) {
    for (const name of ATHENA_INPUTS) refuse(name, 'only applies to source: athena')
  } else if (!createsTable && !uses('cloudtrail')) {
    refuse(
      'cloudtrail-path',
      'with source: athena applies only with athena-create-table: true (the trail location the table reads)'
    )
  }
  if (!uses('unused-access')) {
    refuse('unused-access-analyzer', 'only applies to source: unused-access')
    refuse(
      'aws-recommendation',
      'only applies to source: unused-access (AWS recommends policies for its findings)'
    )
  } else if (values.source.length === 1) {
    for (const name of [
      'cloudtrail-path',
      'since',
      'until',
      'access-role-arn',
      'trail-arn',
      'trail-regions'
    ] as const)
      refuse(name, "does not apply to source: unused-access (it reads the analyzer's findings, not a trail)")
    refuse(
      'lookback-days',
      "does not apply to source: unused-access (the window is the analyzer's tracking period)"
    )
    return
  }
  if (!uses('cloudtrail') && !createsTable)
    refuse('cloudtrail-path', 'only applies to source: cloudtrail (set source: cloudtrail to read log files)')
  if (!uses('cloudtrail') && !uses('athena')) {
    for (const name of ['since', 'until'] as const)
      refuse(
        name,
        `only applies to source: cloudtrail (${values.source.join(', ')} reads lookback-days up to now)`
      )
  }
  if (!uses('access-analyzer') && !values.source.some(readsLogRecords)) {
    for (const name of ['trail-arn', 'trail-regions'] as const)
      refuse(
        name,
        `does not apply to source: ${values.source.join(', ')} (last-accessed data and findings need no trail)`
      )
  }
  if (!uses('access-analyzer'))
    refuse(
      'access-role-arn',
      `only applies to source: access-analyzer (${values.source.join(', ')} starts no policy generation)`
    )
  // trail-arn stays: with source cloudtrail it names the trail whose logging configuration is read.
  if (!uses('cloudtrail')) return
  if (
    values.source.length === 1 &&
    values['cloudtrail-path'] &&
    !values['cloudtrail-path'].startsWith('s3://')
  ) {
    refuse(
      'trail-regions',
      'does not apply to a local cloudtrail-path (every log file in the folder is read)'
    )
    refuse(
      'lookback-days',
      'does not apply to a local cloudtrail-path (its window is the span of its records; narrow it with since/until)'
    )
  }
}

/** The inputs each source needs, and the trail options only where the records decide what the trail logs. */
function requireForSource(read: InputReader, values: InputValues): void {
  if (values['granted-source'] === 'iac' && !values['iac-path'])
    throw new ConfigError(
      'iac-path',
      'iac-path: required with granted-source: iac (the folder of the Terraform or CloudFormation code)'
    )
  if (values['write-iac'] && !values['iac-path'])
    throw new ConfigError('write-iac', 'write-iac: needs iac-path (the folder whose files are rewritten)')
  const stated = values['trail-read-write-type']
    ? 'trail-read-write-type'
    : values['trail-excluded-sources'].length > 0
      ? 'trail-excluded-sources'
      : undefined
  if (stated && (!values.source.some(readsLogRecords) || values['trail-arn'])) {
    throw new ConfigError(
      stated,
      `${stated}: only with source: cloudtrail or athena and no trail-arn (with trail-arn the trail's own configuration is read)`
    )
  }
  const lookback = values['lookback-days']
  if (lookback > 90 && !values.source.includes('access-advisor'))
    throw new ConfigError(
      'lookback-days',
      `lookback-days: ${lookback} is more than 90; only source access-advisor reads further back (up to 400 days); use 90 or less, or add access-advisor to source`
    )
  if (values.source.includes('access-analyzer')) {
    if (!values['trail-arn'])
      throw new ConfigError(
        'trail-arn',
        'trail-arn: required with source: access-analyzer (the trail Access Analyzer reads)'
      )
    if (!values['access-role-arn']) {
      throw new ConfigError(
        'access-role-arn',
        'access-role-arn: required with source: access-analyzer (the service role Access Analyzer assumes to read the trail)'
      )
    }
  }
  if (values.source.includes('athena')) {
    if (!values['athena-table'])
      throw new ConfigError(
        'athena-table',
        'athena-table: required with source: athena (the CloudTrail table as database.table; athena-create-table: true creates it)'
      )
    if (values['athena-create-table'] && !values['cloudtrail-path']?.startsWith('s3://'))
      throw new ConfigError(
        'cloudtrail-path',
        'cloudtrail-path: required with athena-create-table: true (where the organization trail delivers: s3://bucket/[prefix/]AWSLogs/<org-id>/)'
      )
  }
  if (values.source.includes('cloudtrail') && !values['cloudtrail-path']) {
    throw new ConfigError(
      'cloudtrail-path',
      'cloudtrail-path: required with source: cloudtrail (a folder of log files or s3://bucket/prefix)'
    )
  }
  const { since, until } = values
  if (since && until && since >= until)
    throw new ConfigError(
      'since',
      `since: ${rawValue(read, 'since')} is not before until: ${rawValue(read, 'until')}`
    )
}

/**
 * Many accounts are reached either with one OIDC exchange per account (role-to-assume with {account}) or from a hub
 * session with member-role; {account} needs accounts to fill it in, and accounts need a way to reach each one.
 */
function requireAccountCredentials(values: InputValues): void {
  const perAccount = (value: string | undefined) => value?.includes(`:${ACCOUNT_PLACEHOLDER}:`) === true
  const oidcPerAccount = perAccount(values['role-to-assume'])
  const member = values['member-role']
  if (oidcPerAccount && member)
    throw new ConfigError(
      'member-role',
      'member-role: role-to-assume already has {account} (one OIDC exchange per account); use one of the two, or give role-to-assume the hub role without {account}'
    )
  const multi = oidcPerAccount || member !== undefined
  const named = values.accounts !== undefined || values.roles.some(s => s.kind === 'arn')
  if (multi && !named)
    throw new ConfigError(
      oidcPerAccount ? 'role-to-assume' : 'member-role',
      `${oidcPerAccount ? 'role-to-assume' : 'member-role'}: {account} needs accounts to fill it in; set accounts (ids or organization) or name roles by ARN`
    )
  if (values.accounts !== undefined && !multi)
    throw new ConfigError(
      'accounts',
      'accounts: each account needs its own credentials; set member-role (arn:aws:iam::{account}:role/NAME, assumed from the hub session) or role-to-assume with {account}'
    )
  if (perAccount(values['access-role-arn']) && !multi)
    throw new ConfigError(
      'access-role-arn',
      'access-role-arn: {account} only applies with many accounts (member-role, or role-to-assume with {account})'
    )
}

/** The trail options, or undefined when neither was given (then the records decide what the trail logs). */
function trailLogging(values: InputValues): TrailLoggingOptions | undefined {
  const readWrite = values['trail-read-write-type']
  const excluded = values['trail-excluded-sources']
  if (!readWrite && excluded.length === 0) return undefined
  return { readWriteType: readWrite ?? 'All', excludedSources: excluded }
}

const ATHENA_INPUTS = [
  'athena-table',
  'athena-workgroup',
  'athena-output-location',
  'athena-catalog',
  'athena-create-table',
  'athena-max-scan-gb'
] as const

function athenaOptions(values: InputValues): AthenaOptions | undefined {
  const [database = '', table = ''] = (values['athena-table'] ?? '').split('.')
  if (!values.source.includes('athena')) return undefined
  return {
    catalog: values['athena-catalog'],
    database,
    table,
    workgroup: values['athena-workgroup'],
    outputLocation: values['athena-output-location'],
    createTable: values['athena-create-table'],
    maxScanBytes: Math.round(values['athena-max-scan-gb'] * 1e9)
  }
}

function validated(readAny: InputReader, entry: Entry, env: NodeJS.ProcessEnv): InputValues {
  // An input the entry does not take is not read at all (the runner passes any `with:` key as INPUT_*).
  const takes = new Set<string>(inputsOf(entry))
  const read: InputReader = name => (takes.has(name) ? readAny(name) : undefined)
  const values = parseInputs(read, env)
  if (values.roles.length === 0 && values.users.length === 0)
    throw new ConfigError(
      'roles',
      'roles: required; give one role ARN, role name or name pattern (with *) per line (or IAM users in users)'
    )
  refuseInapplicable(read, values)
  requireForSource(read, values)
  requireAccountCredentials(values)
  return values
}

function coreConfig(values: InputValues): Config {
  const logging = trailLogging(values)
  return {
    roles: [...values.roles, ...values.users],
    roleToAssume: values['role-to-assume'],
    roleSessionName: values['role-session-name'],
    roleDurationSeconds: values['role-duration-seconds'],
    awsRegion: values['aws-region'],
    audience: values.audience,
    source: values.source[0],
    sources: values.source,
    trailArn: values['trail-arn'],
    trailRegions: values['trail-regions'],
    ...(logging ? { trailLogging: logging } : {}),
    accessRoleArn: values['access-role-arn'],
    cloudtrailPath: values['cloudtrail-path'],
    athena: athenaOptions(values),
    lookbackDays: values['lookback-days'],
    minObservationDays: values['min-observation-days'],
    allowIncomplete: values['allow-incomplete'],
    policyPath: values['policy-path'],
    grantedSource: values['granted-source'],
    iacPath: values['iac-path'],
    terraformState: values['terraform-state'],
    iacMapping: values['iac-mapping'],
    keepActions: values['keep-actions'],
    keepSidPrefix: values['keep-sid-prefix'],
    validate: values.validate,
    timeoutMinutes: values['timeout-minutes'],
    policyFiles: values.policy,
    authorizationDetails: values['authorization-details'],
    since: values.since,
    until: values.until,
    unusedAccessAnalyzer: values['unused-access-analyzer'],
    awsRecommendation: values['aws-recommendation'],
    accounts: values.accounts,
    memberRole: values['member-role'],
    accountConcurrency: values['account-concurrency'],
    reanalyzeAfterDays: values['reanalyze-after-days']
  }
}

/** The action's configuration, from its inputs (`read` as core.getInput, undefined for an input not set). */
export function buildActionConfig(read: InputReader, env: NodeJS.ProcessEnv): ActionConfig {
  const values = validated(read, 'action', env)
  return {
    ...coreConfig(values),
    mode: values.mode,
    githubToken: values['github-token'],
    prBranch: values['pr-branch'],
    prLabels: values['pr-labels'],
    failOn: values['fail-on']
  }
}

/** The CLI's configuration, from its options (`read` returns an option's value by input name). */
export function buildCliConfig(read: InputReader, env: NodeJS.ProcessEnv): CliConfig {
  const values = validated(read, 'cli', env)
  return {
    ...coreConfig(values),
    format: values.format,
    outDir: values.out,
    writeIac: values['write-iac'],
    failOn: values['fail-on'],
    reportVersion: values['report-version']
  }
}

/** Expands policy-path for one role, or for one user under `users/` in the same layout. */
export function principalPolicyPath(template: string, arn: string, accountId: string, name: string): string {
  return policyPathFor(template, accountId, isUserArn(arn) ? `users/${name}` : name)
}

/** Expands policy-path for one role. */
export function policyPathFor(template: string, accountId: string, roleName: string): string {
  return template.replace(/\{account\}/g, accountId).replace(/\{role\}/g, roleName)
}
