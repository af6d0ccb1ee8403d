/**
 * docs/example-comment.md shows a real sticky comment: rendered here from the real sample data through the CLI bundle. The test
 * fails when that copy drifts; `UPDATE_README_EXAMPLE=1 npm test` rewrites it.
 */
import { describe, expect, it } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { commentMarker } from '../../src/github/comment.js'
import { compactConditional, compactUnobservable } from '../../src/policy/action-groups.js'
import { compactExcess } from '../../src/policy/excess.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { GRANTS, jsonReportOf, SAMPLE } from '../support/cli-sample.js'

const START = '<!-- example-comment:start -->'
const END = '<!-- example-comment:end -->'
const EXAMPLE = 'docs/example-comment.md'

describe('example comment in docs/', () => {
  it('is the comment the action renders for the real sample', () => {
    const json = execFileSync(
      process.execPath,
      [
        'dist/cli.js',
        'analyze',
        ...SAMPLE,
        ...GRANTS,
        ...jsonReportOf('stratus-red-team-ec2-steal-credentials-role')
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] }
    ).toString()
    const parsed = JSON.parse(json) as JsonReportV1
    const report = {
      ...parsed,
      roles: parsed.roles.map(r => ({
        ...r,
        excess: compactExcess(r.excess),
        unobservable: compactUnobservable(r.unobservable),
        conditional: compactConditional(r.conditional)
      }))
    }
    const comment = renderMarkdown(report, {
      maxLength: 65_536,
      marker: commentMarker('least privilege', 'gate'),
      fullReportHint: 'the job summary'
    })
    const readme = readFileSync(EXAMPLE, 'utf8')
    const start = readme.indexOf(START)
    const end = readme.indexOf(END)
    expect(start).toBeGreaterThan(-1)
    const expected = `${START}\n${comment.trim()}\n${END}`
    if (process.env.UPDATE_README_EXAMPLE) {
      writeFileSync(EXAMPLE, readme.slice(0, start) + expected + readme.slice(end + END.length))
      return
    }
    expect(readme.slice(start, end + END.length)).toBe(expected)
  })
})
