import { describe, expect, it } from '@jest/globals'
import { NO_CONDITIONAL, compactUnobservable } from '../../src/policy/action-groups.js'
import { NO_EXCESS, compactExcess } from '../../src/policy/excess.js'
import { Ajv } from 'ajv'
import { gzipSync } from 'node:zlib'
import type { RoleResult } from '../../src/model.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import {
  ADDED_BY_PULL_REQUEST_RULE_ID,
  CODE_SCANNING_LIMITS,
  EXCESS_RULE_ID,
  HIGH_RISK_RULE_ID,
  renderSarif,
  sarifChunks,
  serializeSarif,
  statementLines
} from '../../src/report/sarif.js'
import type { SarifLog } from '../../src/report/sarif.js'
import { buildReport } from '../../src/report/json.js'
import { doc, inline, OPTIONS, role, usageOf } from '../policy/builders.js'
import { mixedReport, stealCredentialsRole, withoutDiff } from '../support/sample-reports.js'

/** The fields SARIF 2.1.0 requires (sarifLog, run, tool, toolComponent, reportingDescriptor, result, message,
 * location, invocation) plus what GitHub code scanning reads (ruleId, level, security-severity). */
const REQUIRED_SARIF = {
  type: 'object',
  required: ['version', 'runs'],
  properties: {
    version: { const: '2.1.0' },
    $schema: { type: 'string' },
    runs: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['tool'],
        properties: {
          tool: {
            type: 'object',
            required: ['driver'],
            properties: {
              driver: {
                type: 'object',
                required: ['name'],
                properties: {
                  name: { type: 'string', minLength: 1 },
                  rules: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['id', 'shortDescription', 'defaultConfiguration', 'properties'],
                      properties: {
                        id: { type: 'string', minLength: 1 },
                        shortDescription: { type: 'object', required: ['text'] },
                        defaultConfiguration: {
                          type: 'object',
                          properties: { level: { enum: ['none', 'note', 'warning', 'error'] } }
                        },
                        properties: {
                          type: 'object',
                          required: ['security-severity'],
                          properties: { 'security-severity': { type: 'string', pattern: '^\\d+(\\.\\d+)?$' } }
                        }
                      }
                    }
                  }
                }
              }
            }
          },
          results: {
            type: 'array',
            items: {
              type: 'object',
              required: ['message', 'ruleId', 'level', 'locations'],
              properties: {
                message: { type: 'object', anyOf: [{ required: ['text'] }, { required: ['id'] }] },
                level: { enum: ['none', 'note', 'warning', 'error'] },
                ruleIndex: { type: 'integer', minimum: 0 },
                locations: {
                  type: 'array',
                  minItems: 1,
                  items: {
                    anyOf: [
                      {
                        required: ['physicalLocation'],
                        properties: {
                          physicalLocation: {
                            required: ['artifactLocation'],
                            properties: {
                              artifactLocation: {
                                required: ['uri'],
                                properties: { uri: { type: 'string', not: { pattern: '^/' } } }
                              },
                              region: { properties: { startLine: { type: 'integer', minimum: 1 } } }
                            }
                          }
                        }
                      },
                      { required: ['logicalLocations'] }
                    ]
                  }
                }
              }
            }
          },
          invocations: { type: 'array', items: { type: 'object', required: ['executionSuccessful'] } }
        }
      }
    }
  }
}

/** What GitHub code scanning documents for an upload, beyond the SARIF schema (hard limits and required data). */
function codeScanningProblems(sarif: SarifLog): string[] {
  const problems: string[] = []
  const bytes = gzipSync(serializeSarif(sarif)).length
  if (bytes > CODE_SCANNING_LIMITS.fileBytes) problems.push(`file is ${bytes} bytes compressed`)
  if (sarif.runs.length > CODE_SCANNING_LIMITS.runsPerFile) problems.push('too many runs')
  for (const run of sarif.runs) {
    if (run.results.length > CODE_SCANNING_LIMITS.resultsPerRun) problems.push('too many results')
    if (run.tool.driver.rules.length > CODE_SCANNING_LIMITS.rulesPerRun) problems.push('too many rules')
    if (!run.automationDetails?.id) problems.push('no automationDetails.id')
    for (const rule of run.tool.driver.rules)
      if (rule.properties.tags.length > CODE_SCANNING_LIMITS.tagsPerRule) problems.push(`${rule.id}: tags`)
    for (const result of run.results) {
      if (result.locations.length === 0 || result.locations.length > CODE_SCANNING_LIMITS.locationsPerResult)
        problems.push(`${result.ruleId}: ${result.locations.length} locations`)
      for (const location of result.locations) {
        const uri = location.physicalLocation?.artifactLocation?.uri
        if (!uri || /^\/|^[a-z]+:/i.test(uri)) problems.push(`${result.ruleId}: no relative artifact uri`)
        if ((location.physicalLocation?.region?.startLine ?? 1) < 1) problems.push('bad startLine')
      }
      if (!result.message.text) problems.push('no message')
      if (Object.keys(result.partialFingerprints).length === 0) problems.push('no fingerprint')
      if (!run.tool.driver.rules.some(rule => rule.id === result.ruleId)) problems.push('unknown rule')
    }
  }
  return problems
}

