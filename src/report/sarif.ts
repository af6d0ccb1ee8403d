import { ACCESS_LEVELS } from '../model.js'
import type { AccessLevel, ExcessAction, ReportV1, RoleResult } from '../model.js'
import { byRiskThenAction, roleName } from './role-facts.js'

/** The subset of SARIF 2.1.0 we emit. */
export interface SarifLog {
  $schema: string
  version: '2.1.0'
  runs: SarifRun[]
}

export interface SarifRun {
  tool: { driver: { name: string; version?: string; rules: SarifRule[] } }
  results: SarifResult[]
  invocations: {
    executionSuccessful: boolean
    toolExecutionNotifications: { level: 'error' | 'warning'; message: { text: string } }[]
  }[]
}

export interface SarifRule {
  id: string
  name: string
  shortDescription: { text: string }
  fullDescription: { text: string }
  help: { text: string; markdown: string }
  defaultConfiguration: { level: SarifLevel }
  properties: { tags: string[]; precision: string; 'security-severity': string }
}

type SarifLevel = 'error' | 'warning' | 'note'

export interface SarifResult {
  ruleId: string
  ruleIndex: number
  level: SarifLevel
  message: { text: string }
  locations: SarifLocation[]
  partialFingerprints: Record<string, string>
  properties: { roleArn: string; action: string; accessLevel: AccessLevel; grantedBy: string[] }
}

export type SarifLocation =
  | {
      physicalLocation: {
        artifactLocation: { uri: string; uriBaseId: string }
        region: { startLine: number }
      }
    }
  | { logicalLocations: { name: string; fullyQualifiedName: string; kind: string }[] }

export const PRIVILEGE_ESCALATION_RULE_ID = 'iam-least-privilege/excess/privilege-escalation'

interface RuleSpec {
  id: string
  name: string
  level: SarifLevel
  severity: string
  what: string
}

const ACCESS_LEVEL_RULES: Record<AccessLevel, RuleSpec> = {
  'Permissions management': {
    id: 'iam-least-privilege/excess/permissions-management',
    name: 'UnusedPermissionsManagementAction',
    level: 'warning',
    severity: '7.5',
    what: 'a Permissions management action (it can change who may do what)'
  },
  Write: {
    id: 'iam-least-privilege/excess/write',
    name: 'UnusedWriteAction',
    level: 'warning',
    severity: '5.5',
    what: 'a Write action'
  },
  Tagging: {
    id: 'iam-least-privilege/excess/tagging',
    name: 'UnusedTaggingAction',
    level: 'note',
    severity: '3.0',
    what: 'a Tagging action (tags can drive attribute-based access control)'
  },
  Read: {
    id: 'iam-least-privilege/excess/read',
    name: 'UnusedReadAction',
    level: 'note',
    severity: '3.0',
    what: 'a Read action'
  },
  List: {
    id: 'iam-least-privilege/excess/list',
    name: 'UnusedListAction',
    level: 'note',
    severity: '2.0',
    what: 'a List action'
  }
}

const ESCALATION_RULE: RuleSpec = {
  id: PRIVILEGE_ESCALATION_RULE_ID,
  name: 'UnusedPrivilegeEscalationAction',
  level: 'error',
  severity: '9.0',
  what: 'an action known to allow privilege escalation'
}

const RULE_SPECS: RuleSpec[] = [ESCALATION_RULE, ...ACCESS_LEVELS.map(level => ACCESS_LEVEL_RULES[level])]

/**
 * SARIF 2.1.0 for code scanning: one result per excess action; one rule per access level plus one, at level
 * error, for privilege-escalation actions. A result points at the role's policy file when its grants were read from it in the repository
 * holds it, otherwise at a logical location naming the role. Rule ids and fingerprints never change between
 * runs, so code scanning tracks each finding across runs.
 */
export function renderSarif(report: ReportV1, toolVersion?: string): SarifLog {
  const rules = RULE_SPECS.map(ruleOf)
  const results = report.roles
    .filter(role => role.status === 'analyzed')
    .flatMap(role => [...role.excess].sort(byRiskThenAction).map(excess => resultOf(role, excess)))
  const notJudged = report.roles.filter(role => role.status !== 'analyzed')
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'iam-least-privilege',
            ...(toolVersion ? { version: toolVersion } : {}),
            rules
          }
        },
        results,
        invocations: [
          {
            executionSuccessful: report.roles.every(role => role.status !== 'failed'),
            toolExecutionNotifications: notJudged.map(role => ({
              level: role.status === 'failed' ? ('error' as const) : ('warning' as const),
              message: {
                text: `${role.arn} was not judged (${role.status})${role.reason ? `: ${role.reason}` : ''}`
              }
            }))
          }
        ]
      }
    ]
  }
}

function ruleOf(spec: RuleSpec): SarifRule {
  const text = `The role is granted ${spec.what} that it did not use in the observation window.`
  const help =
    'Granted permissions a role never uses widen what an attacker holding its credentials can do. ' +
    'Remove the action (the proposed policy already does), unless the role needs it rarely: in that case ' +
    'widen the observation window or keep it with a Keep statement.'
  return {
    id: spec.id,
    name: spec.name,
    shortDescription: { text: `Unused: ${spec.what}` },
    fullDescription: { text },
    help: { text: help, markdown: help },
    defaultConfiguration: { level: spec.level },
    properties: {
      tags: ['security', 'iam', 'least-privilege'],
      precision: 'high',
      'security-severity': spec.severity
    }
  }
}

function resultOf(role: RoleResult, excess: ExcessAction): SarifResult {
  const spec =
    excess.risk === 'privilege-escalation' ? ESCALATION_RULE : ACCESS_LEVEL_RULES[excess.accessLevel]
  const { name } = roleName(role.arn)
  const granted = excess.grantedBy.length > 0 ? ` by ${excess.grantedBy.join(', ')}` : ''
  return {
    ruleId: spec.id,
    ruleIndex: RULE_SPECS.indexOf(spec),
    level: spec.level,
    message: {
      text:
        `Role ${name} is granted ${excess.action} (${excess.accessLevel})${granted} but did not use it ` +
        `between ${role.window.start} and ${role.window.end}.`
    },
    locations: [locationOf(role)],
    partialFingerprints: { 'iamLeastPrivilege/v1': `${role.arn}|${excess.action}` },
    properties: {
      roleArn: role.arn,
      action: excess.action,
      accessLevel: excess.accessLevel,
      grantedBy: excess.grantedBy
    }
  }
}

function locationOf(role: RoleResult): SarifLocation {
  if (role.policyFile && role.policyFileInRepository) {
    return {
      physicalLocation: {
        artifactLocation: { uri: role.policyFile.replace(/^\.\//, ''), uriBaseId: '%SRCROOT%' },
        region: { startLine: 1 }
      }
    }
  }
  return {
    logicalLocations: [{ name: roleName(role.arn).name, fullyQualifiedName: role.arn, kind: 'resource' }]
  }
}
