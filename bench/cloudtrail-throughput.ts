/**
 * CloudTrail engine throughput: `npx tsx bench/cloudtrail-throughput.ts [events]`.
 *
 * Builds (once, in the git-ignored .bench-data/) at least 1,000,000 events by replicating the real records of
 * examples/data/cloudtrail into gzipped files in the S3 layout, then measures in one run:
 *   - ours: scanCloudTrail over the folder (worker threads, every role);
 *   - floor: gunzip + JSON.parse of the same files, single-threaded, in this process;
 * alternating the two three times (best of each), and prints both rates, their ratio and the peak RSS of the
 * process. The measuring runs in a fresh child process (same runtime flags), so building the dataset does not
 * count toward the peak RSS.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { availableParallelism } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { gunzipSync, gzipSync } from 'node:zlib'
import { scanCloudTrail } from '../src/usage/cloudtrail/scan.js'

const TARGET_EVENTS = Number(process.argv.slice(2).find(a => /^\d+$/.test(a)) ?? 1_000_000)
const EVENTS_PER_FILE = 1_000
const ROOT = path.join('.bench-data', 'cloudtrail')
const DATASET = path.join(ROOT, `events-${TARGET_EVENTS}`)

function realRecords(): unknown[] {
  const out: unknown[] = []
  const dir = path.join('examples', 'data', 'cloudtrail')
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.json')) continue
    const parsed = JSON.parse(readFileSync(path.join(entry.parentPath, entry.name), 'utf8')) as
      unknown[] | { Records: unknown[] }
    out.push(...(Array.isArray(parsed) ? parsed : parsed.Records))
  }
  return out
}

function build(): void {
  if (existsSync(path.join(DATASET, 'COMPLETE'))) return
  rmSync(DATASET, { recursive: true, force: true })
  const records = realRecords()
  let written = 0
  let file = 0
  while (written < TARGET_EVENTS) {
    const batch: unknown[] = []
    for (let i = 0; i < EVENTS_PER_FILE; i++) batch.push(records[(written + i) % records.length])
    const day = String(1 + (file % 28)).padStart(2, '0')
    const dir = path.join(DATASET, 'AWSLogs', '123837392027', 'CloudTrail', 'us-east-1', '2023', '07', day)
    mkdirSync(dir, { recursive: true })
    const name = `123837392027_CloudTrail_us-east-1_202307${day}T1200Z_${String(file).padStart(6, '0')}.json.gz`
    writeFileSync(path.join(dir, name), gzipSync(JSON.stringify({ Records: batch })))
    written += batch.length
    file++
  }
  writeFileSync(path.join(DATASET, 'COMPLETE'), `${written}\n`)
}

function logFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter(e => e.isFile() && e.name.endsWith('.json.gz'))
    .map(e => path.join(e.parentPath, e.name))
}

function floor(files: string[]): { events: number; seconds: number } {
  const start = performance.now()
  let events = 0
  for (const f of files)
    events += (JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as { Records: unknown[] }).Records
      .length
  return { events, seconds: (performance.now() - start) / 1000 }
}

async function ourScan(): Promise<{ events: number; seconds: number; threads: number; roles: number }> {
  const start = performance.now()
  const scan = await scanCloudTrail({ path: DATASET })
  return {
    events: scan.eventsRead,
    seconds: (performance.now() - start) / 1000,
    threads: scan.threads,
    roles: scan.roles.size
  }
}

/** Alternates ours and the floor ROUNDS times and keeps the best of each: this machine is shared, so load comes and goes. */
const ROUNDS = 3

async function measure(): Promise<void> {
  const files = logFiles(DATASET)
  const first = await ourScan()
  const peak = process.resourceUsage().maxRSS / 1024
  const oursRuns = [first]
  const floorRuns = [floor(files)]
  for (let i = 1; i < ROUNDS; i++) {
    oursRuns.push(await ourScan())
    floorRuns.push(floor(files))
  }
  const best = <T extends { seconds: number }>(runs: T[]): T =>
    runs.reduce((a, b) => (b.seconds < a.seconds ? b : a))
  const ours = best(oursRuns)
  const base = best(floorRuns)
  const rate = (r: { events: number; seconds: number }) => Math.round(r.events / r.seconds)
  const seconds = (runs: { seconds: number }[]) => runs.map(r => r.seconds.toFixed(2)).join(', ')
  const lines = [
    `dataset: ${files.length} gzipped files, ${ours.events} events (${DATASET})`,
    `cores: ${availableParallelism()}, worker threads used: ${ours.threads}, roles found: ${ours.roles}`,
    `ours : ${rate(ours).toLocaleString('en-US')} events/s (best of ${seconds(oursRuns)} s)`,
    `floor: ${rate(base).toLocaleString('en-US')} events/s (best of ${seconds(floorRuns)} s; gunzip + JSON.parse, one thread)`,
    `ratio ours/floor: ${(rate(ours) / rate(base)).toFixed(2)}`,
    `peak RSS of the process during our first scan: ${peak.toFixed(0)} MB`
  ]
  if (base.events !== ours.events)
    lines.push(`WARNING: floor read ${base.events} events, ours ${ours.events}`)
  console.log(lines.join('\n'))
}

if (process.argv.includes('--measure')) {
  await measure()
} else {
  build()
  const args = [...process.execArgv, process.argv[1], String(TARGET_EVENTS), '--measure']
  const child = spawnSync(process.execPath, args, { stdio: 'inherit' })
  process.exitCode = child.status ?? 1
}
