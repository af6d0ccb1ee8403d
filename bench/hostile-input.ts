/**
 * Hostile input benchmark: `npx tsx bench/hostile-input.ts`. Each hostile case is timed against a plain case of
 * the same size measured in the same run, and must stay within a small multiple of it (the process exits 1 when one
 * does not):
 *   - a role pattern of 8 stars against 64-character names (a backtracking RegExp took 82 s), and the RegExp
 *     baseline on a smaller case it can still finish;
 *   - a policy whose Action and Resource patterns are full of stars (one such policy took 95 s of CPU), and one
 *     whose Deny pattern is (a 357-byte policy took 58 s);
 *   - resource ARNs in log records built to make the ARN template matcher backtrack;
 *   - streamed JSON lines just under the line cap;
 *   - a gzip bomb (256 MiB of zeros in a few hundred KB) next to a real log file of the same compressed size, with
 *     the peak RSS the scan added.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { performance } from 'node:perf_hooks'
import { constants, gzipSync } from 'node:zlib'
import { analyzeRole } from '../src/policy/analyze.js'
import type { RoleGrants, RoleUsage } from '../src/model.js'
import { selectRoles } from '../src/roles.js'
import { parseRoleSelector } from '../src/config.js'
import { scanCloudTrail } from '../src/usage/cloudtrail/scan.js'

let failures = 0

function best(runs: number, fn: () => unknown): number {
  let min = Infinity
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    fn()
    min = Math.min(min, performance.now() - start)
  }
  return min
}

async function bestAsync(runs: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    await fn()
    min = Math.min(min, performance.now() - start)
  }
  return min
}

function report(name: string, hostileMs: number, plainMs: number, limit: number): void {
  const ratio = hostileMs / plainMs
  const ok = ratio <= limit
  if (!ok) failures++
  console.log(
    `${name.padEnd(44)} hostile ${hostileMs.toFixed(2).padStart(9)} ms   plain ${plainMs.toFixed(2).padStart(9)} ms   ` +
      `ratio ${ratio.toFixed(1).padStart(6)}x   (limit ${limit}x) ${ok ? 'ok' : 'EXCEEDED'}`
  )
}

// Role patterns.
const names = Array.from({ length: 2000 }, (_, i) => `${'a'.repeat(60)}${String(i).padStart(4, '0')}`)
const known = names.map(name => ({ arn: `arn:aws:iam::111122223333:role/${name}`, name }))
const hostile = parseRoleSelector(`${'*a'.repeat(8)}*b`)
const plain = parseRoleSelector('app-*')
report(
  'role pattern, 8 stars, 2000 names of 64',
  best(5, () => selectRoles([hostile], known, 'bench')),
  best(5, () => selectRoles([plain], known, 'bench')),
  20
)
// The baseline the matcher replaced, on a case small enough for it to finish.
const small = { pattern: `${'*a'.repeat(5)}*b`, name: 'a'.repeat(28) }
const backtracking = new RegExp(`^${small.pattern.replace(/\*/g, '.*')}$`, 'i')
const regexMs = best(3, () => backtracking.test(small.name))
const oursMs = best(3, () =>
  selectRoles([parseRoleSelector(small.pattern)], [{ arn: 'x', name: small.name }], 'bench')
)
console.log(
  `backtracking RegExp baseline, 5 stars/28 chars: ${regexMs.toFixed(2)} ms; ours ${oursMs.toFixed(3)} ms (${(regexMs / oursMs).toFixed(0)}x faster)`
)

// Policy wildcards.
function grants(document: object): RoleGrants {
  return {
    arn: 'arn:aws:iam::111122223333:role/bench',
    name: 'bench',
    path: '/',
    accountId: '111122223333',
    editable: true,
    policies: [{ name: 'p', kind: 'inline', document, origin: 'bench' }]
  } as RoleGrants
}
const stars = '*a'.repeat(8)
const starry = grants({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: [`s3:${stars}b`, `*:${stars}`, `ec2:${stars}*`],
      Resource: [`arn:aws:s3:::${stars}${stars}b`, `arn:aws:s3:::${stars}/*`]
    },
    { Effect: 'Deny', NotAction: [`iam:${stars}`], Resource: [`arn:aws:s3:::${'a'.repeat(60)}*`] }
  ]
})
const simple = grants({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: ['s3:Get*', 'ec2:Describe*', 'ssm:*'], Resource: '*' }]
})
const usage: RoleUsage = {
  roleArn: 'arn:aws:iam::111122223333:role/bench',
  source: 'cloudtrail',
  window: { start: '2026-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' },
  complete: true,
  actions: [{ action: 's3:GetObject', resources: [`arn:aws:s3:::${'a'.repeat(60)}/${'a'.repeat(500)}`] }],
  serviceLevelOnly: [],
  evidence: { notes: [] }
}
const options = { keepActions: [], keepSidPrefix: 'Keep' }
report(
  `policy of ${JSON.stringify(starry.policies[0]?.document).length} bytes full of stars`,
  best(5, () => analyzeRole(starry, usage, options)),
  best(5, () => analyzeRole(simple, usage, options)),
  20
)
// A Deny whose stars can never cover the Allow: compared once per pair, not once per catalog action (took 58 s).
const starryDeny = grants({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'a'.repeat(160)}` },
    { Effect: 'Deny', Action: '*', Resource: `arn:aws:s3:::${'*a'.repeat(20)}*b` }
  ]
})
const plainDeny = grants({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: '*', Resource: `arn:aws:s3:::${'a'.repeat(160)}` },
    { Effect: 'Deny', Action: '*', Resource: 'arn:aws:s3:::b' }
  ]
})
report(
  `policy of ${JSON.stringify(starryDeny.policies[0]?.document).length} bytes, a Deny full of stars`,
  best(3, () => analyzeRole(starryDeny, usage, options)),
  best(3, () => analyzeRole(plainDeny, usage, options)),
  20
)

// Gzip bomb.
const dir = mkdtempSync(path.join(tmpdir(), 'hostile-bench-'))
try {
  const zeros = Buffer.alloc(16 * 1024 * 1024)
  const parts: Buffer[] = []
  for (let i = 0; i < 16; i++) parts.push(gzipSync(zeros, { level: constants.Z_BEST_COMPRESSION }))
  // Concatenated gzip members inflate as one stream: 256 MiB of zeros.
  const bomb = Buffer.concat(parts)
  const real = readFileSync(
    'examples/data/cloudtrail/invictus-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1215Z_nBsuPO1qSTEVerMD.json'
  )
  const plainDir = path.join(dir, 'plain')
  const bombDir = path.join(dir, 'bombs')
  mkdirSync(plainDir)
  mkdirSync(bombDir)
  // Real log files up to the bomb's compressed size.
  const realGz = gzipSync(real)
  const copies = Math.max(1, Math.round(bomb.length / realGz.length))
  for (let i = 0; i < copies; i++) writeFileSync(path.join(plainDir, `real-${i}.json.gz`), realGz)
  writeFileSync(path.join(bombDir, 'bomb.json.gz'), bomb)
  const rssBefore = process.memoryUsage().rss
  const plainMs = await bestAsync(3, () => scanCloudTrail({ path: plainDir, workers: 0 }))
  const rssPlain = process.resourceUsage().maxRSS * 1024
  let skipped = ''
  const bombMs = await bestAsync(3, async () => {
    const scan = await scanCloudTrail({ path: bombDir, workers: 0 })
    skipped = scan.filesSkipped[0]?.reason ?? 'NOT SKIPPED'
  })
  const rssBomb = process.resourceUsage().maxRSS * 1024
  console.log(
    `gzip bomb: ${(bomb.length / 1024).toFixed(0)} KiB inflating to 256 MiB vs ${copies} real file(s) of ${(realGz.length / 1024).toFixed(0)} KiB`
  )
  console.log(`  ${skipped}`)
  if (!skipped.startsWith('skipped: inflates past')) failures++
  report('gzip bomb scan (time)', bombMs, plainMs, 50)
  const mib = (b: number) => (b / 1048576).toFixed(0)
  console.log(
    `  peak RSS: ${mib(rssBefore)} MiB before, ${mib(rssPlain)} MiB after the real files, ${mib(rssBomb)} MiB after the bomb (limit: +${mib(2 * 64 * 1048576)} MiB)`
  )
  if (rssBomb - Math.max(rssPlain, rssBefore) > 2 * 64 * 1048576) failures++
} finally {
  rmSync(dir, { recursive: true, force: true })
}

// Resource ARNs in log records, checked against the action's ARN templates (a backtracking RegExp took 15 s each).
const arnDir = mkdtempSync(path.join(tmpdir(), 'hostile-arns-'))
try {
  const invoke = (arn: string) => ({
    eventVersion: '1.08',
    eventTime: '2026-01-01T00:00:00Z',
    eventSource: 'lambda.amazonaws.com',
    eventName: 'Invoke',
    eventType: 'AwsApiCall',
    userIdentity: {
      type: 'AssumedRole',
      arn: 'arn:aws:sts::111122223333:assumed-role/bench/s',
      sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111122223333:role/bench' } }
    },
    resources: [{ ARN: arn }]
  })
  const folder = (name: string, arn: (i: number) => string) => {
    const dir = path.join(arnDir, name)
    mkdirSync(dir)
    writeFileSync(
      path.join(dir, 'calls.json'),
      JSON.stringify({ Records: Array.from({ length: 20 }, (_, i) => invoke(arn(i))) })
    )
    return dir
  }
  const hostileArns = folder('hostile', i => `arn:${':lambda:'.repeat(1000)}${i}`)
  const plainArns = folder(
    'plain',
    i => `arn:aws:lambda:us-east-1:111122223333:function:${'f'.repeat(7960)}${i}`
  )
  const scan = (dir: string) => () => scanCloudTrail({ path: dir, workers: 0 })
  report(
    'log records naming 20 ARNs of 8 KB',
    await bestAsync(3, scan(hostileArns)),
    await bestAsync(3, scan(plainArns)),
    20
  )
} finally {
  rmSync(arnDir, { recursive: true, force: true })
}

// Streamed JSON lines just under the line cap, against short lines of the same total size (took 3.4 s per 15 MiB line).
const lineDir = mkdtempSync(path.join(tmpdir(), 'hostile-lines-'))
try {
  const size = 24 * 1024 * 1024
  const line = (length: number) => `{"eventName":"${'x'.repeat(length - 16)}"}`
  const write = (name: string, length: number) => {
    const dir = path.join(lineDir, name)
    mkdirSync(dir)
    const one = line(length)
    writeFileSync(
      path.join(dir, 'export.jsonl'),
      `{}\n${Array.from({ length: size / length }, () => one).join('\n')}\n`
    )
    return dir
  }
  const longLines = write('long', 8 * 1024 * 1024)
  const shortLines = write('short', 1024)
  const scan = (dir: string) => () => scanCloudTrail({ path: dir, workers: 0 }, { streamFromBytes: 0 })
  report(
    'streamed lines of 8 MiB vs 1 KiB (24 MiB)',
    await bestAsync(3, scan(longLines)),
    await bestAsync(3, scan(shortLines)),
    5
  )
} finally {
  rmSync(lineDir, { recursive: true, force: true })
}

console.log('')
console.log(failures === 0 ? 'every hostile case stayed within its limit' : `${failures} limit(s) exceeded`)
process.exitCode = failures === 0 ? 0 : 1
