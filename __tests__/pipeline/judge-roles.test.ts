/**
 * What a streamed run keeps of its roles: each role's facts are exact, and the groups that roles granted the same
 * policies have in common (every service none of them used) are held once, not once per role.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAwsSession } from '../../src/aws/session.js'
import { buildCliConfig } from '../../src/config.js'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleResult } from '../../src/model.js'
import { roleFacts } from '../../src/pipeline/judge-roles.js'
import { runAnalysis } from '../../src/run.js'

const ACCOUNT = '111122223333'
/** Three roles granted `*`, each using a different KMS action. */
const USED = ['ListKeys', 'ListAliases', 'DescribeKey']

function inputs(dir: string): { details: string; trail: string } {
  const names = USED.map((_, i) => `wide-${i}`)
  const details = join(dir, 'authorization-details.json')
  writeFileSync(
    details,
    JSON.stringify({
      RoleDetailList: names.map(name => ({
        Path: '/',
        RoleName: name,
        Arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
        CreateDate: '2023-01-01T00:00:00Z',
        RolePolicyList: [
          {
            PolicyName: 'everything',
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }
          }
        ],
        AttachedManagedPolicies: []
      })),
      Policies: []
    })
  )
  const trail = join(dir, 'trail')
  mkdirSync(trail)
  const records = names.map((name, i) => ({
    eventVersion: '1.08',
    userIdentity: {
      type: 'AssumedRole',
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/s`,
      accountId: ACCOUNT,
      sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, userName: name } }
    },
    eventTime: new Date(Date.parse('2023-06-01T00:00:00Z') + i * 1000).toISOString(),
    eventSource: 'kms.amazonaws.com',
    eventName: USED[i],
    awsRegion: 'us-east-1',
    eventType: 'AwsApiCall',
    managementEvent: true,
    readOnly: true,
    recipientAccountId: ACCOUNT
  }))
  writeFileSync(
    join(trail, `${ACCOUNT}_CloudTrail_us-east-1_20230601T0000Z_a.json`),
    JSON.stringify({ Records: records })
  )
  return { details, trail }
}

describe('a streamed run', () => {
  it('keeps exact facts of each role and one copy of the groups roles have in common', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'judge-roles-'))
    try {
      const { details, trail } = inputs(dir)
      const values: Record<string, string> = {
        roles: '*',
        source: 'cloudtrail',
        'cloudtrail-path': trail,
        'authorization-details': details,
        'min-observation-days': '0',
        validate: 'false'
      }
      const config = buildCliConfig(name => values[name], {})
      const log = new MemoryLogger()
      const streamed: RoleResult[] = []
      const report = await runAnalysis(config, {
        log,
        aws: createAwsSession(config, { log }),
        sink: { begin: () => {}, role: role => void streamed.push(role) }
      })
      expect(report.roles).toHaveLength(USED.length)
      // The facts equal, by value, the facts of the full results handed to the sink.
      expect(report.roles).toEqual(streamed.map(roleFacts))

      const [first, second] = report.roles
      if (!first || !second) throw new Error('roles missing')
      // Each role holds hundreds of groups (a role granted `*`); those of services neither used are one object.
      expect(first.excess.groups.length).toBeGreaterThan(300)
      const s3List = (role: RoleResult) =>
        role.excess.groups.find(g => g.service === 's3' && g.accessLevel === 'List')
      expect(s3List(first)).toBeDefined()
      expect(s3List(second)).toBe(s3List(first))
      const unobservable = (role: RoleResult) => new Set(role.unobservable.groups)
      const shared = [...unobservable(second)].filter(g => unobservable(first).has(g))
      expect(shared.length).toBe(second.unobservable.groups.length)
      // Where the roles differ, each keeps its own group.
      const kmsList = (role: RoleResult) =>
        role.excess.groups.find(g => g.service === 'kms' && g.accessLevel === 'List')
      expect(kmsList(first)?.allExcept).toEqual(['kms:ListKeys'])
      expect(kmsList(second)?.allExcept).toEqual(['kms:ListAliases'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})
