import { Worker } from 'node:worker_threads'
import { errorMessage } from '../../error-message.js'
import { ThreadReducer } from './reduce-file.js'
import type { FileOutcome, FileTask, ReducerConfig, WorkerReply, WorkerRequest } from './reduce-file.js'
import type { ReducedTally, Tally } from './tally.js'
import { WORKER_SOURCE } from './worker-source.generated.js'

/**
 * A worker's young generation, in MB. Parsing churns short-lived objects; with V8's default the scavenger lets
 * each worker grow by about 100 MB of garbage. 8 MB keeps a worker near 50 MB at the same speed (measured in
 * bench/cloudtrail-events.ts). The old generation is left alone so one large file can still be read.
 */
const WORKER_YOUNG_GENERATION_MB = 8

type Waiting =
  | { kind: 'file'; file: string; resolve: (o: FileOutcome) => void }
  | {
      kind: 'tally'
      resolve: (t: ReducedTally | undefined) => void
    }

/** One worker thread; requests posted to it are answered in order. */
class ReducerWorker {
  private readonly worker: Worker
  private readonly waiting: Waiting[] = []
  /** Files whose tally the worker holds but has not sent: lost if it crashes. */
  private unsent: string[] = []
  crashed = false

  constructor(config: ReducerConfig, onCrash: (error: Error, lost: string[]) => void) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: config,
      resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB }
    })
    this.worker.on('message', (reply: WorkerReply) => {
      const waiting = this.waiting.shift()
      if (waiting?.kind === 'file' && 'file' in reply) {
        if (!('error' in reply)) this.unsent.push(reply.file)
        if ('tally' in reply) this.unsent = []
        waiting.resolve(reply)
      } else if (waiting?.kind === 'tally' && 'tally' in reply && !('file' in reply)) {
        this.unsent = []
        waiting.resolve(reply.tally)
      }
    })
    this.worker.on('error', error => {
      this.crashed = true
      for (const w of this.waiting.splice(0)) {
        if (w.kind === 'file') w.resolve({ file: w.file, error: `worker failed: ${error.message}` })
        else w.resolve(undefined)
      }
      onCrash(error, this.unsent.splice(0))
    })
  }

  get queued(): number {
    return this.waiting.length
  }

  reduce(task: FileTask): Promise<FileOutcome> {
    return new Promise(resolve => {
      this.waiting.push({ kind: 'file', file: task.file, resolve })
      const b = task.bytes
      // Only memory the task owns whole may be moved; a view into a shared pool is copied instead.
      const transfer =
        b && b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? [b.buffer as ArrayBuffer] : []
      this.post({ task }, transfer)
    })
  }

  /** The worker's tally of every file it read; undefined when it crashed first. */
  collect(): Promise<ReducedTally | undefined> {
    if (this.crashed) return Promise.resolve(undefined)
    return new Promise(resolve => {
      this.waiting.push({ kind: 'tally', resolve })
      this.post({ collect: true }, [])
    })
  }

  terminate(): Promise<number> {
    return this.worker.terminate()
  }

  private post(request: WorkerRequest, transfer: ArrayBuffer[]): void {
    this.worker.postMessage(request, transfer)
  }
}

/**
 * Reduces files on `threads` worker threads (0 = in this thread). Each worker keeps its own tally and sends it once,
 * when collected. When workers cannot start, files are reduced in this thread. A worker that crashes (out of memory
 * on a huge file) loses the files it held, which are reported as skipped, and is not restarted: the others, or this
 * thread when none is left, take the rest.
 */
export class ReducerPool {
  private readonly workers: ReducerWorker[] = []
  private local: ThreadReducer | undefined
  private next = 0
  threadNote: string | undefined
  /** Files read by a worker that crashed before sending its tally. */
  readonly lost: string[] = []

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
    // The least busy worker; ties go round-robin.
    let best: ReducerWorker | undefined
    for (let i = 0; i < this.workers.length; i++) {
      const w = this.workers[(this.next + i) % this.workers.length]
      if (w && (!best || w.queued < best.queued)) best = w
    }
    this.next++
    if (best) return best.reduce(task)
    this.local ??= new ThreadReducer(this.config)
    return this.local.reduceFile(task)
  }

  /** Merges every thread's tally into `into`: call once, after every reduce() has answered. */
  async collectInto(into: Tally): Promise<void> {
    if (this.local) into.add(this.local.collect())
    // One thread at a time: only one tally is ever in flight, copied and merged.
    for (const worker of [...this.workers]) {
      const part = await worker.collect()
      if (part) into.add(part)
    }
  }

  async close(): Promise<void> {
    await this.closeWorkers()
  }

  private startWorker(): ReducerWorker {
    const worker: ReducerWorker = new ReducerWorker(this.config, (error, lost) => {
      this.lost.push(...lost)
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