/** A role granted `Action: "*"` that used two actions: every other action of the catalog is excess. */
function analyzedAdminRole(): RoleResult {
  const name = 'admin'
  const grants = role(name, [
    inline('admin', doc({ Sid: 'Everything', Effect: 'Allow', Action: '*', Resource: '*' }))
  ])
  const usage = usageOf(['s3:GetObject', 'sts:GetCallerIdentity'], { roleArn: grants.arn })
  const analysis = analyzeRole(grants, usage, OPTIONS)
  return {
    ...stealCredentialsRole(),
    arn: grants.arn,
    used: analysis.used,
    excess: compactExcess(analysis.excess),
    unobservable: compactUnobservable(analysis.unobservable),
    conditional: NO_CONDITIONAL,
    proposalOutcome: 'proposed',
    policyFile: `iam/least-privilege/111122223333/${name}.json`,
    policyFileInRepository: true
  }
}

let analyzed: RoleResult | undefined
function adminRole(name: string): RoleResult {
  analyzed ??= analyzedAdminRole()
  return {
    ...analyzed,
    arn: `arn:aws:iam::111122223333:role/${name}`,
    policyFile: `iam/least-privilege/111122223333/${name}.json`
  }
}

describe('renderSarif', () => {
  const sarif = renderSarif(mixedReport(), {
    toolVersion: '0.1.0',
    workflowRef: 'octo-org/infra/.github/workflows/iam.yml@refs/heads/main'
  })
  const run = sarif.runs[0]!

  it('has the fields SARIF 2.1.0 and code scanning require', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(REQUIRED_SARIF)
    const valid = validate(JSON.parse(JSON.stringify(sarif)))
    expect(validate.errors ?? []).toEqual([])
    expect(valid).toBe(true)
    expect(codeScanningProblems(sarif)).toEqual([])
    expect(run.automationDetails.id).toBe('iam-least-privilege/cloudtrail/111122223333/')
  })

  it('gives each account its own code scanning category, so a matrix of accounts never replaces alerts', () => {
    // upload-sarif keeps an automationDetails.id the file has (its category input is then ignored): a fixed id
    // would make the job of one account close every alert of the other.
    const other = stealCredentialsRole()
    const inOtherAccount = { ...other, arn: other.arn.replace('111122223333', '444455556666') }
    const ids = [[other], [inOtherAccount], [inOtherAccount, other]].map(
      roles =>
        renderSarif(buildReport(roles, 'cloudtrail', '2026-11-27T00:00:00Z')).runs[0]!.automationDetails.id
    )
    expect(ids).toEqual([
      'iam-least-privilege/cloudtrail/111122223333/',
      'iam-least-privilege/cloudtrail/444455556666/',
      'iam-least-privilege/cloudtrail/111122223333+444455556666/'
    ])
    // Stable across runs: which roles had findings does not change the category.
    const clean = buildReport(
      [{ ...withoutDiff(other), excess: NO_EXCESS }],
      'cloudtrail',
      '2026-11-28T00:00:00Z'
    )
    expect(renderSarif(clean).runs[0]!.automationDetails.id).toBe(ids[0])
  })

  it('has one rule per finding class with stable ids, one reserved for access a pull request adds', () => {
    expect(run.tool.driver.rules.map(r => [r.id, r.defaultConfiguration.level])).toEqual([
      [HIGH_RISK_RULE_ID, 'error'],
      [EXCESS_RULE_ID, 'warning'],
      [ADDED_BY_PULL_REQUEST_RULE_ID, 'error']
    ])
  })

  it('has one result per role and finding class, naming the actions and carrying the report fields', () => {
    // Steal-credentials and the SSO role each have high-risk and other excess.
    expect(run.results.map(r => `${roleName(r.properties.roleArn).slice(0, 14)} ${r.ruleId}`).sort()).toEqual(
      [
        `AWSReservedSSO ${HIGH_RISK_RULE_ID}`,
        `AWSReservedSSO ${EXCESS_RULE_ID}`,
        `stratus-red-te ${HIGH_RISK_RULE_ID}`,
        `stratus-red-te ${EXCESS_RULE_ID}`
      ].sort()
    )
    for (const result of run.results) {
      expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId)
      expect(result.level).toBe(run.tool.driver.rules[result.ruleIndex]!.defaultConfiguration.level)
    }
    const sso = run.results.find(r => r.ruleId === HIGH_RISK_RULE_ID && r.properties.roleArn.includes('SSO'))!
    expect(sso.message.text).toMatch(/Privilege escalation: .*iam:PassRole/)
    expect(sso.properties.privilegeEscalation).toEqual(
      expect.arrayContaining(['iam:CreateAccessKey', 'iam:PassRole'])
    )
    expect(sso.properties).toMatchObject({
      status: 'analyzed',
      editable: false,
      grantedBy: ['AdministratorAccess']
    })
    const total = run.results.reduce((sum, r) => sum + r.properties.actionCount, 0)
    expect(total).toBe(mixedReport().summary.excess)
    const fingerprints = run.results.map(r => r.partialFingerprints['iamLeastPrivilege/v2'])
    expect(new Set(fingerprints).size).toBe(run.results.length)
    // Stable: the same findings a day later give the same fingerprints.
    const later = renderSarif({ ...mixedReport(), generatedAt: '2026-11-28T00:00:00Z' })
    expect(later.runs[0]!.results.map(r => r.partialFingerprints['iamLeastPrivilege/v2'])).toEqual(
      fingerprints
    )
  })

  it('points at the policy file of the repository, and at the statement when the file is known', () => {
    const steal = run.results.find(r => r.properties.roleArn.includes('steal-credentials'))!
    expect(steal.locations[0]!.physicalLocation).toEqual({
      artifactLocation: {
        uri: 'iam/least-privilege/111122223333/stratus-red-team-ec2-steal-credentials-role.json'
      },
      region: { startLine: 1 }
    })
    const file = stealCredentialsRole().policyFile!
    const text = JSON.stringify(
      doc(
        { Sid: 'Other', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' },
        { Sid: 'Ssm', Effect: 'Allow', Action: 'ssm:*', Resource: '*' }
      ),
      null,
      2
    )
    const located = renderSarif(
      buildReport(
        [
          {
            ...stealCredentialsRole(),
            excess: compactExcess([
              { action: 'ssm:GetParameter', accessLevel: 'Read', grantedBy: ['policy#Ssm'] }
            ])
          }
        ],
        'cloudtrail',
        '2026-11-27T00:00:00Z'
      ),
      {
        sources: new Map([[file, text]])
      }
    )
    const lines = text.split('\n')
    const region = located.runs[0]!.results[0]!.locations[0]!.physicalLocation.region!
    expect(lines[region.startLine - 1]!.trim()).toBe('{')
    expect(lines[region.startLine]).toContain('"Sid": "Ssm"')
    expect(lines[region.endLine! - 1]!.trim()).toMatch(/^}/)
    expect(statementLines('{"Statement":[{"Sid":"a}{\\"","Action":"*"}]}', ['p#a}{"'])).toEqual({
      startLine: 1,
      endLine: 1
    })
  })

  it('writes the file as a valid relative URI reference, whatever characters policy-path puts in it', () => {
    const role = { ...stealCredentialsRole(), policyFile: './iam policies/100%/deploy+ci@x=é#1.json' }
    const sarif = renderSarif(buildReport([role], 'cloudtrail', '2026-11-27T00:00:00Z'))
    const uri = sarif.runs[0]!.results[0]!.locations[0]!.physicalLocation.artifactLocation.uri
    expect(uri).toBe('iam%20policies/100%25/deploy+ci@x=%C3%A9%231.json')
    expect(decodeURIComponent(uri)).toBe('iam policies/100%/deploy+ci@x=é#1.json')
    expect(sarif.runs[0]!.results[0]!.properties.policyFile).toBe(role.policyFile)
  })

  it('points at the workflow file when the grants did not come from a file of the repository', () => {
    const sso = run.results.find(r => r.properties.roleArn.includes('SSO'))!
    expect(sso.locations[0]!.physicalLocation.artifactLocation.uri).toBe('.github/workflows/iam.yml')
    expect(sso.locations[0]!.logicalLocations?.[0]?.fullyQualifiedName).toBe(sso.properties.roleArn)
    const { policyFileInRepository: _unused, ...role } = stealCredentialsRole()
    const sarif = renderSarif(buildReport([role], 'cloudtrail', '2026-11-27T00:00:00Z'))
    // Without a workflow (the CLI), the file a proposal would be written to.
    for (const result of sarif.runs[0]!.results)
      expect(result.locations[0]!.physicalLocation.artifactLocation.uri).toBe(role.policyFile)
  })

  it('stays within code scanning\'s limits for two Action "*" roles, keeping the action lists when they fit', () => {
    const report = buildReport(
      [adminRole('admin-a'), adminRole('admin-b')],
      'access-analyzer',
      '2026-11-27T00:00:00Z'
    )
    expect(report.summary.excess).toBeGreaterThan(20_000)
    const sarif = renderSarif(report, { toolVersion: '1.0.0' })
    expect(codeScanningProblems(sarif)).toEqual([])
    expect(sarif.runs[0]!.results).toHaveLength(4)
    expect(sarif.runs[0]!.results.every(r => r.properties.actions !== undefined)).toBe(true)
    expect(sarif.runs[0]!.results[0]!.message.text).toMatch(/and \d+ more \(all in the JSON report\)/)

    // Sixty such roles: the per-action lists go, the results stay, the file fits.
    const many = buildReport(
      Array.from({ length: 60 }, (_, i) => adminRole(`admin-${i}`)),
      'access-analyzer',
      '2026-11-27T00:00:00Z'
    )
    const big = renderSarif(many)
    expect(codeScanningProblems(big)).toEqual([])
    expect(big.runs[0]!.results).toHaveLength(120)
    expect(big.runs[0]!.results.some(r => r.properties.actionsOmitted)).toBe(true)
  })

  it('cuts detail before results to fit the compressed size limit, and says in the run what it cut', () => {
    const report = buildReport(
      Array.from({ length: 12 }, (_, i) => adminRole(`admin-${String(i).padStart(2, '0')}`)),
      'access-analyzer',
      '2026-11-27T00:00:00Z'
    )
    const sizeOf = (sarif: SarifLog) => gzipSync(serializeSarif(sarif)).length
    const full = renderSarif(report)
    expect(full.runs[0]!.properties).toBeUndefined()
    expect(full.runs[0]!.results).toHaveLength(24)
    const fullSize = sizeOf(full)
    const seen = new Set<string>()
    // Shares of the full file, then a limit only a few brief results fit.
    for (const limit of [...[0.9, 0.5, 0.1, 0.02, 0.005].map(share => Math.floor(fullSize * share)), 2_000]) {
      const sarif = renderSarif(report, { limits: { fileBytes: limit } })
      const run = sarif.runs[0]!
      expect(sizeOf(sarif)).toBeLessThanOrEqual(limit)
      const cut = run.properties?.cut ?? []
      expect(cut.length).toBeGreaterThan(0)
      const brief = run.results.every(
        r => r.properties.actions === undefined && r.properties.grantedBy === undefined
      )
      if (run.results.length < 24) {
        // Results go only once every result is brief, the other unused access first: the high-risk results a
        // gate fails on come first and are the last to go.
        expect(brief).toBe(true)
        const high = run.results.filter(r => r.ruleId === HIGH_RISK_RULE_ID).length
        expect(high).toBe(Math.min(12, run.results.length))
        expect(cut).toContain(
          `${24 - run.results.length} results that did not fit the file size limit even brief (the other unused access first)`
        )
        expect(run.invocations[0]!.toolExecutionNotifications.at(-1)?.message.text).toMatch(
          /^\d+ results were left out to stay within code scanning's limits/
        )
        seen.add('results')
      } else if (brief) {
        expect(run.results[0]!.message.text).toMatch(
          /^Role admin-00 is granted \d+ high-risk actions it did not use between .* \(\d+ of them privilege escalation; all in the JSON report\)\. The proposed policy/
        )
        expect(cut).toEqual([expect.stringMatching(/^the action names and lists of every result/)])
        seen.add('brief')
      } else {
        expect(run.results.some(r => r.properties.actionsOmitted)).toBe(true)
        expect(cut).toEqual([
          expect.stringMatching(/^the per-action lists of \d+ results, to fit the file size limit$/)
        ])
        seen.add('lists')
      }
      // The streamed file is the same as the rendered one whatever was cut.
      if (limit === 2_000)
        expect([...sarifChunks(report, { limits: { fileBytes: limit } })].join('')).toBe(
          serializeSarif(sarif)
        )
    }
    expect([...seen].sort()).toEqual(['brief', 'lists', 'results'])

    // Past the results per run: the same order decides.
    const capped = renderSarif(report, { limits: { resultsPerRun: 13 } })
    expect(capped.runs[0]!.results.map(r => r.ruleId)).toEqual([
      ...Array<string>(12).fill(HIGH_RISK_RULE_ID),
      EXCESS_RULE_ID
    ])
    expect(capped.runs[0]!.properties?.cut).toEqual([
      '11 results past 13 results per run (the other unused access first)'
    ])
  })

  it('reports the roles it could not judge as notifications, and a failed role as an unsuccessful run', () => {
    const notifications = run.invocations[0]!.toolExecutionNotifications
    expect(notifications.map(n => n.level).sort()).toEqual(['error', 'warning'])
    expect(run.invocations[0]!.executionSuccessful).toBe(false)
  })
})

function roleName(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1)
}
