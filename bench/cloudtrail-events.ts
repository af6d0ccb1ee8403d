/**
 * CloudTrail engine at event scale: `npx tsx bench/cloudtrail-events.ts [--5m] [--rounds N] [--tools ours,floor]`.
 *
 * Builds (once, in the git-ignored .bench-data/) gzipped CloudTrail files from the real records of
 * examples/data/cloudtrail: 1M events of one account and Region, 1M events in the organization-trail layout
 * (20 accounts x 3 Regions, account IDs rewritten), and with --5m 5M events of one account. Each record keeps its
 * shape; S3 object keys get a per-event suffix so resource lists fill up as they would in a busy account.
 * Then measures, each in a fresh child process so peak RSS is its own, alternating the three ROUNDS times:
 *   - floor: gunzip + JSON.parse of the same files on every core (worker threads, nothing else);
 *   - ours: scanCloudTrail over the folder, every role, mapped to actions;
 *   - duckdb: DuckDB (@duckdb/node-api) reading the same gzip files and grouping by role, source, name and error.
 * Prints events/s (best round), peak RSS (largest round) and ours/floor, duckdb/floor.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { Worker } from 'node:worker_threads'
import { gzipSync } from 'node:zlib'
import { pathToFileURL } from 'node:url'

const RECORDS_PER_FILE = 500
const ROOT = path.resolve(process.env.BENCH_DATA_DIR ?? path.join('.bench-data', 'cloudtrail-events'))
const ORGANIZATION = 'o-benchorg001'

interface Dataset {
  name: string
  events: number
  accounts: number
  regions: string[]
}

export const DATASETS: Dataset[] = [
  { name: 'single-1m', events: 1_000_000, accounts: 1, regions: ['us-east-1'] },
  {
    name: 'organization-1m',
    events: 1_000_000,
    accounts: 20,
    regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2']
  },
  { name: 'single-5m', events: 5_000_000, accounts: 1, regions: ['us-east-1'] }
]

type JsonRecord = Record<string, unknown>

function realRecords(): string[] {
  const out: string[] = []
  const dir = path.join('examples', 'data', 'cloudtrail')
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue
    const parsed = JSON.parse(readFileSync(path.join(entry.parentPath, entry.name), 'utf8')) as
      JsonRecord[] | { Records: JsonRecord[] }
    for (const r of Array.isArray(parsed) ? parsed : parsed.Records) out.push(JSON.stringify(r))
  }
  return out
}

function accountId(i: number): string {
  return String(210000000000 + i * 7919)
}

/** One record of account `account`, the n-th event of the dataset. */
function record(template: string, account: string, n: number, time: number): string {
  const r = JSON.parse(
    template.replace(/(arn:aws:[a-z0-9-]*:[a-z0-9-]*:)\d{12}/g, `$1${account}`)
  ) as JsonRecord
  r.eventTime = new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z')
  r.recipientAccountId = account
  const rp = r.requestParameters as JsonRecord | null | undefined
  if (rp && typeof rp.key === 'string') rp.key = `${rp.key}-${n % 4000}`
  return JSON.stringify(r)
}

export function build(set: Dataset): string {
  const dir = path.join(ROOT, set.name)
  if (existsSync(path.join(dir, 'COMPLETE'))) return dir
  rmSync(dir, { recursive: true, force: true })
  const templates = realRecords()
  const start = Date.UTC(2026, 9, 1)
  const lanes = set.accounts * set.regions.length
  const files = Math.ceil(set.events / RECORDS_PER_FILE)
  let n = 0
  for (let f = 0; f < files; f++) {
    const lane = f % lanes
    const account = accountId(Math.floor(lane / set.regions.length))
    const region = set.regions[lane % set.regions.length] ?? 'us-east-1'
    const time = start + Math.floor((f / files) * 28 * 86_400_000)
    const day = new Date(time).toISOString().slice(0, 10).split('-')
    const base = set.accounts > 1 ? ['AWSLogs', ORGANIZATION, account] : ['AWSLogs', account]
    const folder = path.join(dir, ...base, 'CloudTrail', region, ...day)
    mkdirSync(folder, { recursive: true })
    const records: string[] = []
    for (let i = 0; i < RECORDS_PER_FILE && n < set.events; i++, n++)
      records.push(record(templates[n % templates.length] ?? '{}', account, n, time + i * 1000))
    const name = `${account}_CloudTrail_${region}_${day.join('')}T0000Z_${String(f).padStart(7, '0')}.json.gz`
    writeFileSync(path.join(folder, name), gzipSync(`{"Records":[${records.join(',')}]}`))
  }
  writeFileSync(path.join(dir, 'COMPLETE'), `${n}\n`)
  return dir
}

function logFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith('.json.gz'))
    .map(e => path.join(e.parentPath, e.name))
    .sort()
}

interface Measured {
  events: number
  seconds: number
  rssMB: number
  detail?: string
}

const FLOOR_WORKER = `
const { parentPort, workerData } = require('node:worker_threads')
const { readFileSync } = require('node:fs')
const { gunzipSync } = require('node:zlib')
let events = 0
for (const f of workerData) events += JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')).Records.length
parentPort.postMessage(events)
`

async function floor(dir: string): Promise<Omit<Measured, 'rssMB'>> {
  const files = logFiles(dir)
  const cores = availableParallelism()
  const start = performance.now()
  const counts = await Promise.all(
    Array.from(
      { length: cores },
      (_, i) =>
        new Promise<number>((resolve, reject) => {
          const worker = new Worker(FLOOR_WORKER, {
            eval: true,
            workerData: files.filter((_, j) => j % cores === i)
          })
          worker.once('message', resolve)
          worker.once('error', reject)
        })
    )
  )
  return { events: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - start) / 1000 }
}

