/**
 * A run of the analysis in this process: its config built from inputs as the CLI builds it, and what it runs with,
 * either on local files alone (CloudTrail log files and an authorization-details export) or against the AWS emulators
 * the process environment points at.
 */
import { createAwsSession } from '../../src/aws/session.js'
import { buildCliConfig } from '../../src/config.js'
import type { Config } from '../../src/config.js'
import { MemoryLogger } from '../../src/logger.js'

/** Inputs that analyze every role of these files, however few days the logs cover. */
export function everyRoleInputs(files: { trail: string; details: string }): Record<string, string> {
  return {
    roles: '*',
    source: 'cloudtrail',
    'cloudtrail-path': files.trail,
    'authorization-details': files.details,
    'min-observation-days': '0'
  }
}

export function configOf(inputs: Record<string, string>): Config {
  return buildCliConfig(name => inputs[name], {})
}

/** The log and AWS session of a run that reads only local files. */
export function offlineDeps(config: Config) {
  const log = new MemoryLogger()
  return { log, aws: createAwsSession(config, { log }) }
}

/** The log and AWS session of a run against the emulators `process.env` points at; it never sleeps for real. */
export function emulatedDeps(config: Config, now?: () => Date) {
  const log = new MemoryLogger()
  return {
    log,
    aws: createAwsSession(config, { log, env: process.env }),
    sleep: () => Promise.resolve(),
    ...(now ? { now } : {})
  }
}
