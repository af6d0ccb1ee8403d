import { errorMessage } from '../../error-message.js'
import fs from 'node:fs'
import zlib from 'node:zlib'
import { Worker } from 'node:worker_threads'
import { REDUCER_SOURCE, WORKER_SOURCE } from './reducer-source.js'

/** What the reducer filters on; plain data so it can cross into a worker. */
export interface ReducerConfig {
  /** Lower-cased role ARNs to keep. */
  roleArns: string[]
  /** Lower-cased role names to keep. */
  roleNames: string[]
  /** Keep every role (no selection given). */
  allRoles: boolean
  /** Epoch milliseconds, inclusive; null = open. */
  since: number | null
  until: number | null
  /** Case-insensitive regular expression source: an error message that says the caller was not authorized. */
  deniedMessagePattern: string
  /** Distinct resources kept per aggregate entry before it collapses to "too many". */
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
}

/** One log file to reduce: a local path (the worker reads it) or bytes already fetched (S3). */
export interface FileTask {
  file: string
  path?: string
  bytes?: Uint8Array
}

/** Calls that share role, source, name, outcome and category, with the resources they touched. */
export interface ReducedEntry {
  roleArn: string
  eventSource: string
  eventName: string
  eventType: string
  errorCode: string
  deniedByMessage: boolean
  dataEvent: boolean
  count: number
  resources: string[]
  /** At least one call named no resource. */
  unknownResource: boolean
  /** More distinct resources than `maxResources`: the list was dropped. */
  overflow: boolean
}

export interface ReducedFile {
  file: string
  events: number
  /** Array items that were not objects. */
  notEvents: number
  /** Events without a readable time. */
  undated: number
  /** JSON-lines files: lines that did not parse (the rest of the file was read). */
  badLines: number
  /** JSON-lines files: lines longer than maxLineLength, skipped. */
  longLines: number
  /** Span of the events kept (inside since/until). */
  minTime: number | null
  maxTime: number | null
  /** Span of every dated event in the file, inside the window or not. */
  firstTime: number | null
  lastTime: number | null
  rolesSeen: string[]
  /**
   * Management events seen from any principal: `kms.amazonaws.com` and `rdsdata.amazonaws.com` (the sources a trail can
   * exclude), `read` and `write` (a read-only or a write event).
   */
  managementSeen: string[]
  entries: ReducedEntry[]
}

export interface FailedFile {
  file: string
  error: string
}

export type FileOutcome = ReducedFile | FailedFile

export function isFailedFile(outcome: FileOutcome): outcome is FailedFile {
  return 'error' in outcome
}

interface Reducer {
  /** Always resolves: a file that cannot be read becomes a FailedFile. */
  reduceFile(task: FileTask, config: ReducerConfig): Promise<FileOutcome>
}

/**
 * A worker's young generation, in MB. Parsing churns short-lived objects; with V8's default the scavenger lets
 * each worker grow by about 100 MB of garbage. 8 MB keeps a worker near 50 MB at the same speed (measured in
 * bench/cloudtrail-throughput.ts). The old generation is left alone so one large file can still be read.
 */
const WORKER_YOUNG_GENERATION_MB = 8

type ReducerFactory = (zlibModule: typeof zlib, fsModule: typeof fs) => Reducer

function inThreadReducer(): Reducer {
  const factory = new Function(`return ${REDUCER_SOURCE}`)() as ReducerFactory
  return factory(zlib, fs)
}

/** One worker thread; tasks posted to it are answered in order. */
class ReducerWorker {
  private readonly worker: Worker
  private readonly pending: { resolve: (o: FileOutcome) => void; file: string }[] = []

  constructor(config: ReducerConfig, onCrash: (error: Error) => void) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: config,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }
    })
    this.worker.on('message', (outcome: FileOutcome) => this.pending.shift()?.resolve(outcome))
    this.worker.on('error', error => {
      for (const p of this.pending.splice(0))
        p.resolve({ file: p.file, error: `worker failed: ${error.message}` })
      onCrash(error)
    })
  }

  get queued(): number {
    return this.pending.length
  }

  reduce(task: FileTask): Promise<FileOutcome> {
    return new Promise(resolve => {
      this.pending.push({ resolve, file: task.file })
      const b = task.bytes
      // Only memory the task owns whole may be moved; a view into a shared pool is copied instead.
      const transfer =
        b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? [b.buffer as ArrayBuffer] : []
      this.worker.postMessage({ task }, transfer)
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }
}

/**
 * Reduces files on `threads` worker threads (0 = in this thread). When workers cannot start, files are reduced in
 * this thread. A worker that crashes (out of memory on a huge file) fails the files it held, which are reported
 * as skipped, and is not restarted: the others, or this thread when none is left, take the rest.
 */
export class ReducerPool {
  private readonly workers: ReducerWorker[] = []
  private local: Reducer | undefined
  private next = 0
  threadNote: string | undefined

  constructor(
    private readonly config: ReducerConfig,
    threads: number
  ) {
    try {
      for (let i = 0; i < threads; i++) this.workers.push(this.startWorker())
    } catch (error) {
      this.threadNote = `worker threads unavailable (${errorMessage(error)}); reading in the main thread`
      void this.closeWorkers()
    }
  }

  get threads(): number {
    return this.workers.length
  }

  reduce(task: FileTask): Promise<FileOutcome> {
    if (this.workers.length === 0) {
      this.local ??= inThreadReducer()
      return this.local.reduceFile(task, this.config)
    }
    // The least busy worker; ties go round-robin.
    let best = this.next % this.workers.length
    for (const [i, w] of this.workers.entries()) if (w.queued < this.workers[best].queued) best = i
    this.next++
    return this.workers[best].reduce(task)
  }

  async close(): Promise<void> {
    await this.closeWorkers()
  }

  private startWorker(): ReducerWorker {
    const worker: ReducerWorker = new ReducerWorker(this.config, error => {
      const i = this.workers.indexOf(worker)
      if (i < 0) return
      this.workers.splice(i, 1)
      this.threadNote = `a worker thread failed (${error.message}); the files it held are listed as skipped`
      void worker.terminate()
    })
    return worker
  }

  private async closeWorkers(): Promise<void> {
    await Promise.all(this.workers.splice(0).map(w => w.terminate()))
  }
}
