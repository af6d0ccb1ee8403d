import { execFileSync } from 'node:child_process'
import { describe, expect, test } from '@jest/globals'

describe('the worker source', () => {
  test('the committed generated text is what the reducer modules compile to', () => {
    // Fails (exit status 1, naming the command to run) when a reducer module changed without regenerating.
    expect(() =>
      execFileSync(process.execPath, ['scripts/build-worker-source.mjs', '--check'], { stdio: 'pipe' })
    ).not.toThrow()
  })
})
