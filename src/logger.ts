/**
 * Where progress and warnings go: the Actions log (through @actions/core) or stderr for the CLI.
 * Adapters take a Logger instead of importing @actions/core, so the same code serves both entries.
 */
export interface Logger {
  info(message: string): void
  warning(message: string): void
  debug(message: string): void
  /** Masks a value in every later log line (a credential, a token). */
  setSecret(value: string): void
}

/** A Logger that keeps everything in memory; for tests and for quiet runs. */
export class MemoryLogger implements Logger {
  readonly lines: string[] = []
  readonly secrets: string[] = []
  info(message: string): void {
    this.lines.push(`info: ${message}`)
  }
  warning(message: string): void {
    this.lines.push(`warning: ${message}`)
  }
  debug(message: string): void {
    this.lines.push(`debug: ${message}`)
  }
  setSecret(value: string): void {
    this.secrets.push(value)
  }
}
