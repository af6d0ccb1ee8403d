/**
 * `--roles '*'` with an authorization-details export, on the real sample trail: the export's roles are analyzed,
 * and roles the records show but the export does not hold are reported as not in the export, not as failures.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildCliConfig } from '../../src/config.js'
import { MemoryLogger } from '../../src/logger.js'
import { createAwsSession } from '../../src/aws/session.js'
import type { Config } from '../../src/config.js'
import { runAnalysis } from '../../src/run.js'

function offline(config: Config) {
  const log = new MemoryLogger()
  return { log, aws: createAwsSession(config, { log }) }
}

const KEPT = 'stratus-red-team-ec2-steal-credentials-role'

function exportWithOneRole(): string {
  const full = JSON.parse(readFileSync('examples/authorization-details.json', 'utf8')) as {
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
    const inputs: Record<string, string> = {
      roles: '*',
      source: 'cloudtrail',
      'cloudtrail-path': 'examples/data/cloudtrail/invictus-aws-dataset',
      'min-observation-days': '0'
    }
    const config = buildCliConfig(
      name => ({ ...inputs, 'authorization-details': exportWithOneRole() })[name],
      {}
    )
    const report = await runAnalysis(config, offline(config))
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
    const inputs: Record<string, string> = {
      roles: `${KEPT}\nstratus-red-team-ec2-enumerate-role`,
      source: 'cloudtrail',
      'cloudtrail-path': 'examples/data/cloudtrail/invictus-aws-dataset',
      'min-observation-days': '0'
    }
    const config = buildCliConfig(
      name => ({ ...inputs, 'authorization-details': exportWithOneRole() })[name],
      {}
    )
    const report = await runAnalysis(config, offline(config))
    const missing = report.roles.find(r => r.arn.endsWith('/stratus-red-team-ec2-enumerate-role'))
    expect(missing?.status).toBe('failed')
    expect(report.summary.failed).toBe(1)
  })
})