async function ours(dir: string): Promise<Omit<Measured, 'rssMB'>> {
  const { scanCloudTrail } = await import('../src/usage/cloudtrail/scan.js')
  const start = performance.now()
  const scan = await scanCloudTrail({ path: dir })
  return {
    events: scan.eventsRead,
    seconds: (performance.now() - start) / 1000,
    detail: `${scan.threads} threads, ${scan.roles.size} roles`
  }
}

const DUCKDB_RECORD =
  'STRUCT("eventSource" VARCHAR, "eventName" VARCHAR, "errorCode" VARCHAR, "eventTime" VARCHAR, ' +
  '"userIdentity" STRUCT("type" VARCHAR, "arn" VARCHAR, "sessionContext" STRUCT("sessionIssuer" STRUCT("arn" VARCHAR))))'

async function duckdb(dir: string): Promise<Omit<Measured, 'rssMB'>> {
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const instance = await DuckDBInstance.create(':memory:')
  const connection = await instance.connect()
  const glob = path.join(dir, '**', '*.json.gz').replaceAll("'", "''")
  const start = performance.now()
  const reader = await connection.runAndReadAll(
    `SELECT sum(n)::BIGINT AS events, count(*)::BIGINT AS groups FROM (
       SELECT r.userIdentity.sessionContext.sessionIssuer.arn AS role, r.eventSource, r.eventName, r.errorCode,
              count(*) AS n
       FROM (SELECT unnest(Records) AS r FROM read_json('${glob}', format = 'unstructured',
             columns = {Records: '${DUCKDB_RECORD}[]'}))
       GROUP BY ALL)`
  )
  const [row] = reader.getRows()
  return {
    events: Number(row?.[0] ?? 0),
    seconds: (performance.now() - start) / 1000,
    detail: `${Number(row?.[1] ?? 0)} groups`
  }
}

const TOOLS = { floor, ours, duckdb }
type Tool = keyof typeof TOOLS

function runChild(tool: Tool, dir: string): Measured | string {
  const args = [...process.execArgv, process.argv[1] ?? '', '--measure', tool, dir]
  const child = spawnSync(process.execPath, args, { encoding: 'utf8' })
  const line = child.stdout.trim().split('\n').pop() ?? ''
  if (child.status !== 0 || !line.startsWith('{'))
    return `failed: ${(child.stderr || line).trim().split('\n')[0]}`
  return JSON.parse(line) as Measured
}

const rate = (m: Measured) => Math.round(m.events / m.seconds)
const fmt = (n: number) => n.toLocaleString('en-US')

function report(runs: Partial<Record<Tool, (Measured | string)[]>>): void {
  const best: Partial<Record<Tool, Measured>> = {}
  for (const [tool, all] of Object.entries(runs) as [Tool, (Measured | string)[]][]) {
    const ok = all.filter((r): r is Measured => typeof r !== 'string')
    if (ok.length === 0) {
      console.log(`  ${tool.padEnd(6)} ${all.filter(r => typeof r === 'string').join('; ')}`)
      continue
    }
    const fastest = ok.reduce((a, b) => (b.seconds < a.seconds ? b : a))
    const rss = Math.max(...ok.map(r => r.rssMB))
    best[tool] = { ...fastest, rssMB: rss }
    console.log(
      `  ${tool.padEnd(6)} ${fmt(rate(fastest)).padStart(9)} events/s  peak RSS ${String(Math.round(rss)).padStart(4)} MB` +
        `  (${ok.map(r => r.seconds.toFixed(2)).join(', ')} s${fastest.detail ? `; ${fastest.detail}` : ''})`
    )
  }
  const base = best.floor
  if (!base) return
  for (const tool of ['ours', 'duckdb'] as const) {
    const m = best[tool]
    if (m) console.log(`  ${tool}/floor: ${(rate(m) / rate(base)).toFixed(2)}`)
    if (m && m.events !== base.events)
      console.log(`  WARNING: ${tool} read ${m.events} events, floor ${base.events}`)
  }
}

async function main(): Promise<void> {
  const measure = process.argv.indexOf('--measure')
  if (measure >= 0) {
    const tool = process.argv[measure + 1] as Tool
    const result = await TOOLS[tool](process.argv[measure + 2] ?? '')
    console.log(JSON.stringify({ ...result, rssMB: process.resourceUsage().maxRSS / 1024 }))
    return
  }
  const roundsAt = process.argv.indexOf('--rounds')
  const rounds = roundsAt >= 0 ? Number(process.argv[roundsAt + 1]) : 3
  const sets = DATASETS.filter(s => s.events < 5_000_000 || process.argv.includes('--5m'))
  const toolsAt = process.argv.indexOf('--tools')
  const tools = (toolsAt >= 0 ? (process.argv[toolsAt + 1] ?? '').split(',') : Object.keys(TOOLS)).filter(
    (t): t is Tool => t in TOOLS
  )
  console.log(`cores: ${availableParallelism()}, node ${process.version}`)
  for (const set of sets) {
    const dir = build(set)
    console.log(
      `${set.name}: ${fmt(set.events)} events, ${set.accounts} account(s) x ${set.regions.length} Region(s)`
    )
    const runs: Partial<Record<Tool, (Measured | string)[]>> = {}
    for (let i = 0; i < rounds; i++) for (const tool of tools) (runs[tool] ??= []).push(runChild(tool, dir))
    report(runs)
  }
}

// Run as a script; imported (bench/athena-aggregate.ts), it only lends its data generator.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main()
