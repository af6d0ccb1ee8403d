/**
 * `--roles '*'` with an authorization-details export, on the real sample trail: the export's roles are analyzed,
 * and roles the records show but the export does not hold are reported as not in the export, not as failures.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runAnalysis } from '../../src/run.js'
import { SAMPLE_FILES } from '../support/cli-sample.js'
import { configOf, everyRoleInputs, offlineDeps } from '../support/analysis-in-process.js'

const KEPT = 'stratus-red-team-ec2-steal-credentials-role'

function exportWithOneRole(): string {
  const full = JSON.parse(readFileSync(SAMPLE_FILES.details, 'utf8')) as {
    RoleDetailList: { RoleName: string }[]
  }
  const dir = mkdtempSync(join(tmpdir(), 'export-roles-'))
  const file = join(dir, 'authorization-details.json')
  writeFileSync(
    file,
    JSON.stringify({ ...full, RoleDetailList: full.RoleDetailList.filter(r => r.RoleName === KEPT) })
  )
  return file
}

describe("--roles '*' with --authorization-details", () => {
  test('roles seen only in the trail are "not in the export" and never failures', async () => {
    const config = configOf(everyRoleInputs({ trail: SAMPLE_FILES.trail, details: exportWithOneRole() }))
    const report = await runAnalysis(config, offlineDeps(config))
    const byName = new Map(report.roles.map(r => [r.arn.split('/').pop(), r]))
    expect(byName.get(KEPT)?.status).toBe('analyzed')
    const others = report.roles.filter(r => !r.arn.endsWith(`/${KEPT}`))
    expect(others.length).toBeGreaterThan(0)
    expect(others.every(r => r.status === 'skipped')).toBe(true)
    // Service-linked roles keep their own reason; every other role the export lacks is "not in the export".
    const notExported = others.filter(r => !/service-linked/.test(r.reason ?? ''))
    expect(notExported.length).toBeGreaterThan(0)
    for (const other of notExported) expect(other.reason).toMatch(/^not in the export/)
    expect(report.summary.failed).toBe(0)
  })

  test('a role named explicitly and missing from the export still fails', async () => {
    const config = configOf({
      ...everyRoleInputs({ trail: SAMPLE_FILES.trail, details: exportWithOneRole() }),
      roles: `${KEPT}\nstratus-red-team-ec2-enumerate-role`
    })
    const report = await runAnalysis(config, offlineDeps(config))
    const missing = report.roles.find(r => r.arn.endsWith('/stratus-red-team-ec2-enumerate-role'))
    expect(missing?.status).toBe('failed')
    expect(report.summary.failed).toBe(1)
  })
})
