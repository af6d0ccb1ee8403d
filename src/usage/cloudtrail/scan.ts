import { errorMessage } from '../../error-message.js'
import { availableParallelism } from 'node:os'
import type { S3Client } from '@aws-sdk/client-s3'
import type { RoleUsage, SkippedFile, TimeWindow } from '../../model.js'
import { loadCatalog } from '../../policy/catalog.js'
import type { Catalog } from '../../policy/catalog.js'
import { ScanAggregate } from './aggregate.js'
import { listLocalLogFiles } from './local-files.js'
import { DENIED_MESSAGE_PATTERN } from './map-event.js'
import { isFailedFile } from './reduce-file.js'
import type { FileTask, ReducerConfig } from './reduce-file.js'
import { ReducerPool } from './reducer.js'
import { buildRoleUsage } from './role-usage.js'
import { createTrailS3Client, isS3Path, listS3LogKeys, parseS3Location, readS3Object } from './s3-files.js'

interface CloudTrailQuery {
  /** A folder (read recursively) or `s3://bucket/prefix`. */
  path: string
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
  /** One entry per role ARN seen active in the window: source 'cloudtrail', complete, evidence filled. */
  roles: Map<string, RoleUsage>
  /** Every role ARN seen in the records, inside since/until or not (then with no activity). */
  rolesSeen: string[]
  /** Worker threads used (0 = main thread). */
  threads: number
  /** What a reader should know about the whole scan. */
  notes: string[]
}

interface ScanOptions {
  s3Client?: S3Client | undefined
  onProgress?: ((message: string) => void) | undefined
  catalog?: Catalog | undefined
  /** Local files larger than this many bytes are streamed (default 64 MiB). */
  streamFromBytes?: number | undefined
  /** Caps on hostile input; the defaults are READ_LIMITS. */
  limits?: Partial<ReadLimits> | undefined
  /** A worker thread sends what it counted once, at the end, unless it holds more than this (default 200,000). */
  flushTallyAt?: number | undefined
  /** Aborting stops the scan: it rejects at once, without waiting for a read that may never end. */
  signal?: AbortSignal | undefined
}

/** Caps that keep a hostile or broken file from taking unbounded memory or time; what passes one is skipped. */
interface ReadLimits {
  /** Characters in one line of a JSON-lines file (CloudTrail events are at most a few hundred KB). */
  maxLineLength: number
  /** Bytes of a file that has to be parsed whole (inflated). */
  maxWholeBytes: number
  /** Inflated size over compressed size of gzip (CloudTrail logs inflate about 10 to 30 times)... */
  maxInflateRatio: number
  /** ...checked once this many bytes are inflated. */
  inflateRatioFloorBytes: number
}

const READ_LIMITS: ReadLimits = {
  maxLineLength: 16 * 1024 * 1024,
  maxWholeBytes: 256 * 1024 * 1024,
  maxInflateRatio: 200,
  inflateRatioFloorBytes: 16 * 1024 * 1024
}

/** Distinct resource ARNs kept per role and action before they are reported as `*`. */
const MAX_RESOURCES = 1000

/**
 * Entries and resources a worker holds before it sends its tally early: about 20 MB each, so a scan's memory stays
 * bounded by the merged result (which grows with roles x actions, never with events) and not by that times threads.
 */
const FLUSH_TALLY_AT = 200_000

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
}

function reducerConfig(query: CloudTrailQuery, options: ScanOptions): ReducerConfig {
  return {
    since: query.since?.getTime() ?? null,
    until: query.until?.getTime() ?? null,
    deniedMessagePattern: DENIED_MESSAGE_PATTERN,
    maxResources: MAX_RESOURCES,
    streamFromBytes: options.streamFromBytes ?? STREAM_FROM_BYTES,
    flushTallyAt: options.flushTallyAt ?? FLUSH_TALLY_AT,
    ...READ_LIMITS,
    ...options.limits
  }
}

/** A lazily loaded file: local files are read by the worker itself, S3 objects are fetched here first. */
interface Source {
  name: string
  load(): Promise<FileTask>
}

