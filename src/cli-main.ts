import { parseArgs } from 'node:util'
import { abortOnSignals } from './cancellation.js'
import { buildConfig, ConfigError, INPUT_DEFAULTS } from './config.js'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { writeReportFiles } from './output.js'
import { evaluateGate } from './report/gate.js'
import { escapeControl } from './report/escape.js'
import { serializeReport } from './report/json.js'
import { renderMarkdown } from './report/markdown.js'
import { renderSarif } from './report/sarif.js'
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
  --trail-arn ARN               for access-analyzer: the trail Access Analyzer reads
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
  --format FORMAT               markdown (default), json (the version-1 report) or sarif, on stdout
  --out DIR                     write report.json, report.sarif and proposals/<policy-path> under DIR
  --fail-on LEVEL               never (default), excess or high: exit 3 when the gate trips
AWS:
  --aws-region REGION           default AWS_REGION, AWS_DEFAULT_REGION or us-east-1
  --timeout-minutes N           overall budget (default 45)
Other:
  -h, --help                    this text
  --version                     the version

Exit codes: 0 done, 1 failed (or a role failed), 2 bad usage, 3 the --fail-on gate tripped.
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

export function parseCli(
  argv: string[],
  env: NodeJS.ProcessEnv
): { help?: true; version?: true; config?: Config } {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    roles: { type: 'string', multiple: true },
    policy: { type: 'string', multiple: true },
    'authorization-details': { type: 'string' },
    since: { type: 'string' },
    until: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
    'allow-incomplete': { type: 'boolean' },
    'no-validate': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean' }
  }
  for (const name of STRING_INPUTS) options[name] = { type: 'string' }
  let parsed
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(`${(e as Error).message.split('\n')[0]}; see --help`)
  }
  const values = parsed.values as Record<string, string | string[] | boolean | undefined>
  if (values.help) return { help: true }
  if (values.version) return { version: true }
  const [command, ...rest] = parsed.positionals
  if (command !== 'analyze')
    throw new UsageError(
      command
        ? `unknown command "${command}"; use analyze`
        : 'missing command; use: iam-least-privilege analyze --roles ...'
    )
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"; see --help`)
  const read = (name: string): string | undefined => {
    if (name === 'roles') return (values.roles as string[] | undefined)?.join('\n')
    if (name === 'allow-incomplete') return values['allow-incomplete'] ? 'true' : undefined
    if (name === 'validate') return values['no-validate'] ? 'false' : undefined
    if (name === 'role-to-assume' || name === 'github-token') return undefined
    const v = values[name]
    return typeof v === 'string' ? v : undefined
  }
  const config = buildConfig(read, {
    policyFiles: values.policy as string[] | undefined,
    authorizationDetails: values['authorization-details'] as string | undefined,
    since: values.since as string | undefined,
    until: values.until as string | undefined,
    format: values.format as string | undefined,
    outDir: values.out as string | undefined,
    env
  })
  return { config }
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
  const log = stderrLogger()
  const cancellation = abortOnSignals(name =>
    log.warning(`received ${name}: cancelling, then reporting what is known`)
  )
  try {
    const report = await runAnalysis(config, {
      log,
      signal: cancellation.signal,
      env,
      workspace: process.cwd()
    })
    if (config.outDir) {
      const files = writeReportFiles(report, config.outDir, VERSION)
      log.info(
        `wrote ${files.report}, ${files.sarif} and ${files.proposals.length} proposed policy file(s) under ${config.outDir}`
      )
    }
    if (config.format === 'json') process.stdout.write(serializeReport(report))
    else if (config.format === 'sarif')
      process.stdout.write(`${JSON.stringify(renderSarif(report, VERSION), null, 2)}\n`)
    else process.stdout.write(`${renderMarkdown(report, { maxLength: Number.MAX_SAFE_INTEGER })}\n`)
    for (const role of report.roles.filter(r => r.status === 'failed'))
      log.warning(`${role.arn}: ${role.reason ?? 'failed'}`)
    const gate = evaluateGate(report, config.failOn)
    if (gate.tripped) {
      log.warning(gate.message)
      return EXIT.gate
    }
    return report.summary.failed > 0 ? EXIT.failed : EXIT.ok
  } catch (e) {
    process.stderr.write(`error: ${escapeControl((e as Error).message)}\n`)
    return EXIT.failed
  } finally {
    cancellation.dispose()
  }
}
