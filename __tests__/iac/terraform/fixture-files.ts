/** Terraform fixtures (real projects, copied unchanged with their LICENSE and SOURCE) read as IaC source files. */
import { readdirSync, readFileSync, statSync } from 'node:fs'
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
