/**
 * The local inputs of a CloudTrail run, written to a folder: a get-account-authorization-details export of roles each
 * granted one inline policy, and one CloudTrail log file holding one call of each role, a second apart.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { roleSessionRecord } from './role-session-record.js'

export interface RoleWithOneCall {
  name: string
  /** What its one inline policy allows, on every resource. */
  granted: string | string[]
  /** The one call its session made. */
  call: { eventSource: string; eventName: string }
}

/** Writes `dir`/authorization-details.json and `dir`/trail/ for `roles` of `account`; returns their paths. */
export function writeRolesAndTrail(
  dir: string,
  account: string,
  roles: RoleWithOneCall[]
): { details: string; trail: string } {
  const details = join(dir, 'authorization-details.json')
  writeFileSync(
    details,
    JSON.stringify({
      RoleDetailList: roles.map(({ name, granted }) => ({
        Path: '/',
        RoleName: name,
        Arn: `arn:aws:iam::${account}:role/${name}`,
        CreateDate: '2023-01-01T00:00:00Z',
        RolePolicyList: [
          {
            PolicyName: 'granted',
            PolicyDocument: {
              Version: '2012-10-17',
              Statement: [{ Effect: 'Allow', Action: granted, Resource: '*' }]
            }
          }
        ],
        AttachedManagedPolicies: []
      })),
      Policies: []
    })
  )
  const trail = join(dir, 'trail')
  mkdirSync(trail)
  const start = Date.parse('2023-06-01T00:00:00Z')
  const records = roles.map(({ name, call }, i) =>
    roleSessionRecord(account, name, { ...call, eventTime: new Date(start + i * 1000).toISOString() })
  )
  writeFileSync(
    join(trail, `${account}_CloudTrail_us-east-1_20230601T0000Z_a.json`),
    JSON.stringify({ Records: records })
  )
  return { details, trail }
}
