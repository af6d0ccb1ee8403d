/** The files both entries write: report.json, report.sarif and each proposal at its policy-path. */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  policyFileContent,
  repositoryPolicySources,
  writableProposals,
  writeReportFiles
} from '../../src/output.js'
import { buildReport, serializeReport } from '../../src/report/json.js'
import { deniedOnlyRole, failedRole, ssoRole, stealCredentialsRole } from '../support/sample-reports.js'

const SARIF = { toolVersion: '0.0.0-test', sources: new Map<string, string>() }
const at = '2026-11-27T00:00:00Z'

describe('writeReportFiles', () => {
  it('writes the report, the SARIF and the proposal of each editable role with excess', () => {
    const report = buildReport(
      [stealCredentialsRole(), deniedOnlyRole(), failedRole(), ssoRole()],
      'cloudtrail',
      at
    )
    const dir = join(mkdtempSync(join(tmpdir(), 'output-')), 'nested')
    const files = writeReportFiles(report, dir, SARIF)
    expect(readFileSync(files.report, 'utf8')).toBe(serializeReport(report))
    expect(JSON.parse(readFileSync(files.sarif, 'utf8'))).toMatchObject({ version: '2.1.0' })
    const steal = stealCredentialsRole()
    expect(writableProposals(report).map(r => r.arn)).toEqual([steal.arn])
    expect(files.proposals).toEqual([join(dir, 'proposals', steal.policyFile ?? '')])
    expect(readFileSync(files.proposals[0] ?? '', 'utf8')).toBe(policyFileContent(steal.proposed))
  })

  it('refuses a policy file that would land outside the proposals folder', () => {
    const role = { ...stealCredentialsRole(), policyFile: '../../escape.json' }
    const dir = mkdtempSync(join(tmpdir(), 'output-'))
    expect(() => writeReportFiles(buildReport([role], 'cloudtrail', at), dir, SARIF)).toThrow(
      /policy file \.\.\/\.\.\/escape\.json would be written outside/
    )
  })
})

describe('policyFileContent', () => {
  it('writes one proposed document as itself and several as an array, each ending with a newline', () => {
    const [first] = stealCredentialsRole().proposed
    if (!first) throw new Error('the sample role proposes a policy')
    expect(policyFileContent([first])).toBe(`${JSON.stringify(first.document, null, 2)}\n`)
    expect(JSON.parse(policyFileContent([first, first]))).toEqual([first.document, first.document])
  })
})

describe('repositoryPolicySources', () => {
  it('reads the policy files of the workspace the roles were judged from, and nothing outside it', () => {
    const workspace = mkdtempSync(join(tmpdir(), 'workspace-'))
    const steal = stealCredentialsRole()
    const path = steal.policyFile ?? ''
    mkdirSync(join(workspace, path, '..'), { recursive: true })
    writeFileSync(join(workspace, path), '{"Version":"2012-10-17"}')
    const outside = { ...ssoRole(), policyFile: '../outside.json', policyFileInRepository: true }
    const gone = { ...deniedOnlyRole(), policyFile: 'iam/gone.json', policyFileInRepository: true }
    const report = buildReport([steal, outside, gone], 'cloudtrail', at)
    expect(repositoryPolicySources(report, workspace)).toEqual(new Map([[path, '{"Version":"2012-10-17"}']]))
  })
})
