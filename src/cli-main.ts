import { errorMessage } from './error-message.js'
import { accessSync, constants, mkdirSync, statSync } from 'node:fs'
import { createAwsSession } from './aws/session.js'
import { abortOnSignals, signalExitCode } from './cancellation.js'
import { parseArgs } from 'node:util'
import type { ParseArgsConfig } from 'node:util'
import { buildCliConfig, cliForm, ConfigError, inputsOf } from './config.js'
import type { CliConfig, InputName } from './config.js'
import type { Logger } from './logger.js'
import { repositoryPolicySources, streamedOutputs, writeStream } from './output.js'
import { escapeControl } from './report/escape.js'
import { failureWarnings, judgeRun } from './report/run-verdict.js'
import { runAnalysis } from './run.js'
import { VERSION } from './version.js'
import { join, resolve } from 'node:path'
import { iacChangesOf, iacMarkdown, writeIacFiles } from './iac/output.js'
import type { ReportV1 } from './model.js'

/** Exit codes of the CLI contract. */
export const EXIT = { ok: 0, failed: 1, usage: 2, gate: 3 } as const

export const USAGE = `Usage: iam-least-privilege analyze [options]

Finds the permissions AWS IAM roles are granted but do not use, and proposes least-privilege policies.

Roles and usage:
  --roles VALUE                 role ARN, name or name pattern with * (repeatable; required unless --users)
  --users VALUE                 IAM user ARN, name or name pattern with * (repeatable)
  --source LIST                 access-analyzer (default), cloudtrail, athena, access-advisor, unused-access, or
                                several (comma separated)
  --unused-access-analyzer ARN  for unused-access: the analyzer (default: the account's active one)
  --aws-recommendation          for unused-access: show AWS's recommended policy next to ours
  --cloudtrail-path PATH        for --source cloudtrail: a folder of log files or s3://bucket/prefix
  --athena-table DB.TABLE       for --source athena: the organization's CloudTrail table (required there)
  --athena-workgroup NAME       for athena: the workgroup (default primary; its scan cutoff is respected)
  --athena-output-location S3   for athena: s3://bucket/prefix/ for results (default: the workgroup's)
  --athena-catalog NAME         for athena: the table's data catalog (default: the workgroup's)
  --athena-create-table         for athena: create the table over the trail at --cloudtrail-path (AWSLogs/<org-id>/)
  --athena-max-scan-gb N        for athena: stop the query past N GB scanned (default 100; USD 5 per TB)
  --trail-arn ARN               the trail: Access Analyzer reads it; for cloudtrail, its configuration says what it logs
  --trail-read-write-type TYPE  for cloudtrail without --trail-arn: All, ReadOnly or WriteOnly management events logged
  --trail-excluded-sources LIST for cloudtrail without --trail-arn: kms.amazonaws.com, rdsdata.amazonaws.com if excluded
  --trail-regions LIST          Regions of the trail to analyze (default: all)
  --access-role-arn ARN         for access-analyzer: the service role Access Analyzer assumes
  --since DATE, --until DATE    narrow the CloudTrail window (ISO 8601)
  --lookback-days N             days of activity (1-90, default 90; up to 400 with access-advisor)
  --reanalyze-after-days N      access-analyzer: reuse a generation younger than N days (1-7, default 7)
  --min-observation-days N      shortest window on which removals are proposed (default 30)
  --allow-incomplete            propose on incomplete evidence (incomplete generated policy, unreadable logs)
Granted policies:
  --policy FILE                 a granted policy (document, get-policy-version or get-role-policy output); repeatable
  --authorization-details FILE  a get-account-authorization-details export: each role's policies are taken from it
  --granted-source SOURCE       auto (default), iam, files (the file at --policy-path) or iac (the code at --iac-path)
  --iac-path DIR                Terraform / CloudFormation code defining the roles (auto prefers it when it defines the role)
  --terraform-state FILE        terraform show -json output: links roles to their Terraform block by ARN
  --iac-mapping FILE            JSON: role ARN or name -> {"file", "address"} of the code defining it
  --write-iac                   apply the proposals to the files under --iac-path, in place
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
  --accounts LIST               account ids, or organization (every active account); names and patterns in each
  --member-role ARN             arn:aws:iam::{account}:role/NAME, assumed in each account from your credentials
  --account-concurrency N       accounts analyzed at once (1-64, default 10)
  --timeout-minutes N           overall budget (default 45)
Other:
  -h, --help                    this text
  --version                     the version

Exit codes: 0 done; 1 the run or a role failed; 2 bad usage (an option, a file given, an empty log folder);
3 the --fail-on gate tripped; 130/143 stopped by SIGINT/SIGTERM.
Progress goes to stderr; the report goes to stdout.`