async function listSources(
  query: CloudTrailQuery,
  options: ScanOptions,
  notes: string[],
  skipped: SkippedFile[]
): Promise<Source[]> {
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
      throw new Error(`cloudtrail-path: cannot list ${query.path}: ${errorMessage(error)}`, {
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
  skipped.push(...listing.skippedEntries)
  return listing.files.map(path => ({ name: path, load: () => Promise.resolve({ file: path, path }) }))
}

function windowOf(aggregate: ScanAggregate): TimeWindow {
  // The window is what the records cover, never more: a query that asks for 90 days of a trail holding 10 must not
  // claim 90 days of observation. No record in the window: no window at all (empty strings, as for a failed role).
  if (aggregate.minTime === null || aggregate.maxTime === null) return { start: '', end: '' }
  return { start: new Date(aggregate.minTime).toISOString(), end: new Date(aggregate.maxTime).toISOString() }
}

/** What since/until did to the window, when they reach past the records. */
function windowNotes(query: CloudTrailQuery, aggregate: ScanAggregate): string[] {
  const { firstTime, lastTime } = aggregate
  if (firstTime === null || lastTime === null) return []
  const iso = (t: number) => new Date(t).toISOString()
  const span = `the records span ${iso(firstTime)} to ${iso(lastTime)}`
  const notes: string[] = []
  const since = query.since?.getTime()
  const until = query.until?.getTime()
  if (since !== undefined && since > lastTime)
    notes.push(`since ${iso(since)} is after the last record: no record is in the window (${span})`)
  else if (until !== undefined && until < firstTime)
    notes.push(`until ${iso(until)} is before the first record: no record is in the window (${span})`)
  else {
    if (since !== undefined && since < firstTime)
      notes.push(`since ${iso(since)} is before the first record: the window starts at ${iso(firstTime)}`)
    if (until !== undefined && until > lastTime)
      notes.push(`until ${iso(until)} is after the last record: the window ends at ${iso(lastTime)}`)
  }
  return notes
}

function sizeText(bytes: number): string {
  return bytes >= 1048576 ? `${Math.round(bytes / 1048576)} MiB` : `${Math.ceil(bytes / 1024)} KiB`
}

function cancelled(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return
    const fail = () => reject(new Error('cloudtrail: reading the log files was cancelled'))
    if (signal.aborted) fail()
    else signal.addEventListener('abort', fail, { once: true })
  })
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
  const skipped: SkippedFile[] = []
  const sources = await listSources(query, options, notes, skipped)
  progress(`cloudtrail: ${sources.length} log files to read from ${query.path}`)

  const threads = Math.max(0, Math.min(query.workers ?? availableParallelism(), sources.length))
  const config = reducerConfig(query, options)
  const pool = new ReducerPool(config, threads)
  const threadsUsed = pool.threads
  const aggregate = new ScanAggregate(MAX_RESOURCES)
  const abort = cancelled(options.signal)
  abort.catch(() => undefined)
  let read = 0
  let events = 0
  try {
    // Two files in flight per thread: one being reduced, the next being fetched or queued.
    const lanes = Math.max(1, pool.threads * 2)
    let next = 0
    const lane = async (): Promise<void> => {
      while (next < sources.length && !options.signal?.aborted) {
        const source = sources[next++]
        if (!source) break
        let task: FileTask
        try {
          task = await Promise.race([source.load(), abort])
        } catch (error) {
          if (options.signal?.aborted) throw error
          skipped.push({ file: source.name, reason: `unreadable: ${errorMessage(error)}` })
          continue
        }
        const outcome = await Promise.race([pool.reduce(task), abort])
        if (isFailedFile(outcome)) {
          skipped.push({ file: outcome.file, reason: outcome.error })
        } else {
          events += outcome.events
          read++
          if (outcome.tally) aggregate.add(outcome.tally)
        }
        const done = read + skipped.length
        if (done % 1000 === 0) progress(`cloudtrail: ${done}/${sources.length} files, ${events} events`)
      }
    }
    await Promise.race([Promise.all(Array.from({ length: lanes }, lane)), abort])
    // Each thread sends what it counted once, now: per-file answers carry no entries.
    await Promise.race([pool.collectInto(aggregate), abort])
    for (const file of pool.lost) skipped.push({ file, reason: 'worker failed before sending what it read' })
    read -= pool.lost.length
  } finally {
    // A worker stuck in a read (a pipe nobody writes to) may never stop: a cancelled scan does not wait for it.
    if (options.signal?.aborted) void pool.close()
    else await pool.close()
  }
  if (pool.threadNote) notes.push(pool.threadNote)
  if (aggregate.badLines > 0)
    notes.push(`${aggregate.badLines} lines of JSON-lines files did not parse and were skipped`)
  if (aggregate.undated > 0) notes.push(`${aggregate.undated} events had no readable time`)
  if (aggregate.longLines > 0)
    notes.push(
      `${aggregate.longLines} lines of JSON-lines files were longer than ${sizeText(config.maxLineLength)} and were skipped`
    )
  if (aggregate.notEvents > 0)
    notes.push(`${aggregate.notEvents} records were not CloudTrail events (no "eventName") and were skipped`)
  skipped.sort((a, b) => (a.file < b.file ? -1 : 1))
  progress(`cloudtrail: read ${read} files (${skipped.length} skipped), ${aggregate.events} events`)

  const catalog = options.catalog ?? loadCatalog()
  const window = windowOf(aggregate)
  notes.push(...windowNotes(query, aggregate))
  const context = {
    window,
    filesRead: read,
    filesSkipped: skipped,
    linesSkipped: aggregate.badLines + aggregate.longLines,
    maxResources: MAX_RESOURCES,
    managementEventsSeen: [...aggregate.managementSeen].sort(),
    notes
  }
  const byRole = aggregate.byRole()
  const roles = new Map<string, RoleUsage>()
  for (const [arn, entries] of byRole) roles.set(arn, buildRoleUsage(arn, entries, catalog, context))

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
