/**
 * The reducer: turns log files into a tally. It decompresses (gzip by magic bytes), parses the three shapes real
 * exports come in, applies the time window, and counts calls per entry (see tally.ts) with the resource ARNs seen.
 * It maps nothing to IAM actions: that needs the catalog and happens once, on the merged tally.
 *
 * This module runs in worker threads from generated source text (scripts/build-worker-source.mjs), so it may
 * import only node: builtins and the modules that script bundles with it.
 */
import { createReadStream, readFileSync, statSync } from 'node:fs'
import type { ReadStream } from 'node:fs'
import { createGunzip, gunzipSync } from 'node:zlib'
import type { Gunzip } from 'node:zlib'
import { errorMessage } from '../../error-message.js'
import { Tally, addResource, countCall } from './tally.js'
import type { ReducedTally, TalliedEntry } from './tally.js'

/** What the reducer needs to know; plain data so it can cross into a worker. */
export interface ReducerConfig {
  /** Epoch milliseconds, inclusive; null = open. */
  since: number | null
  until: number | null
  /** Case-insensitive regular expression source: an error message that says the caller was not authorized. */
  deniedMessagePattern: string
  /** Distinct resources kept per entry before it collapses to "too many". */
  maxResources: number
  /** Local files larger than this (bytes on disk) are streamed: JSON lines then need memory for one line only. */
  streamFromBytes: number
  /** Lines of JSON-lines files longer than this (characters) are skipped and counted. */
  maxLineLength: number
  /** The most a file may hold (inflated) when it has to be parsed whole; past it the file is skipped. */
  maxWholeBytes: number
  /** Gzip that inflates to more than this many times its compressed size is a bomb: the file is skipped... */
  maxInflateRatio: number
  /** ...once it has inflated past this many bytes (small files may compress better than any real log). */
  inflateRatioFloorBytes: number
  /** A thread sends its tally early, with a file's answer, once it holds more than this (see Tally.held). */
  flushTallyAt: number
}

/** One log file to reduce: a local path (read where it is reduced) or bytes already fetched (S3). */
export interface FileTask {
  file: string
  path?: string
  bytes?: Uint8Array
}

interface FileRead {
  file: string
  events: number
  /** The thread's tally of this file and the ones before, when it grew past flushTallyAt. */
  tally?: ReducedTally
}

interface FailedFile {
  file: string
  error: string
}

export type FileOutcome = FileRead | FailedFile

export function isFailedFile(outcome: FileOutcome): outcome is FailedFile {
  return 'error' in outcome
}

/** Messages to a worker: a file to reduce (answered with its FileOutcome), or a request for the tally so far. */
export type WorkerRequest = { task: FileTask } | { collect: true }
export type WorkerReply = FileOutcome | { tally: ReducedTally }

type JsonObject = Record<string, unknown>

const MIB = 1024 * 1024

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === 'object'
}

function mib(bytes: number): string {
  return bytes >= MIB ? `${Math.round(bytes / MIB)} MiB` : `${Math.ceil(bytes / 1024)} KiB`
}

function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b
}

// A file that inflates past this many bytes is a decompression bomb (or too large to hold whole): it is skipped.
function inflateCap(compressed: number, config: ReducerConfig): number {
  return Math.max(config.inflateRatioFloorBytes, config.maxInflateRatio * compressed)
}

function bombError(inflated: number, compressed: number, config: ReducerConfig): Error {
  return new Error(
    `skipped: inflates past ${mib(inflated)} from ${mib(compressed)} (more than ${config.maxInflateRatio}` +
      ` times its compressed size, or past ${mib(config.maxWholeBytes)} held whole); a CloudTrail log file never does`
  )
}

function decode(bytes: Buffer, config: ReducerConfig): string {
  if (isGzip(bytes)) {
    const cap = Math.min(config.maxWholeBytes, inflateCap(bytes.length, config))
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: cap })
    } catch (e) {
      if (isObject(e) && e.code === 'ERR_BUFFER_TOO_LARGE') throw bombError(cap, bytes.length, config)
      throw new Error(`corrupt gzip: ${errorMessage(e)}`)
    }
  } else if (bytes.length > config.maxWholeBytes) {
    throw new Error(`skipped: larger than ${mib(config.maxWholeBytes)}, too large to parse whole`)
  }
  const text = bytes.toString('utf8')
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
}