class UsageError extends Error {}

type OptionName = string
type ParseArgsOptions = NonNullable<ParseArgsConfig['options']>
type ParseArgsOptionDescriptor = ParseArgsOptions[string]

/** An input's CLI option: `--name VALUE` (repeatable or once), or a flag that sets the input. */
function optionOf(name: InputName): [OptionName, ParseArgsOptionDescriptor] {
  const form = cliForm(name)
  if (form.kind === 'flag') return [form.option, { type: 'boolean' }]
  return [name, { type: 'string', multiple: form.multiple }]
}

/** The CLI's options: exactly its inputs in the configuration table, plus --help and --version. */
export const CLI_OPTIONS: ParseArgsOptions = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
  ...Object.fromEntries(inputsOf('cli').map(optionOf))
}

/** Each option given, with its values (a flag has none); every message names the option. */
function parseArguments(args: string[]): { given: Map<OptionName, string[]>; positionals: string[] } {
  const { tokens } = parseArgs({
    args,
    options: CLI_OPTIONS,
    strict: false,
    allowPositionals: true,
    tokens: true
  })
  const given = new Map<OptionName, string[]>()
  const positionals: string[] = []
  for (const token of tokens) {
    if (token.kind === 'positional') positionals.push(token.value)
    if (token.kind !== 'option') continue
    const spec = Object.hasOwn(CLI_OPTIONS, token.name) ? CLI_OPTIONS[token.name] : undefined
    const shown = token.rawName.startsWith('--') ? token.rawName : (args[token.index] ?? token.rawName)
    if (!spec) throw new UsageError(`unknown option ${shown}; see --help`)
    const seen = given.get(token.name)
    if (spec.type === 'boolean') {
      if (token.inlineValue) throw new UsageError(`${shown} takes no value; see --help`)
      given.set(token.name, [])
      continue
    }
    const value = token.value
    if (value === undefined || (!token.inlineValue && value.startsWith('--') && value.length > 2))
      throw new UsageError(`${shown} needs a value; see --help`)
    if (seen && !spec.multiple) throw new UsageError(`${shown} is given more than once; give it once`)
    given.set(token.name, [...(seen ?? []), value])
  }
  return { given, positionals }
}

type CliCommand = { kind: 'help' } | { kind: 'version' } | { kind: 'analyze'; config: CliConfig }

export function parseCli(argv: string[], env: NodeJS.ProcessEnv): CliCommand {
  const { given, positionals } = parseArguments(argv)
  if (given.has('help')) return { kind: 'help' }
  if (given.has('version')) return { kind: 'version' }
  const [command, ...rest] = positionals
  if (command !== 'analyze')
    throw new UsageError(
      command
        ? `unknown command "${command}"; use analyze`
        : 'missing command; use: iam-least-privilege analyze --roles ...'
    )
  if (rest.length > 0) throw new UsageError(`unexpected argument "${rest[0]}"; see --help`)
  const values = new Map<string, string>()
  for (const name of inputsOf('cli')) {
    const form = cliForm(name)
    const value =
      form.kind === 'flag' ? (given.has(form.option) ? form.value : undefined) : given.get(name)?.join('\n')
    if (value !== undefined) values.set(name, value)
  }
  return { kind: 'analyze', config: buildCliConfig(name => values.get(name), env) }
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

/** Where the CLI writes, and the folder it runs in. */
interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  cwd: string
}

const PROCESS_IO: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  get cwd() {
    return process.cwd()
  }
}

function stderrLogger(stderr: NodeJS.WritableStream, env: NodeJS.ProcessEnv): Logger {
  const secrets: string[] = []
  // Data can hold control characters and line breaks: escaped, a terminal or CI log never acts on them.
  const mask = (m: string) => escapeControl(secrets.reduce((text, s) => text.split(s).join('***'), m))
  return {
    info: m => stderr.write(`${mask(m)}\n`),
    warning: m => stderr.write(`warning: ${mask(m)}\n`),
    debug: m => {
      if (env.IAM_LEAST_PRIVILEGE_DEBUG) stderr.write(`debug: ${mask(m)}\n`)
    },
    setSecret: s => {
      if (s) secrets.push(s)
    }
  }
}

