import { errorMessage } from './error-message.js'
import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
import { abortOnSignals, signalExitCode } from './cancellation.js'
import { buildConfig, ConfigError, INPUT_DEFAULTS } from './config.js'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { outputChunks, repositoryPolicySources, writeReportFiles, writeStream } from './output.js'
import { escapeControl } from './report/escape.js'
import { judgeRun } from './report/run-verdict.js'
import { runAnalysis } from './run.js'
import { VERSION } from './version.js'

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2, gate: 3 } as const

const USAGE = `Usage: iam-least-privilege analyze [options]

Finds the permissions AWS IAM roles are granted but do not use, and proposes least-privilege policies.

Roles and usage:
  --roles VALUE                 role ARN, name or name pattern with * (repeatable; required)
  --source SOURCE               access-analyzer (default) or cloudtrail
  --cloudtrail-path PATH        for --source cloudtrail: a folder of log files or s3://bucket/prefix
  --trail-arn ARN               the trail: Access Analyzer reads it; for cloudtrail, its configuration says what it logs
  --trail-read-write-type TYPE  for cloudtrail without --trail-arn: All, ReadOnly or WriteOnly management events logged
  --trail-excluded-sources LIST for cloudtrail without --trail-arn: kms.amazonaws.com, rdsdata.amazonaws.com if excluded
  --trail-regions LIST          Regions of the trail to analyze (default: all)
  --access-role-arn ARN         for access-analyzer: the service role Access Analyzer assumes
  --since DATE, --until DATE    narrow the CloudTrail window (ISO 8601)
  --lookback-days N             days of activity (1-90, default 90)
  --min-observation-days N      shortest window on which removals are proposed (default 30)
  --allow-incomplete            propose on incomplete evidence (incomplete generated policy, unreadable logs)
Granted policies:
  --policy FILE                 a granted policy (document, get-policy-version or get-role-policy output); repeatable
  --authorization-details FILE  a get-account-authorization-details export: each role's policies are taken from it
  --granted-source SOURCE       auto (default), iam or files (the file at --policy-path)
  --policy-path TEMPLATE        default iam/least-privilege/{account}/{role}.json
Proposals and output:
  --keep-actions LIST           actions never reported as excess and always kept
  --keep-sid-prefix PREFIX      statements whose Sid starts with it are kept verbatim (default Keep)
  --no-validate                 skip Access Analyzer ValidatePolicy and CheckNoNewAccess
  --format FORMAT               markdown (default), json (the JSON report) or sarif, on stdout
  --report-version N            1 (default: every excess action listed) or 2 (excess per service and
                                access level, compact for roles granted whole services)
  --out DIR                     write report.json, report.sarif and proposals/<policy-path> under DIR
  --fail-on LEVEL               never (default), excess or high: exit 3 when the gate trips
AWS:
  --aws-region REGION           default AWS_REGION, AWS_DEFAULT_REGION or us-east-1
  --timeout-minutes N           overall budget (default 45)
Other:
  -h, --help                    this text
  --version                     the version

Exit codes: 0 done; 1 the run or a role failed; 2 bad usage (an option, a file given, an empty log folder);
3 the --fail-on gate tripped; 130/143 stopped by SIGINT/SIGTERM.
Progress goes to stderr; the report goes to stdout.`

const STRING_INPUTS = Object.keys(INPUT_DEFAULTS).filter(
  name =>
    ![
      'github-token',
      'mode',
      'pr-branch',
      'pr-labels',
      'validate',
      'allow-incomplete',
      'role-to-assume',
      'audience',
      'role-session-name',
      'role-duration-seconds'
    ].includes(name)
)

class UsageError extends Error {}

type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean }

const OPTIONS: Readonly<Record<string, OptionSpec>> = {
  roles: { type: 'string', multiple: true },
  policy: { type: 'string', multiple: true },
  'authorization-details': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  format: { type: 'string' },
  out: { type: 'string' },
  'report-version': { type: 'string' },
  'allow-incomplete': { type: 'boolean' },
  'no-validate': { type: 'boolean' },
  help: { type: 'boolean' },
  version: { type: 'boolean' },
  ...Object.fromEntries(STRING_INPUTS.map(name => [name, { type: 'string' } as OptionSpec]))
}

interface ParsedArgs {
  values: Map<string, string[] | true>
  positionals: string[]
}

