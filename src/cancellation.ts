/**
 * SIGINT and SIGTERM (how GitHub cancels a job, and Ctrl-C at a terminal) abort the run: the policy generation jobs it
 * started are cancelled and what is known is still published.
 */
export interface Cancellation {
  signal: AbortSignal
  dispose(): void
}

export function abortOnSignals(onSignal: (name: NodeJS.Signals) => void): Cancellation {
  const controller = new AbortController()
  const handler = (name: NodeJS.Signals) => {
    onSignal(name)
    controller.abort()
  }
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler)
      process.off('SIGTERM', handler)
    }
  }
}