function firstChar(text: string): string {
  const m = /\S/.exec(text.length > 4096 ? text.slice(0, 4096) : text)
  return m ? m[0] : ''
}

function batchOrRecord(v: unknown): unknown[] {
  return isObject(v) && Array.isArray(v.Records) ? v.Records : [v]
}

const LONG = Symbol('long')
const BAD = Symbol('bad')
const BLANK = Symbol('blank')

/** One line of a JSON-lines file: its records, or why it has none. */
function parseLine(line: string, config: ReducerConfig): unknown[] | typeof LONG | typeof BAD | typeof BLANK {
  if (line.length > config.maxLineLength) return LONG
  if (!/\S/.test(line)) return BLANK
  try {
    return batchOrRecord(JSON.parse(line))
  } catch {
    return BAD
  }
}

interface Parsed {
  records: unknown[]
  badLines: number
  longLines: number
}

// Shapes: {"Records":[...]}, a JSON array, one JSON object per line (a line may itself be a {"Records":[...]}
// batch, as some shippers write).
function parseRecords(text: string, config: ReducerConfig): Parsed {
  const c = firstChar(text)
  if (c === '') return { records: [], badLines: 0, longLines: 0 }
  if (c === '[') {
    let arr: unknown
    try {
      arr = JSON.parse(text)
    } catch (e) {
      throw new Error(`invalid JSON: ${errorMessage(e)}`)
    }
    if (!Array.isArray(arr)) throw new Error('invalid JSON: not an array of events')
    return { records: arr, badLines: 0, longLines: 0 }
  }
  if (c !== '{') throw new Error(`not CloudTrail JSON: starts with ${JSON.stringify(c)}`)
  let whole: unknown
  let wholeError: unknown
  try {
    whole = JSON.parse(text)
  } catch (e) {
    wholeError = e
  }
  if (isObject(whole)) {
    if (Array.isArray(whole.Records)) return { records: whole.Records, badLines: 0, longLines: 0 }
    if (whole.Records !== undefined) throw new Error('not CloudTrail JSON: "Records" is not an array')
    return { records: [whole], badLines: 0, longLines: 0 }
  }
  const records: unknown[] = []
  let bad = 0
  let long = 0
  let good = 0
  for (const line of text.split('\n')) {
    const parsed = parseLine(line, config)
    if (parsed === LONG) long++
    else if (parsed === BAD) bad++
    else if (parsed !== BLANK) {
      good++
      for (const r of parsed) records.push(r)
    }
  }
  if (good === 0 && long === 0) throw new Error(`invalid JSON: ${errorMessage(wholeError)}`)
  return { records, badLines: bad, longLines: long }
}

// Log shippers wrap or rename fields: EventBridge puts the event under "detail"; Elastic-style exports
// carry "@timestamp" instead of "eventTime".
function unwrap(r: unknown): unknown {
  if (isObject(r) && isObject(r.detail) && r.detail.eventSource) return r.detail
  return r
}

function inDateRange(ms: number): number {
  return ms >= -8.64e15 && ms <= 8.64e15 ? ms : NaN
}

function timeOf(r: JsonObject): number {
  let t = r.eventTime
  if (t === undefined || t === null) t = r['@timestamp']
  if (t === undefined || t === null) t = r.timestamp
  // Shippers write epoch numbers in seconds or in milliseconds; seconds stay below 1e11 until the year 5138.
  // A number past what a Date can hold (8.64e15 ms either side of 1970) is no time at all.
  if (typeof t === 'number') return inDateRange(t < 1e11 ? t * 1000 : t)
  if (typeof t !== 'string') return NaN
  return Date.parse(t)
}

const ASSUMED_ROLE = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//
const IAM_USER = /^arn:[^:]+:iam::\d{12}:user\//

/** The ARN of the role or IAM user behind a record, or undefined for any other principal. */
function roleOf(r: JsonObject): string | undefined {
  const ui = r.userIdentity
  if (!isObject(ui)) return undefined
  // An IAM user's own credentials: its ARN, path included, is the principal (a federated or assumed session is not).
  if (ui.type === 'IAMUser') return typeof ui.arn === 'string' && IAM_USER.test(ui.arn) ? ui.arn : undefined
  const si = isObject(ui.sessionContext) ? ui.sessionContext.sessionIssuer : undefined
  if (isObject(si) && typeof si.arn === 'string') return si.arn.includes(':role/') ? si.arn : undefined
  // Some records of an assumed role carry no session issuer: the session ARN still names the role and its
  // account (role names are unique per account; the path is resolved against the other records later).
  if (ui.type !== 'AssumedRole' || typeof ui.arn !== 'string') return undefined
  const m = ASSUMED_ROLE.exec(ui.arn)
  if (!m) return undefined
  return `arn:${m[1] ?? 'aws'}:iam::${m[2] ?? ''}:role/${m[3] ?? ''}`
}

