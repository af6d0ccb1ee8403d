/**
 * SIGINT and SIGTERM (how GitHub cancels a job, and Ctrl-C at a terminal) abort the run: the policy generation jobs it
 * started are cancelled and what is known is still published.
 *
 * The process must still end within seconds when something cannot be aborted (a read from a pipe nobody writes to
 * blocks a thread, and even process.exit waits for it): a second signal, or the grace period running out, ends the
 * process the way the signal does by default (exit status 128 + the signal number).
 */
export interface Cancellation {
  signal: AbortSignal
  /** The signal received, once one was. */
  readonly received: NodeJS.Signals | undefined
  /** Stops listening; a grace period already started still ends a process that does not exit by itself. */
  dispose(): void
}

interface CancellationOptions {
  /** How long after the first signal the process may still run (default 5 s). */
  graceMs?: number
  /** Said just before the process is ended. */
  onForcedExit?: (message: string) => void
  /** Ends the process as `name` does by default; default: sends the signal to this process again. */
  end?: (name: NodeJS.Signals) => void
  /**
   * Whether a second signal ends the process at once (default: yes, someone pressed Ctrl-C again). No for the
   * runner, which follows its SIGINT with a SIGTERM on its own schedule: the grace period decides.
   */
  secondSignalEnds?: boolean
}

/**
 * How the GitHub runner cancels a job: SIGINT, SIGTERM 7.5 s later, SIGKILL 2.5 s after that. The action publishes
 * what it knows until 9 s after the first signal; the SIGTERM is the runner's schedule, not a user insisting.
 */
export const RUNNER_CANCELLATION: Pick<CancellationOptions, 'graceMs' | 'secondSignalEnds'> = {
  graceMs: 9000,
  secondSignalEnds: false
}

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** Exit status of a process ended by a signal, as shells report it. */
export function signalExitCode(name: NodeJS.Signals): number {
  return name === 'SIGINT' ? 130 : 143
}

export function abortOnSignals(
  onSignal: (name: NodeJS.Signals) => void,
  options: CancellationOptions = {}
): Cancellation {
  const controller = new AbortController()
  const graceMs = options.graceMs ?? 5000
  let received: NodeJS.Signals | undefined
  const end = options.end ?? ((name: NodeJS.Signals) => process.kill(process.pid, name))
  const forceExit = (name: NodeJS.Signals, why: string) => {
    options.onForcedExit?.(why)
    for (const s of SIGNALS) process.removeAllListeners(s)
    end(name)
  }
  const handler = (name: NodeJS.Signals) => {
    if (received) {
      if (options.secondSignalEnds !== false) forceExit(name, `received ${name} again: stopping now`)
      return
    }
    received = name
    onSignal(name)
    controller.abort()
    // unref: a process that finishes in time exits normally, with the exit code it chose.
    setTimeout(
      () => forceExit(name, `still running ${graceMs / 1000} s after ${name}: stopping now`),
      graceMs
    ).unref()
  }
  for (const s of SIGNALS) process.on(s, handler)
  return {
    signal: controller.signal,
    get received() {
      return received
    },
    dispose: () => {
      for (const s of SIGNALS) process.off(s, handler)
    }
  }
}
