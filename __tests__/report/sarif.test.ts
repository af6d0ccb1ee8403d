import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { ACCESS_LEVELS } from '../../src/model.js'
import { PRIVILEGE_ESCALATION_RULE_ID, renderSarif } from '../../src/report/sarif.js'
import { buildReport } from '../../src/report/json.js'
import { mixedReport, stealCredentialsRole } from '../support/sample-reports.js'

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

describe('renderSarif', () => {
  const sarif = renderSarif(mixedReport(), '0.1.0')
  const run = sarif.runs[0]!

  it('has the fields SARIF 2.1.0 and code scanning require', () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(REQUIRED_SARIF)
    const valid = validate(JSON.parse(JSON.stringify(sarif)))
    expect(validate.errors ?? []).toEqual([])
    expect(valid).toBe(true)
  })

  it('has one rule per access level plus privilege escalation at level error, with stable ids', () => {
    expect(run.tool.driver.rules.map(r => r.id)).toEqual([
      'iam-least-privilege/excess/privilege-escalation',
      'iam-least-privilege/excess/permissions-management',
      'iam-least-privilege/excess/write',
      'iam-least-privilege/excess/tagging',
      'iam-least-privilege/excess/read',
      'iam-least-privilege/excess/list'
    ])
    expect(run.tool.driver.rules).toHaveLength(ACCESS_LEVELS.length + 1)
    expect(run.tool.driver.rules[0]!.defaultConfiguration.level).toBe('error')
  })

  it('has one result per excess action of the judged roles, each pointing at its rule', () => {
    expect(run.results).toHaveLength(25)
    for (const result of run.results) {
      expect(run.tool.driver.rules[result.ruleIndex]!.id).toBe(result.ruleId)
      expect(result.level).toBe(run.tool.driver.rules[result.ruleIndex]!.defaultConfiguration.level)
    }
    const escalations = run.results.filter(r => r.ruleId === PRIVILEGE_ESCALATION_RULE_ID)
    expect(escalations.map(r => r.properties.action).sort()).toEqual([
      'iam:CreateAccessKey',
      'iam:PassRole',
      'iam:PutRolePolicy'
    ])
    expect(escalations.every(r => r.level === 'error')).toBe(true)
    expect(new Set(run.results.map(r => r.partialFingerprints['iamLeastPrivilege/v1'])).size).toBe(25)
  })

  it('locates a result in the policy file when known, else logically by role', () => {
    const fromFile = run.results.find(r => r.properties.action === 'ssm:GetParameter')!
    expect(fromFile.locations[0]).toEqual({
      physicalLocation: {
        artifactLocation: {
          uri: 'iam/least-privilege/111122223333/stratus-red-team-ec2-steal-credentials-role.json',
          uriBaseId: '%SRCROOT%'
        },
        region: { startLine: 1 }
      }
    })
    const sso = run.results.find(r => r.properties.action === 'iam:PassRole')!
    expect(sso.locations[0]).toEqual({
      logicalLocations: [
        {
          name: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef',
          fullyQualifiedName: sso.properties.roleArn,
          kind: 'resource'
        }
      ]
    })
    expect(sso.message.text).toContain('iam:PassRole (Write) by AdministratorAccess')
  })

  it('never points at a policy file the grants were not read from (it may not exist in the repository)', () => {
    const role = { ...stealCredentialsRole(), policyFileInRepository: undefined }
    const sarif = renderSarif(buildReport([role], 'cloudtrail', '2026-11-27T00:00:00Z'))
    for (const result of sarif.runs[0]!.results)
      expect(result.locations[0]).toHaveProperty('logicalLocations')
  })

  it('reports the roles it could not judge as notifications, and a failed role as an unsuccessful run', () => {
    const notifications = run.invocations[0]!.toolExecutionNotifications
    expect(notifications.map(n => n.level).sort()).toEqual(['error', 'warning'])
    expect(run.invocations[0]!.executionSuccessful).toBe(false)
  })
})