function isDataEvent(r: JsonObject): boolean {
  return r.eventCategory === 'Data' || r.managementEvent === false
}

const NAMED_ACTION = /perform:\s*([a-z0-9-]+):/i

/** A field as text; a value of another type (hostile or broken input) is no text rather than a crash. */
function textOf(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : ''
}

/** Reduces records into a tally; `deniedMessage` is the compiled DENIED_MESSAGE_PATTERN. */
function reduceRecords(records: unknown[], config: ReducerConfig, deniedMessage: RegExp, tally: Tally): void {
  for (const record of records) {
    const r = unwrap(record)
    // Every CloudTrail event names its API call; anything else (another log format, a config file) is not one.
    if (!isObject(r) || typeof r.eventName !== 'string') {
      tally.notEvents++
      continue
    }
    tally.events++
    const time = timeOf(r)
    const outside = tally.noteTime(time, config.since, config.until)
    const dataEvent = isDataEvent(r)
    // What the trail logs, from every principal's records: management events of the sources a trail can exclude,
    // and of each read-only half.
    if (!dataEvent && r.eventType !== 'AwsServiceEvent') {
      if (r.eventSource === 'kms.amazonaws.com' || r.eventSource === 'rdsdata.amazonaws.com')
        tally.managementSeen.add(r.eventSource)
      if (r.readOnly === true) tally.managementSeen.add('read')
      else if (r.readOnly === false) tally.managementSeen.add('write')
    }
    const roleArn = roleOf(r)
    if (roleArn === undefined) continue
    // A role active only outside since/until is still a role of these records: it has no activity in the window.
    tally.rolesSeen.add(roleArn)
    if (outside) continue
    const errorCode = typeof r.errorCode === 'string' ? r.errorCode : ''
    const eventSource = textOf(r.eventSource)
    // A denial message that names another service's action (a Lambda Invoke failing on kms:Decrypt) means this
    // call itself was authorized.
    let deniedByMessage = false
    if (errorCode && typeof r.errorMessage === 'string' && deniedMessage.test(r.errorMessage)) {
      const named = NAMED_ACTION.exec(r.errorMessage)
      deniedByMessage = !named || named[1]?.toLowerCase() === eventSource.split('.')[0]?.toLowerCase()
    }
    const entry = tally.entry({
      roleArn,
      eventSource,
      eventName: r.eventName,
      eventType: textOf(r.eventType),
      errorCode,
      deniedByMessage,
      dataEvent
    })
    countCall(entry, time)
    if (!addResources(r, roleArn, entry, tally.maxResources)) entry.unknownResource = true
  }
}

/** Adds the resources a record names to its entry; false when it names none. */
function addResources(r: JsonObject, roleArn: string, entry: TalliedEntry, maxResources: number): boolean {
  let found = false
  const list = r.resources
  if (Array.isArray(list)) {
    for (const res of list) {
      const arn = isObject(res) ? res.ARN || res.arn : undefined
      if (typeof arn === 'string' && arn.startsWith('arn:')) {
        found = true
        addResource(entry, arn, maxResources)
      }
    }
  }
  // S3 names its bucket and key in the request; the ARN follows from them with certainty.
  const rp = r.requestParameters
  if (
    r.eventSource === 's3.amazonaws.com' &&
    isObject(rp) &&
    typeof rp.bucketName === 'string' &&
    rp.bucketName
  ) {
    const partition = roleArn.split(':')[1] || 'aws'
    const bucket = `arn:${partition}:s3:::${rp.bucketName}`
    found = true
    addResource(entry, typeof rp.key === 'string' && rp.key ? `${bucket}/${rp.key}` : bucket, maxResources)
  }
  return found
}

/** A file's own tally, unless none of its records was a CloudTrail event. */
function fileTally(tally: Tally): Tally {
  if (tally.events === 0 && tally.notEvents > 0) {
    throw new Error(
      `not CloudTrail JSON: none of its ${tally.notEvents} records has an "eventName" (no "Records" of CloudTrail events)`
    )
  }
  return tally
}

