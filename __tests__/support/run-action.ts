/**
 * Runs the committed action bundle (dist/index.js) as GitHub's runner does: a child process with INPUT_* and
 * GITHUB_* variables, an event payload file, and the output, summary and temp files of a job step.
 */
import { execFile, spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { at } from '../../src/policy/at.js'

export type NodeVersion = 'node20' | 'node24'

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  /** The runner temp folder (the report and SARIF files are written below it). */
  runnerTemp: string
}

/** The `::error::` workflow commands a run printed, one a line. */
export function errorLines(run: { stdout: string }): string[] {
  return run.stdout.split('\n').filter(line => line.startsWith('::error::'))
}

export interface ActionRunOptions {
  node: NodeVersion
  inputs: Record<string, string>
  env?: Record<string, string>
  eventName?: string
  payload?: object
  /** Files of the checked-out workspace (path -> content, or a symbolic link to a target). */
  workspace?: Record<string, string | { symlink: string }>
  /** Called once the process runs (to signal it, as GitHub does when a job is cancelled). */
  onSpawn?: (child: ChildProcess) => void
}

let node24: Promise<string> | undefined

/** The path of a Node 24 binary (installed once through npx from the npm registry). */
export function node24Binary(): Promise<string> {
  node24 ??= promisify(execFile)('npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], {
    timeout: 120_000
  }).then(({ stdout }) => stdout.trim())
  return node24
}

/** The file a step named in one of its outputs; fails clearly when the step did not set that output. */
export function outputFile(run: { outputs: Record<string, string> }, name: string): string {
  const file = run.outputs[name]
  if (file === undefined) throw new Error(`The step set no '${name}' output.`)
  return file
}

/** The values a step wrote to GITHUB_OUTPUT (name<<delimiter, lines, delimiter). */
function parseOutputs(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const [, name, delimiter] = /^([^<]+)<<(.+)$/.exec(at(lines, i)) ?? []
    if (name === undefined) continue
    const value: string[] = []
    for (i++; i < lines.length && lines[i] !== delimiter; i++) value.push(at(lines, i))
    outputs[name] = value.join('\n')
  }
  return outputs
}

/** A job step about to run: its environment, its workspace, and how to read what it wrote. */
export interface PreparedStep {
  env: Record<string, string>
  workspace: string
  runnerTemp: string
  /** The outputs, summary and runner temp folder once the step ended. */
  result: (code: number | null, stdout: string, stderr: string) => ActionRun
}

/** Lays out a step as GitHub's runner does: INPUT_* and GITHUB_* variables, event payload, command files. */
export function prepareStep(options: Omit<ActionRunOptions, 'node' | 'onSpawn'>): PreparedStep {
  const dir = mkdtempSync(join(tmpdir(), 'action-run-'))
  const runnerTemp = join(dir, 'temp')
  const workspace = join(dir, 'workspace')
  mkdirSync(runnerTemp)
  mkdirSync(workspace)
  for (const [path, content] of Object.entries(options.workspace ?? {})) {
    mkdirSync(join(workspace, path, '..'), { recursive: true })
    if (typeof content === 'string') writeFileSync(join(workspace, path), content)
    else symlinkSync(content.symlink, join(workspace, path))
  }
  const files = {
    GITHUB_OUTPUT: join(dir, 'output'),
    GITHUB_STEP_SUMMARY: join(dir, 'summary'),
    GITHUB_EVENT_PATH: join(dir, 'event.json'),
    GITHUB_ENV: join(dir, 'env'),
    GITHUB_STATE: join(dir, 'state')
  }
  for (const file of Object.values(files)) writeFileSync(file, '')
  writeFileSync(files.GITHUB_EVENT_PATH, JSON.stringify(options.payload ?? {}))
  const inputs = Object.fromEntries(
    Object.entries(options.inputs).map(([name, value]) => [
      `INPUT_${name.replace(/ /g, '_').toUpperCase()}`,
      value
    ])
  )
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? dir,
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'octo-org/infra',
    GITHUB_REPOSITORY_OWNER: 'octo-org',
    GITHUB_EVENT_NAME: options.eventName ?? 'schedule',
    GITHUB_WORKFLOW: 'least privilege',
    GITHUB_JOB: 'audit',
    GITHUB_RUN_ID: '4242',
    GITHUB_RUN_NUMBER: '7',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_SHA: '0000000000000000000000000000000000000000',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    ...files,
    ...inputs,
    ...options.env
  }
  return {
    env,
    workspace,
    runnerTemp,
    result: (code, stdout, stderr) => ({
      code,
      stdout,
      stderr,
      outputs: parseOutputs(readFileSync(files.GITHUB_OUTPUT, 'utf8')),
      summary: readFileSync(files.GITHUB_STEP_SUMMARY, 'utf8'),
      runnerTemp
    })
  }
}

export async function runAction(options: ActionRunOptions): Promise<ActionRun> {
  const { env, workspace, result } = prepareStep(options)
  const binary = options.node === 'node24' ? await node24Binary() : process.execPath
  const child = spawn(binary, [resolve('dist/index.js')], { env, cwd: workspace })
  options.onSpawn?.(child)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', chunk => (stdout += chunk))
  child.stderr.on('data', chunk => (stderr += chunk))
  const code = await new Promise<number | null>(done => child.on('close', done))
  return result(code, stdout, stderr)
}
