import { describe, expect, it } from '@jest/globals'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parse } from 'yaml'
import { CLI_OPTIONS, USAGE } from '../../src/cli-main.js'
import { cliForm, INPUTS, inputsOf } from '../../src/config.js'
import type { InputName } from '../../src/config.js'
import { VERSION } from '../../src/version.js'

interface Workflow {
  permissions?: Record<string, string>
}

interface ActionYml {
  inputs: Record<string, { description: string; required?: boolean; default?: string }>
  outputs: Record<string, { description: string }>
  runs: { using: string; main: string }
}

const action = parse(readFileSync('action.yml', 'utf8')) as ActionYml
const readme = readFileSync('README.md', 'utf8')

/** The rows of the Markdown table between two HTML comment markers, as cells. */
function tableRows(marker: string): string[][] {
  const start = readme.indexOf(`<!-- ${marker}:start -->`)
  const end = readme.indexOf(`<!-- ${marker}:end -->`)
  expect(start).toBeGreaterThan(-1)
  expect(end).toBeGreaterThan(start)
  return readme
    .slice(start, end)
    .split('\n')
    .filter(line => line.startsWith('| `'))
    .map(line =>
      line
        .slice(1, -1)
        .split(' | ')
        .map(cell => cell.trim())
    )
}

/** The first column of the Markdown table between two HTML comment markers. */
function tableNames(marker: string): string[] {
  return tableRows(marker).map(([first]) => /^`([^`]+)`/.exec(first ?? '')?.[1] ?? '')
}

/** The CLI option each CLI input is given with. */
function cliOptionOf(name: InputName): string {
  const form = cliForm(name)
  return form.kind === 'flag' ? form.option : name
}

function workflowFiles(): string[] {
  const dirs = ['.github/workflows', 'examples/workflows']
  return dirs.flatMap(dir =>
    readdirSync(dir)
      .filter(f => /\.ya?ml$/.test(f))
      .map(f => join(dir, f))
  )
}

describe('action.yml', () => {
  it('runs the committed bundle on node24', () => {
    expect(action.runs).toEqual({ using: 'node24', main: 'dist/index.js' })
  })

  it('declares exactly the action inputs of the configuration table, in its order', () => {
    expect(Object.keys(action.inputs)).toEqual(inputsOf('action'))
  })

  it('describes every input and defaults every optional one, as the configuration table does', () => {
    for (const [name, input] of Object.entries(action.inputs)) {
      expect(input.description.length).toBeGreaterThan(10)
      if (name === 'roles') {
        expect(input.required).toBe(true)
        continue
      }
      expect(input.required).toBe(false)
      expect(typeof input.default).toBe('string')
      expect([name, input.default]).toEqual([name, INPUTS[name as InputName].default])
    }
  })

  it('has the outputs of the design', () => {
    expect(Object.keys(action.outputs).sort()).toEqual(
      [
        'comment-url',
        'excess-count',
        'pull-request-url',
        'report',
        'roles-analyzed',
        'roles-failed',
        'sarif'
      ].sort()
    )
  })
})

describe('README', () => {
  it('lists exactly the inputs and outputs of action.yml', () => {
    expect(tableNames('inputs').sort()).toEqual(Object.keys(action.inputs).sort())
    expect(tableNames('outputs').sort()).toEqual(Object.keys(action.outputs).sort())
  })

  it("gives each input's default as the configuration table does", () => {
    for (const [name, shown] of tableRows('inputs')) {
      const input = /^`([^`]+)`$/.exec(name ?? '')?.[1] as InputName
      const value = INPUTS[input].default
      const expected = input === 'roles' ? '(required)' : value === '' ? "`''`" : `\`${value}\``
      expect([input, shown]).toEqual([input, expected])
    }
  })

  it('names every option that only the CLI takes', () => {
    for (const name of inputsOf('cli').filter(n => !inputsOf('action').includes(n)))
      expect(readme).toContain(`\`--${name}`)
  })

  it('gives the quick start as the two commands', () => {
    expect(readme).toContain('npm ci && npm start')
    expect(readme).toContain('npm ci && npm test')
  })
})

describe('CLI', () => {
  it('accepts exactly its inputs of the configuration table, plus --help and --version', () => {
    expect(Object.keys(CLI_OPTIONS).sort()).toEqual(
      ['help', 'version', ...inputsOf('cli').map(cliOptionOf)].sort()
    )
  })

  it('explains exactly the options it accepts in --help', () => {
    const explained = new Set([...USAGE.matchAll(/(?<![\w-])--([a-z][a-z-]*)/g)].map(m => m[1]))
    expect([...explained].sort()).toEqual(Object.keys(CLI_OPTIONS).sort())
  })
})

describe('workflows', () => {
  it.each(workflowFiles())('%s parses and uses only inputs of action.yml', file => {
    const workflow = parse(readFileSync(file, 'utf8')) as {
      jobs: Record<string, { steps?: { uses?: string; with?: Record<string, unknown> }[] }>
    }
    expect(Object.keys(workflow.jobs).length).toBeGreaterThan(0)
    for (const job of Object.values(workflow.jobs)) {
      for (const step of job.steps ?? []) {
        if (!step.uses || !/iam-least-privilege|^\.\/?$/.test(step.uses)) continue
        for (const key of Object.keys(step.with ?? {}))
          expect([file, key, key in action.inputs]).toEqual([file, key, true])
        expect(step.with?.roles).toBeTruthy()
      }
    }
  })

  it('asks each example for the permissions its mode needs and no more', () => {
    const weekly = parse(readFileSync('examples/workflows/weekly-least-privilege-pr.yml', 'utf8')) as Workflow
    // Labels are issue data: pr-labels needs issues: write.
    expect(JSON.stringify(weekly)).toContain('"pr-labels"')
    expect(weekly.permissions).toEqual({
      'id-token': 'write',
      contents: 'write',
      'pull-requests': 'write',
      issues: 'write'
    })
    const gate = parse(readFileSync('examples/workflows/pull-request-gate.yml', 'utf8')) as Workflow
    expect(gate.permissions).toEqual({ 'id-token': 'write', contents: 'read', 'pull-requests': 'write' })
  })
})

describe('version', () => {
  it('matches package.json', () => {
    expect(VERSION).toBe((JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version)
  })
})