/**
 * Large files, anything that is not a regular file (a pipe given as cloudtrail-path) and gzip that may inflate past
 * maxWholeBytes are read as a stream, so a JSON-lines export of any size needs memory for one line at a time. Gzip
 * is found by its magic bytes in the first chunk. A file whose first line is not a whole JSON value
 * ({"Records":[...]} or an array spread over lines) has to be parsed whole, as small files are, up to maxWholeBytes.
 */
class StreamReader {
  readonly tally: Tally
  private mode: 'lines' | 'whole' | null = null
  private pending = ''
  private skippingLine = false
  private whole: string[] = []
  private wholeLength = 0
  private compressed = 0
  private inflated = 0
  private sniffed = false
  private gunzip: Gunzip | null = null
  private raw: ReadStream | null = null
  private readonly decoder = new TextDecoder('utf-8')
  private finished = false
  private resolve: (error: Error | null) => void = () => {}

  constructor(
    private readonly config: ReducerConfig,
    private readonly deniedMessage: RegExp
  ) {
    this.tally = new Tally(config.maxResources)
  }

  /** Resolves with null when the file was read, or with the reason it was not. */
  read(source: { path: string } | { bytes: Buffer }): Promise<Error | null> {
    return new Promise(resolve => {
      this.resolve = resolve
      const onData = this.guarded((chunk: Buffer) => this.onData(chunk))
      const onEnd = this.guarded(() => this.onEnd())
      // Bytes already in memory (a fetched object) are fed whole: only the inflated text is taken a line at a time.
      if ('bytes' in source) {
        void Promise.resolve().then(() => {
          onData(source.bytes)
          onEnd(undefined)
        })
        return
      }
      try {
        this.raw = createReadStream(source.path)
      } catch (e) {
        this.finish(toError(e))
        return
      }
      this.raw.on(
        'error',
        this.guarded((e: Error) => this.finish(e))
      )
      this.raw.on('data', (chunk: string | Buffer) => onData(Buffer.from(chunk)))
      this.raw.on('end', () => onEnd(undefined))
    })
  }

  private finish(error: Error | null): void {
    if (this.finished) return
    this.finished = true
    this.raw?.destroy()
    this.gunzip?.destroy()
    this.resolve(error)
  }

  private guarded<T>(fn: (arg: T) => void): (arg: T) => void {
    return arg => {
      if (this.finished) return
      try {
        fn(arg)
      } catch (e) {
        this.finish(toError(e))
      }
    }
  }

  private line(text: string): void {
    const parsed = parseLine(text, this.config)
    if (parsed === LONG) this.tally.longLines++
    else if (parsed === BAD) this.tally.badLines++
    else if (parsed !== BLANK) reduceRecords(parsed, this.config, this.deniedMessage, this.tally)
  }

  private keepWhole(text: string): void {
    this.mode = 'whole'
    this.wholeLength += text.length
    if (this.wholeLength > this.config.maxWholeBytes) {
      throw new Error(
        `skipped: larger than ${mib(this.config.maxWholeBytes)} and not one JSON object per line`
      )
    }
    this.whole.push(text)
  }

  private take(chunk: string): void {
    if (this.mode === 'whole') return this.keepWhole(chunk)
    let text = chunk
    if (this.skippingLine) {
      const end = text.indexOf('\n')
      if (end < 0) return
      this.skippingLine = false
      text = text.slice(end + 1)
    }
    this.pending += text
    if (this.mode === null) {
      const nl = this.pending.indexOf('\n')
      if (nl < 0 && this.pending.length <= this.config.maxLineLength) return
      let firstIsJson = false
      try {
        if (nl >= 0) {
          JSON.parse(this.pending.slice(0, nl))
          firstIsJson = true
        }
      } catch {
        firstIsJson = false
      }
      if (!firstIsJson) {
        const all = this.pending
        this.pending = ''
        return this.keepWhole(all)
      }
      this.mode = 'lines'
    }
    // Split only when a line ended: splitting a long line's growing text on every chunk took quadratic time.
    if (text.includes('\n')) {
      const lines = this.pending.split('\n')
      this.pending = lines.pop() ?? ''
      for (const line of lines) this.line(line)
    }
    if (this.pending.length > this.config.maxLineLength) {
      this.tally.longLines++
      this.pending = ''
      this.skippingLine = true
    }
  }

