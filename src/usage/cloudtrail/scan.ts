import { availableParallelism } from 'node:os'
import type { S3Client } from '@aws-sdk/client-s3'
import type { RoleUsage, SkippedFile, TimeWindow } from '../../model.js'
import { loadCatalog } from '../../policy/catalog.js'
import type { Catalog } from '../../policy/catalog.js'
import { ScanAggregate } from './aggregate.js'
import { listLocalLogFiles } from './local-files.js'
import { DENIED_MESSAGE_PATTERN } from './map-event.js'
import { ReducerPool, isFailedFile } from './reducer.js'
import type { FileTask, ReducerConfig } from './reducer.js'
import { buildRoleUsage } from './role-usage.js'
import { createTrailS3Client, isS3Path, listS3LogKeys, parseS3Location, readS3Object } from './s3-files.js'

export interface CloudTrailQuery {
  /** A folder (read recursively) or `s3://bucket/prefix`. */
  path: string
  /** Roles to report, by ARN (path included) or by name; empty = every role found. */
  roles: { arn?: string; name?: string }[]
  since?: Date
  until?: Date
  /** S3 listing only: the Regions to read (default: all). */
  regions?: string[]
  /** Worker threads; 0 reads in the main thread. Default: min(available cores, files). */
  workers?: number
}

export interface CloudTrailScan {
  /** The span of the records read, narrowed by since/until. */
  window: TimeWindow
  filesRead: number
  filesSkipped: SkippedFile[]
  /** Every event in the files read (any identity, any time). */
  eventsRead: number
  /** One entry per selected role ARN: source 'cloudtrail', complete, evidence filled. */
  roles: Map<string, RoleUsage>
  /** Every role ARN seen in the records within the window, selected or not. */
  rolesSeen: string[]
  /** Worker threads used (0 = main thread). */
  threads: number
  /** What a reader should know about the whole scan. */
  notes: string[]
}

export interface ScanOptions {
  s3Client?: S3Client
  onProgress?: (message: string) => void
  catalog?: Catalog
  /** Local files larger than this many bytes are streamed (default 64 MiB). */
  streamFromBytes?: number
}

/** Distinct resource ARNs kept per role and action before they are reported as `*`. */
const MAX_RESOURCES = 1000

/** CloudTrail's own files are a few MB; anything past this is an export, read as a stream. */
const STREAM_FROM_BYTES = 64 * 1024 * 1024

function validated(query: CloudTrailQuery): void {
  if (!query.path)
    throw new Error('cloudtrail-path: empty; give a folder of CloudTrail log files or s3://bucket/prefix')
  for (const d of [query.since, query.until]) {
    if (d && Number.isNaN(d.getTime())) throw new Error('cloudtrail window: since/until is not a valid date')
  }
  if (query.since && query.until && query.since > query.until) {
    throw new Error(
      `cloudtrail window: since (${query.since.toISOString()}) is after until (${query.until.toISOString()})`
    )
  }
  for (const role of query.roles) {
    if (!role.arn && !role.name) throw new Error('roles: each role needs an ARN or a name')
  }
}

function reducerConfig(query: CloudTrailQuery, options: ScanOptions): ReducerConfig {
  return {
    roleArns: query.roles.flatMap(r => (r.arn ? [r.arn.toLowerCase()] : [])),
    roleNames: query.roles.flatMap(r => (r.name ? [r.name.toLowerCase()] : [])),
    allRoles: query.roles.length === 0,
    since: query.since?.getTime() ?? null,
    until: query.until?.getTime() ?? null,
    deniedMessagePattern: DENIED_MESSAGE_PATTERN,
    maxResources: MAX_RESOURCES,
    streamFromBytes: options.streamFromBytes ?? STREAM_FROM_BYTES
  }
}

/** A lazily loaded file: local files are read by the worker itself, S3 objects are fetched here first. */
interface Source {
  name: string
  load(): Promise<FileTask>
}

async function listSources(query: CloudTrailQuery, options: ScanOptions, notes: string[]): Promise<Source[]> {
  if (isS3Path(query.path)) {
    const location = parseS3Location(query.path)
    const client = options.s3Client ?? createTrailS3Client()
    let keys: string[]
    try {
      keys = await listS3LogKeys(client, location, {
        since: query.since,
        until: query.until ?? new Date(),
        regions: query.regions
      })
    } catch (error) {
      throw new Error(`cloudtrail-path: cannot list ${query.path}: ${(error as Error).message}`, {
        cause: error
      })
    }
    return keys.map(key => {
      const name = `s3://${location.bucket}/${key}`
      return {
        name,
        load: async () => ({ file: name, bytes: await readS3Object(client, location.bucket, key) })
      }
    })
  }
  const listing = await listLocalLogFiles(query.path)
  if (listing.skippedFolders.length > 0) {
    notes.push(`not read (digests or Insights events): ${listing.skippedFolders.join(', ')}`)
  }
  return listing.files.map(path => ({ name: path, load: async () => ({ file: path, path }) }))
}

