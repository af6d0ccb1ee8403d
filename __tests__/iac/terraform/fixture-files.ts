/** Terraform fixtures (real projects, copied unchanged with their LICENSE and SOURCE) read as IaC source files. */
import { expect } from '@jest/globals'
import { createTwoFilesPatch } from 'diff'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import type { IacSourceFile } from '../../../src/iac/model.js'

export const FIXTURES = '__tests__/fixtures/iac/terraform'

/** Every `.tf` and `.json` file under a fixture project, with paths relative to the project. */
export function fixtureFiles(project: string): IacSourceFile[] {
  const root = path.join(FIXTURES, project)
  const files: IacSourceFile[] = []
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const full = path.join(dir, name)
      if (statSync(full).isDirectory()) walk(full)
      else if (name.endsWith('.tf') || name.endsWith('.json'))
        files.push({
          path: path.relative(root, full).split(path.sep).join('/'),
          text: readFileSync(full, 'utf8')
        })
    }
  }
  walk(root)
  return files
}

export function fixtureFile(project: string, file: string): IacSourceFile {
  return { path: file, text: readFileSync(path.join(FIXTURES, project, file), 'utf8') }
}

/** The whole unified diff of an edit, compared with the committed golden file (UPDATE_GOLDEN=1 writes it). */
export function expectGolden(name: string, file: IacSourceFile, after: string): void {
  const diff = createTwoFilesPatch(file.path, file.path, file.text, after, '', '', { context: 3 })
  const golden = `__tests__/iac/terraform/golden/${name}.diff`
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, diff)
  expect(existsSync(golden)).toBe(true)
  expect(diff).toBe(readFileSync(golden, 'utf8'))
}