  private done(): void {
    this.take(this.decoder.decode())
    // One line and no line end: a {"Records":[...]} file on a single line, held whole like any other.
    if (this.mode === null) {
      const rest = this.pending
      this.pending = ''
      this.keepWhole(rest)
    }
    if (this.mode === 'whole') {
      const parsed = parseRecords(this.whole.join(''), this.config)
      this.whole = []
      this.tally.badLines += parsed.badLines
      this.tally.longLines += parsed.longLines
      reduceRecords(parsed.records, this.config, this.deniedMessage, this.tally)
    } else if (!this.skippingLine) {
      this.line(this.pending)
    }
    this.finish(null)
  }

  private onData(chunk: Buffer): void {
    this.compressed += chunk.length
    if (!this.sniffed) {
      this.sniffed = true
      if (isGzip(chunk)) {
        const gunzip = createGunzip()
        this.gunzip = gunzip
        gunzip.on(
          'error',
          this.guarded((e: Error) => {
            throw new Error(`corrupt gzip: ${e.message}`)
          })
        )
        gunzip.on(
          'data',
          this.guarded((out: Buffer) => {
            this.inflated += out.length
            if (this.inflated > inflateCap(this.compressed, this.config))
              throw bombError(this.inflated, this.compressed, this.config)
            this.take(this.decoder.decode(out, { stream: true }))
          })
        )
        gunzip.on(
          'end',
          this.guarded(() => this.done())
        )
      }
    }
    const gunzip = this.gunzip
    if (!gunzip) return this.take(this.decoder.decode(chunk, { stream: true }))
    const raw = this.raw
    if (!gunzip.write(chunk) && raw) {
      raw.pause()
      gunzip.once('drain', () => raw.resume())
    }
  }

  private onEnd(): void {
    if (this.gunzip) this.gunzip.end()
    else this.done()
  }
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e))
}

/**
 * Reduces files one at a time into one tally for its thread (the scan collects it once, at the end). A file that
 * cannot be read adds nothing: it is reduced into a tally of its own first, merged only when it was read whole.
 */
export class ThreadReducer {
  private tally: Tally
  private readonly deniedMessage: RegExp

  constructor(private readonly config: ReducerConfig) {
    this.tally = new Tally(config.maxResources)
    this.deniedMessage = new RegExp(config.deniedMessagePattern, 'i')
  }

  /** Always resolves: a file that cannot be read becomes a FailedFile. */
  async reduceFile(task: FileTask): Promise<FileOutcome> {
    try {
      const tally = fileTally(await this.read(task))
      this.tally.add(tally)
      const read = { file: task.file, events: tally.events }
      return this.tally.held > this.config.flushTallyAt
        ? { ...read, tally: this.collect().toReduced() }
        : read
    } catch (e) {
      return { file: task.file, error: errorMessage(e) }
    }
  }

  /** The tally of every file read since the last call. */
  collect(): Tally {
    const tally = this.tally
    this.tally = new Tally(this.config.maxResources)
    return tally
  }

  private async read(task: FileTask): Promise<Tally> {
    const config = this.config
    let bytes: Buffer
    if (task.bytes) {
      bytes = Buffer.from(task.bytes.buffer, task.bytes.byteOffset, task.bytes.byteLength)
    } else if (task.path !== undefined) {
      const info = statSync(task.path)
      if (!info.isFile() || info.size > config.streamFromBytes) return this.stream({ path: task.path })
      bytes = readFileSync(task.path)
    } else {
      throw new Error('nothing to read')
    }
    // Gzip that may inflate past what can be held whole (a compressed JSON-lines export) is inflated as a stream.
    if (isGzip(bytes) && bytes.length * config.maxInflateRatio > config.maxWholeBytes)
      return this.stream({ bytes })
    const parsed = parseRecords(decode(bytes, config), config)
    const tally = new Tally(config.maxResources)
    tally.badLines = parsed.badLines
    tally.longLines = parsed.longLines
    reduceRecords(parsed.records, config, this.deniedMessage, tally)
    return tally
  }

  private async stream(source: { path: string } | { bytes: Buffer }): Promise<Tally> {
    const reader = new StreamReader(this.config, this.deniedMessage)
    const error = await reader.read(source)
    if (error) throw error
    return reader.tally
  }
}
