import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { readFileSync } from 'node:fs'
import { conditionalActionList, unobservableActionList } from '../../src/policy/action-groups.js'
import { excessActions } from '../../src/policy/excess.js'
import { buildReport, serializeReport } from '../../src/report/json.js'
import { deniedOnlyRole, failedRole, ssoRole, stealCredentialsRole } from '../support/sample-reports.js'

describe('buildReport', () => {
  it('computes the summary and sorts roles and actions so finishing order does not matter', () => {
    const a = buildReport(
      [failedRole(), ssoRole(), stealCredentialsRole(), deniedOnlyRole()],
      'cloudtrail',
      '2026-11-27T00:00:00Z'
    )
    const b = buildReport(
      [deniedOnlyRole(), stealCredentialsRole(), failedRole(), ssoRole()],
      'cloudtrail',
      '2026-11-27T00:00:00Z'
    )
    expect(a.summary).toEqual({ roles: 4, analyzed: 2, failed: 1, excess: 25 })
    expect(a.version).toBe(1)
    expect(a.roles.map(r => r.arn)).toEqual([...a.roles.map(r => r.arn)].sort())
    const steal = a.roles.find(r => r.arn.endsWith('steal-credentials-role'))
    const actions = steal ? excessActions(steal.excess).map(e => e.action) : []
    expect(actions).toEqual([...actions].sort())
    expect(serializeReport(a)).toBe(serializeReport(b))
  })
})

describe('serializeReport', () => {
  it('writes the same bytes whatever order the objects were built in, in a reading order for known shapes', () => {
    const report = buildReport([stealCredentialsRole()], 'access-analyzer', '2026-11-27T00:00:00Z')
    const role = report.roles[0]!
    const shuffledRole = Object.fromEntries(Object.entries(role).reverse()) as typeof role
    const shuffledDoc = {
      ...role.proposed[0]!,
      document: {
        Statement: role.proposed[0]!.document.Statement.map(s =>
          Object.fromEntries(Object.entries(s).reverse())
        ),
        Version: '2012-10-17'
      }
    }
    const shuffled = {
      summary: report.summary,
      roles: [{ ...shuffledRole, proposed: [shuffledDoc] }],
      source: report.source,
      generatedAt: report.generatedAt,
      version: 1 as const
    }

    const text = serializeReport(report)
    expect(serializeReport(shuffled)).toBe(text)
    expect(text.endsWith('}\n')).toBe(true)
    expect(Object.keys(JSON.parse(text) as object)).toEqual([
      'version',
      'generatedAt',
      'source',
      'roles',
      'summary'
    ])
    expect(Object.keys((JSON.parse(text) as { roles: object[] }).roles[0] ?? {}).slice(0, 6)).toEqual([
      'arn',
      'status',
      'window',
      'complete',
      'used',
      'excess'
    ])
    expect(text).toMatch(/"Version": "2012-10-17",\s+"Statement"/)
    expect(text).toMatch(/"Sid": "Used",\s+"Effect": "Allow",\s+"Action"/)
    const perAction = {
      ...report,
      roles: report.roles.map(r => ({
        ...r,
        excess: excessActions(r.excess),
        unobservable: unobservableActionList(r.unobservable),
        conditional: conditionalActionList(r.conditional)
      }))
    }
    expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(perAction)))
  })
})

describe('a role granted from infrastructure code', () => {
  it('is written as the published schemas of both versions say: its code location and link, not the documents it was judged on', () => {
    const location = {
      kind: 'terraform' as const,
      file: 'infra/main.tf',
      startLine: 3,
      endLine: 9,
      address: 'aws_iam_role.app'
    }
    const role = {
      ...stealCredentialsRole(),
      grantedFrom: [location],
      iacLink: 'linked by name',
      iacAwsManaged: {
        role: location,
        policies: [
          {
            name: 'AmazonSSMManagedInstanceCore',
            arn: 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore',
            kind: 'managed' as const,
            awsManaged: true,
            origin: 'iam',
            document: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: 'ssm:*', Resource: '*' }]
            }
          }
        ]
      }
    }
    const report = buildReport([role], 'cloudtrail', '2026-11-27T00:00:00Z')
    for (const version of [1, 2] as const) {
      const written = JSON.parse(serializeReport(report, version)) as { roles: Record<string, unknown>[] }
      expect(written.roles[0]).toMatchObject({ grantedFrom: [location], iacLink: 'linked by name' })
      expect(written.roles[0]).not.toHaveProperty('iacAwsManaged')
      const validate = new Ajv({ allErrors: true }).compile(
        JSON.parse(readFileSync(`docs/report-v${version}.schema.json`, 'utf8')) as object
      )
      expect(validate(written)).toBe(true)
    }
  })
})
