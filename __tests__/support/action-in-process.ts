/**
 * Runs the action's entry (src/main.ts) in this process, as the runner runs a step: the same INPUT_* and GITHUB_*
 * variables, event payload and command files as runAction, through the real @actions/core (workflow commands on
 * stdout, outputs and summary in their files). No bundle is needed, and coverage counts.
 */
import * as core from '@actions/core'
import { readFileSync } from 'node:fs'
import { run } from '../../src/main.js'
import type { ActionContext } from '../../src/main.js'
import { prepareStep } from './run-action.js'
import type { ActionRun, ActionRunOptions } from './run-action.js'

export type InProcessRunOptions = Omit<ActionRunOptions, 'node' | 'onSpawn'> & {
  /** An emulated clock the run reads and sleeps on (scheduled runs over many days); default real time. */
  clock?: { now: () => Date; sleep: (ms: number) => Promise<void> }
}

/** The run's context as @actions/github reads it from the step's environment. */
function contextOf(env: Record<string, string>): ActionContext {
  const [owner = '', repo = ''] = (env.GITHUB_REPOSITORY ?? '').split('/')
  return {
    eventName: env.GITHUB_EVENT_NAME ?? '',
    payload: JSON.parse(readFileSync(env.GITHUB_EVENT_PATH ?? '', 'utf8')) as ActionContext['payload'],
    repo: { owner, repo },
    runId: Number(env.GITHUB_RUN_ID),
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    workflow: env.GITHUB_WORKFLOW ?? '',
    job: env.GITHUB_JOB ?? ''
  }
}

export async function runActionInProcess(options: InProcessRunOptions): Promise<ActionRun> {
  const step = prepareStep(options)
  const savedEnv = process.env
  // Restored as it was, unbound: this is the stream's own method put back on the stream.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const savedWrite = process.stdout.write
  const savedExitCode = process.exitCode
  let stdout = ''
  // The step sees exactly the runner's variables, as the child process of runAction does.
  process.env = { ...step.env }
  process.exitCode = undefined
  process.stdout.write = (chunk: string | Uint8Array) => {
    stdout += String(chunk)
    return true
  }
  // @actions/core's summary remembers the first step's file: each simulated step starts a fresh one.
  delete (core.summary as unknown as { _filePath?: string })._filePath
  try {
    await run({
      core,
      context: contextOf(step.env),
      env: process.env,
      ...(options.clock ? { clock: options.clock } : {})
    })
    return step.result(Number(process.exitCode ?? 0), stdout, '')
  } finally {
    process.stdout.write = savedWrite
    process.env = savedEnv
    process.exitCode = savedExitCode
  }
}
