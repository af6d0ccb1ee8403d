import { readFileSync } from 'node:fs'
import type { GrantedPolicy, ObservedAction, RoleGrants, RoleUsage, UsageSource } from '../../src/model.js'

/** An AWS managed policy document from the real sample data (get-policy-version output). */
export function managedPolicyDocument(name: string): unknown {
  const file = new URL(`../../examples/data/managed-policies/${name}.json`, import.meta.url)
  return (JSON.parse(readFileSync(file, 'utf8')) as { PolicyVersion: { Document: unknown } }).PolicyVersion
    .Document
}

export function managed(name: string): GrantedPolicy {
  return {
    name,
    arn: `arn:aws:iam::aws:policy/${name}`,
    kind: 'managed',
    awsManaged: true,
    document: managedPolicyDocument(name),
    origin: 'iam'
  }
}

export function inline(name: string, document: unknown): GrantedPolicy {
  return { name, kind: 'inline', awsManaged: false, document, origin: 'iam' }
}

export function role(name: string, policies: GrantedPolicy[], extra: Partial<RoleGrants> = {}): RoleGrants {
  return {
    arn: `arn:aws:iam::111122223333:role/${name}`,
    name,
    path: '/',
    accountId: '111122223333',
    policies,
    editable: true,
    ...extra
  }
}

export function usageOf(
  actions: (string | ObservedAction)[],
  extra: Partial<RoleUsage> = {},
  source: UsageSource = 'cloudtrail'
): RoleUsage {
  return {
    roleArn: 'arn:aws:iam::111122223333:role/test',
    source,
    window: { start: '2023-07-10T12:00:00Z', end: '2023-07-10T12:20:00Z' },
    complete: true,
    actions: actions.map(a => (typeof a === 'string' ? { action: a, resources: ['*'] } : a)),
    serviceLevelOnly: [],
    evidence: { notes: [] },
    ...extra
  }
}

export function doc(...statements: Record<string, unknown>[]): unknown {
  return { Version: '2012-10-17', Statement: statements }
}

export const OPTIONS = { keepActions: [] as string[], keepSidPrefix: 'Keep' }

/** Why the analysis holds an action unobservable, or undefined when it does not. */
export function unobservableReason(
  analysis: { unobservable: readonly { action: string; reason: string }[] },
  action: string
): string | undefined {
  return analysis.unobservable.find(u => u.action === action)?.reason
}

/** The role r with one inline policy p that allows `actions` on every resource. */
export function allowing(actions: string | string[]): RoleGrants {
  return role('r', [inline('p', doc({ Effect: 'Allow', Action: actions, Resource: '*' }))])
}