/** The proposals applied to the infrastructure code: shown in Markdown, copied under --out, written with --write-iac. */
async function applyIac(config: CliConfig, report: ReportV1, io: CliIo, log: Logger): Promise<void> {
  // A role whose code only attaches AWS-managed policies is edited too (detached, its needed part added inline).
  if (!report.roles.some(r => r.grantedFrom || r.iacAwsManaged)) return
  const workspace = resolve(io.cwd)
  const changes = await iacChangesOf(report, config.iacPath ?? '.', workspace)
  for (const note of changes.notes) log.warning(note)
  if (config.outDir) {
    const copies = writeIacFiles(changes.edits, join(config.outDir, 'iac'))
    if (copies.length > 0)
      log.info(
        `wrote ${copies.length} rewritten infrastructure-code file(s) under ${join(config.outDir, 'iac')}`
      )
  }
  if (config.writeIac) {
    writeIacFiles(changes.edits, workspace)
    log.info(`rewrote ${changes.edits.length} infrastructure-code file(s) in place`)
  }
  if (config.format === 'markdown')
    await writeStream(io.stdout, [
      iacMarkdown(
        changes.edits,
        changes.notes,
        config.writeIac
          ? `Applied to ${changes.edits.length} file(s):`
          : `Proposed edits of ${changes.edits.length} file(s) (apply them with --write-iac):`
      )
    ])
}

/** Runs the CLI; returns the exit code. */
export async function main(
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = PROCESS_IO
): Promise<number> {
  const fail = (message: string) => io.stderr.write(`error: ${escapeControl(message)}\n`)
  let command: CliCommand
  try {
    command = parseCli(argv, env)
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      fail(e.message)
      return EXIT.usage
    }
    throw e
  }
  if (command.kind === 'help') {
    io.stdout.write(`${USAGE}\n`)
    return EXIT.ok
  }
  if (command.kind === 'version') {
    io.stdout.write(`${VERSION}\n`)
    return EXIT.ok
  }
  const { config } = command
  try {
    if (config.outDir) prepareOutDir(config.outDir)
  } catch (e) {
    fail(errorMessage(e))
    return EXIT.usage
  }
  const log = stderrLogger(io.stderr, env)
  // Ended at once (a second Ctrl-C), the run leaves no half-written report behind in --out.
  let discardOutputs: (() => void) | undefined
  const cancellation = abortOnSignals(
    name => log.warning(`received ${name}: cancelling, then reporting what is known`),
    {
      onForcedExit: message => {
        io.stderr.write(`error: ${message}\n`)
        discardOutputs?.()
      }
    }
  )
  try {
    // Each role is written as it is judged: the run keeps only the roles' facts, whatever their number.
    const outputs = streamedOutputs({
      ...(config.outDir ? { outDir: config.outDir } : {}),
      print: { stdout: io.stdout, format: config.format },
      version: config.reportVersion === '2' ? 2 : 1,
      sarif: report => ({
        toolVersion: VERSION,
        sources: repositoryPolicySources(report, io.cwd),
        ...(env.GITHUB_WORKFLOW_REF ? { workflowRef: env.GITHUB_WORKFLOW_REF } : {})
      })
    })
    discardOutputs = () => outputs.discard()
    const report = await runAnalysis(config, {
      log,
      aws: createAwsSession(config, { log, env }),
      signal: cancellation.signal,
      workspace: io.cwd,
      noLogFiles: 'error',
      sink: outputs.sink
    }).catch((e: unknown) => {
      outputs.discard()
      throw e
    })
    const files = await outputs.finish(report)
    if (files && config.outDir)
      log.info(
        `wrote ${files.report}, ${files.sarif} and ${files.proposals.length} proposed policy file(s) under ${config.outDir}`
      )
    if (config.iacPath) await applyIac(config, report, io, log)
    for (const line of failureWarnings(report)) log.warning(line)
    const verdict = judgeRun(report, config.failOn)
    if (verdict.exitCode !== EXIT.ok) log.warning(verdict.message)
    if (cancellation.received) return signalExitCode(cancellation.received)
    return verdict.exitCode
  } catch (e) {
    fail(errorMessage(e))
    if (cancellation.received) return signalExitCode(cancellation.received)
    return e instanceof ConfigError ? EXIT.usage : EXIT.failed
  } finally {
    cancellation.dispose()
  }
}