function windowOf(query: CloudTrailQuery, aggregate: ScanAggregate): TimeWindow {
  // The window is what the records cover, never more: a query that asks for 90 days of a trail holding 10 must not
  // claim 90 days of observation.
  const start = aggregate.minTime ?? query.since?.getTime() ?? query.until?.getTime() ?? 0
  const end = aggregate.maxTime ?? start
  return { start: new Date(start).toISOString(), end: new Date(end).toISOString() }
}

/**
 * Reads a trail (a folder or an S3 prefix) and returns what each selected role did: authorized calls mapped to
 * catalog actions with the resources they named, and the evidence behind it (denied, permissionless and
 * unmapped calls; files skipped). Files are reduced in parallel on worker threads; memory grows with distinct
 * (role, event, outcome, resource) and not with events.
 */
export async function scanCloudTrail(
  query: CloudTrailQuery,
  options: ScanOptions = {}
): Promise<CloudTrailScan> {
  validated(query)
  const progress = options.onProgress ?? (() => {})
  const notes: string[] = []
  const sources = await listSources(query, options, notes)
  progress(`cloudtrail: ${sources.length} log files to read from ${query.path}`)

  const threads = Math.max(0, Math.min(query.workers ?? availableParallelism(), sources.length))
  const pool = new ReducerPool(reducerConfig(query, options), threads)
  const threadsUsed = pool.threads
  const aggregate = new ScanAggregate(MAX_RESOURCES)
  const skipped: SkippedFile[] = []
  let read = 0
  try {
    // Two files in flight per thread: one being reduced, the next being fetched or queued.
    const lanes = Math.max(1, pool.threads * 2)
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < sources.length) {
        const source = sources[next++]
        let task: FileTask
        try {
          task = await source.load()
        } catch (error) {
          skipped.push({ file: source.name, reason: `unreadable: ${(error as Error).message}` })
          continue
        }
        const outcome = await pool.reduce(task)
        if (isFailedFile(outcome)) {
          skipped.push({ file: outcome.file, reason: outcome.error })
        } else {
          aggregate.add(outcome)
          read++
        }
        const done = read + skipped.length
        if (done % 1000 === 0)
          progress(`cloudtrail: ${done}/${sources.length} files, ${aggregate.events} events`)
      }
    }
    await Promise.all(Array.from({ length: lanes }, lane))
  } finally {
    await pool.close()
  }
  if (pool.threadNote) notes.push(pool.threadNote)
  if (aggregate.badLines > 0)
    notes.push(`${aggregate.badLines} lines of JSON-lines files did not parse and were skipped`)
  if (aggregate.undated > 0) notes.push(`${aggregate.undated} events had no readable time`)
  if (aggregate.notEvents > 0) notes.push(`${aggregate.notEvents} array items were not events`)
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1))
  progress(`cloudtrail: read ${read} files (${skipped.length} skipped), ${aggregate.events} events`)

  const catalog = options.catalog ?? loadCatalog()
  const window = windowOf(query, aggregate)
  const context = {
    window,
    filesRead: read,
    filesSkipped: skipped,
    maxResources: MAX_RESOURCES,
    managementEventsSeen: [...aggregate.managementSeen].sort(),
    notes
  }
  const byRole = aggregate.byRole()
  const roles = new Map<string, RoleUsage>()
  for (const [arn, entries] of byRole) roles.set(arn, buildRoleUsage(arn, entries, catalog, context))
  // A role asked for by ARN that did nothing is still reported: zero events is evidence too.
  for (const role of query.roles) {
    if (!role.arn) continue
    const seen = [...roles.keys()].some(arn => arn.toLowerCase() === role.arn!.toLowerCase())
    if (!seen) roles.set(role.arn, buildRoleUsage(role.arn, [], catalog, context))
  }
  for (const role of query.roles) {
    if (
      role.name &&
      ![...roles.keys()].some(arn => arn.toLowerCase().endsWith(`/${role.name!.toLowerCase()}`))
    ) {
      notes.push(`role ${role.name}: no events in the window`)
    }
  }

  return {
    window,
    filesRead: read,
    filesSkipped: skipped,
    eventsRead: aggregate.events,
    roles,
    rolesSeen: aggregate.roles(),
    threads: threadsUsed,
    notes
  }
}
