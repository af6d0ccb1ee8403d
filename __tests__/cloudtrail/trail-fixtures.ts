import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { CloudTrailScan } from '../../src/usage/cloudtrail/scan.js'

export const DATA = 'examples/data/cloudtrail'
export const INVICTUS = `${DATA}/invictus-aws-dataset/CloudTrail`
export const STRATUS = `${DATA}/stratus-red-team/docs/detonation-logs`

export type TrailRecord = Record<string, unknown>

/** The records of one real file, whatever its shape ({"Records":[...]} or a JSON array). */
export function recordsOf(file: string): TrailRecord[] {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as TrailRecord[] | { Records: TrailRecord[] }
  return Array.isArray(parsed) ? parsed : parsed.Records
}

export function jsonFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith('.json'))
    .map(e => path.join(e.parentPath, e.name))
    .sort()
}

/** Every record of the Invictus export (the S3 delivery shape), in file order. */
export function invictusRecords(): TrailRecord[] {
  return jsonFiles(INVICTUS).flatMap(recordsOf)
}

export function tempDir(): {
  dir: string
  write(rel: string, body: string | Buffer): string
  remove(): void
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'ct-scan-'))
  return {
    dir,
    write(rel, body) {
      const full = path.join(dir, rel)
      mkdirSync(path.dirname(full), { recursive: true })
      writeFileSync(full, body)
      return full
    },
    remove() {
      rmSync(dir, { recursive: true, force: true })
    }
  }
}

/** Each role's used actions with counts, and its outcome tallies: what must not depend on how files were read. */
export function usageDigest(scan: CloudTrailScan): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [arn, usage] of [...scan.roles.entries()].sort(([a], [b]) => (a < b ? -1 : 1))) {
    out[arn] = {
      actions: usage.actions,
      matched: usage.evidence.eventsMatched,
      denied: usage.evidence.deniedCalls,
      permissionless: usage.evidence.permissionlessCalls,
      unmapped: usage.evidence.unmapped
    }
  }
  return out
}

/** The ARN of the role that issued a record's session, or '' for any other caller. */
export function issuerOf(r: TrailRecord): string {
  const arn = (r.userIdentity as { sessionContext?: { sessionIssuer?: { arn?: unknown } } } | undefined)
    ?.sessionContext?.sessionIssuer?.arn
  return typeof arn === 'string' ? arn : ''
}

export const STEAL_CREDENTIALS_ROLE =
  'arn:aws:iam::123837392027:role/stratus-red-team-ec2-steal-credentials-role'

let stealCredentialsCall: TrailRecord | undefined

/** A copy of a real record of the steal-credentials role (an SSM agent call), with `changes` made to it. */
export function stealCredentialsVariant(changes: Record<string, unknown> = {}): TrailRecord {
  stealCredentialsCall ??= invictusRecords().find(
    r => issuerOf(r) === STEAL_CREDENTIALS_ROLE && r.eventName === 'UpdateInstanceInformation'
  )
  if (!stealCredentialsCall)
    throw new Error('the sample has no UpdateInstanceInformation record of the steal-credentials role')
  return { ...structuredClone(stealCredentialsCall), ...changes }
}