/** `--name value`, `--name=value`, `-h`, and `--` before positionals; every message names the option. */
function parseArguments(argv: string[]): ParsedArgs {
  const values = new Map<string, string[] | true>()
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (token === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (token === '-h') {
      values.set('help', true)
      continue
    }
    if (!token.startsWith('-') || token === '-') {
      positionals.push(token)
      continue
    }
    if (!token.startsWith('--')) throw new UsageError(`unknown option ${token}; see --help`)
    const eq = token.indexOf('=')
    const name = token.slice(2, eq < 0 ? undefined : eq)
    const spec = Object.hasOwn(OPTIONS, name) ? OPTIONS[name] : undefined
    if (!spec) throw new UsageError(`unknown option --${name}; see --help`)
    if (spec.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value; see --help`)
      values.set(name, true)
      continue
    }
    let value: string
    if (eq >= 0) value = token.slice(eq + 1)
    else {
      const next = argv[i + 1]
      if (next === undefined || (next.startsWith('--') && next.length > 2))
        throw new UsageError(`--${name} needs a value; see --help`)
      value = next
      i++
    }
    const seen = values.get(name)
    if (seen && !spec.multiple) throw new UsageError(`--${name} is given more than once; give it once`)
    values.set(name, [...(Array.isArray(seen) ? seen : []), value])
  }
  return { values, positionals }
}

export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv
): { help?: true; version?: true; config?: Config } {
  const { values, positionals } = parseArguments(argv)
  if (values.has('help')) return { help: true }
  if (values.has('version')) return { version: true }
  const [command, ...rest] = positionals
  if (command !== 'analyze')
    throw new UsageError(
      command
        ? `unknown command "${command}"; use analyze`
        : 'missing command; use: iam-least-privilege analyze --roles ...'
    )
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"; see --help`)
  const list = (name: string): string[] | undefined => {
    const v = values.get(name)
    return Array.isArray(v) ? v : undefined
  }
  const one = (name: string): string | undefined => list(name)?.[0]
  const read = (name: string): string | undefined => {
    if (name === 'roles') return list('roles')?.join('\n')
    if (name === 'allow-incomplete') return values.has('allow-incomplete') ? 'true' : undefined
    if (name === 'validate') return values.has('no-validate') ? 'false' : undefined
    if (name === 'role-to-assume' || name === 'github-token') return undefined
    return one(name)
  }
  const config = buildConfig(read, {
    policyFiles: list('policy'),
    authorizationDetails: one('authorization-details'),
    since: one('since'),
    until: one('until'),
    format: one('format'),
    outDir: one('out'),
    reportVersion: one('report-version'),
    env
  })
  return { config }
}

/** --out must be a folder we can write, checked (and created) before a long analysis, not after it. */
function prepareOutDir(dir: string): void {
  let isDirectory: boolean
  try {
    isDirectory = statSync(dir).isDirectory()
  } catch {
    try {
      mkdirSync(dir, { recursive: true })
      return
    } catch (e) {
      throw new ConfigError(
        'out',
        `--out ${dir} cannot be created (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); give a folder you can write`
      )
    }
  }
  if (!isDirectory)
    throw new ConfigError(
      'out',
      `--out ${dir} is a file, not a folder; give a folder to write the reports into`
    )
  try {
    accessSync(dir, constants.W_OK)
  } catch {
    throw new ConfigError('out', `--out ${dir} is not writable; give a folder you can write`)
  }
}

function stderrLogger(): Logger {
  const secrets: string[] = []
  // Data can hold control characters and line breaks: escaped, a terminal or CI log never acts on them.
  const mask = (m: string) => escapeControl(secrets.reduce((text, s) => text.split(s).join('***'), m))
  return {
    info: m => process.stderr.write(`${mask(m)}\n`),
    warning: m => process.stderr.write(`warning: ${mask(m)}\n`),
    debug: m => {
      if (process.env.IAM_LEAST_PRIVILEGE_DEBUG) process.stderr.write(`debug: ${mask(m)}\n`)
    },
    setSecret: s => {
      if (s) secrets.push(s)
    }
  }
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed
  try {
    parsed = parseCli(argv, env)
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      process.stderr.write(`error: ${escapeControl(e.message)}\n`)
      return EXIT.usage
    }
    throw e
  }
  if (parsed.help) {
    process.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (parsed.version) {
    process.stdout.write(`${VERSION}\n`)
    return EXIT.ok
  }
  const config = parsed.config as Config
  try {
    if (config.outDir) prepareOutDir(config.outDir)
  } catch (e) {
    process.stderr.write(`error: ${escapeControl(errorMessage(e))}\n`)
    return EXIT.usage
  }
  const log = stderrLogger()
  const cancellation = abortOnSignals(
    name => log.warning(`received ${name}: cancelling, then reporting what is known`),
    { onForcedExit: message => process.stderr.write(`error: ${message}\n`) }
  )
  try {
    const report = await runAnalysis(config, {
      log,
      signal: cancellation.signal,
      env,
      workspace: process.cwd(),
      noLogFiles: 'error'
    })
    const reportVersion = config.reportVersion === '2' ? 2 : 1
    const sarif = {
      toolVersion: VERSION,
      sources: repositoryPolicySources(report, process.cwd()),
      workflowRef: env.GITHUB_WORKFLOW_REF
    }
    if (config.outDir) {
      const files = writeReportFiles(report, config.outDir, sarif, reportVersion)
      log.info(
        `wrote ${files.report}, ${files.sarif} and ${files.proposals.length} proposed policy file(s) under ${config.outDir}`
      )
    }
    await writeStream(process.stdout, outputChunks(report, config.format, sarif, reportVersion))
    for (const role of report.roles.filter(r => r.status === 'failed'))
      log.warning(`${role.arn}: ${role.reason ?? 'failed'}`)
    const verdict = judgeRun(report, config.failOn)
    if (verdict.exitCode !== EXIT.ok) log.warning(verdict.message)
    if (cancellation.received) return signalExitCode(cancellation.received)
    return verdict.exitCode
  } catch (e) {
    process.stderr.write(`error: ${escapeControl(errorMessage(e))}\n`)
    if (cancellation.received) return signalExitCode(cancellation.received)
    return e instanceof ConfigError ? EXIT.usage : EXIT.failed
  } finally {
    cancellation.dispose()
  }
}
