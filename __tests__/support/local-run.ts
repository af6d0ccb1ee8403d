/**
 * A run of the analysis in this process on local files (CloudTrail log files and an authorization-details export):
 * its inputs, its config as the CLI builds it, and what it runs with when it makes no AWS call.
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
