import { readFile, stat } from 'node:fs/promises'
import { ConfigError } from '../config.js'
import { errorMessage } from '../error-message.js'
import { discoverPolicyFiles, readWorkspaceFile } from '../granted/workspace-file.js'
import type { DiscoveredPolicyFile, WorkspaceFile } from '../granted/workspace-file.js'

/** Every file a run reads besides log files: the inputs the user named and the checked-out repository. */
export interface RunFiles {
  /** A file named by an option (--policy, --authorization-details); any problem is a ConfigError naming it. */
  readInput(file: string, option: string): Promise<string>
  /** A file of the checked-out repository, by its path relative to the workspace. */
  readWorkspace(path: string): WorkspaceFile
  /** The repository's files that policy-path (a template with {account} and {role}) matches. */
  policyFiles(template: string): DiscoveredPolicyFile[]
}

/** The files of this machine, the repository checked out at `workspace`. */
export function localFiles(workspace: string): RunFiles {
  return {
    readInput: readInputFile,
    readWorkspace: path => readWorkspaceFile(workspace, path),
    policyFiles: template => discoverPolicyFiles(workspace, template)
  }
}

/**
 * A file the user named: a regular file (a pipe or device could block the read forever), read without blocking the
 * event loop so a signal still ends the run. Any problem is bad usage.
 */
async function readInputFile(file: string, option: string): Promise<string> {
  const input = option.replace(/^--/, '')
  try {
    if (!(await stat(file)).isFile())
      throw new ConfigError(input, `${option} ${file} is not a regular file; give a JSON file`)
    return await readFile(file, 'utf8')
  } catch (e) {
    if (e instanceof ConfigError) throw e
    throw new ConfigError(
      input,
      `${option} ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? errorMessage(e)}); check the path`
    )
  }
}

/** Reads and parses a file the user named; a file that is not what the option takes is bad usage too. */
export async function readInputAs<T>(
  files: RunFiles,
  file: string,
  option: string,
  parse: (text: string) => T
): Promise<T> {
  const text = await files.readInput(file, option)
  try {
    return parse(text)
  } catch (e) {
    throw new ConfigError(option.replace(/^--/, ''), errorMessage(e))
  }
}
