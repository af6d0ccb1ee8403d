/**
 * Roles-scale benchmark: the CLI on a synthetic get-account-authorization-details export of N roles (a quarter
 * each AdministratorAccess, ReadOnlyAccess, PowerUserAccess and a wildcard inline policy) with CloudTrail records
 * attributed to every role. Prints wall time and peak RSS of the CLI process with `--out` and with the JSON
 * report on stdout, and the time per role against the smallest size of the same run (linear: the ratio stays
 * near 1).
 *
 * Run: npx tsx bench/roles-scale.ts [--large] [--cli dist/cli.js] [--roles 100,1000] [--modes out,json,json2]
 * 100 and 1,000 roles by default; `--large` adds 5,000 (several minutes on two cores). Modes: `out` (`--out DIR`),
 * `json` (the version-1 JSON report on stdout, counted and discarded), `json2` (version 2 on stdout). CPU time
 * and the load average are printed beside the wall time: on a shared machine the CPU time is the figure to compare.
 */
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const ACCOUNT = '111122223333'
const MANAGED = ['AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess'] as const
const EVENTS_PER_ROLE = 40
const RECORDS_PER_FILE = 500
/** What each role calls: a few read and write calls in services every policy of the mix grants. */
const CALLS: [source: string, name: string][] = [
  ['s3.amazonaws.com', 'ListBuckets'],
  ['s3.amazonaws.com', 'GetBucketPolicy'],
  ['ec2.amazonaws.com', 'DescribeInstances'],
  ['ec2.amazonaws.com', 'DescribeVpcs'],
  ['dynamodb.amazonaws.com', 'DescribeTable'],
  ['lambda.amazonaws.com', 'ListFunctions20150331'],
  ['logs.amazonaws.com', 'DescribeLogGroups'],
  ['sqs.amazonaws.com', 'ListQueues']
]

function arg(name: string): string | undefined {
  const at = process.argv.indexOf(name)
  return at >= 0 ? process.argv[at + 1] : undefined
}

function managedPolicy(name: string): { arn: string; document: unknown } {
  const file = new URL(`../examples/data/managed-policies/${name}.json`, import.meta.url)
  const json = JSON.parse(readFileSync(file, 'utf8')) as { PolicyVersion: { Document: unknown } }
  return { arn: `arn:aws:iam::aws:policy/${name}`, document: json.PolicyVersion.Document }
}

const INLINE = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: ['s3:*', 'ec2:*', 'dynamodb:*', 'lambda:*', 'logs:*', 'sqs:*', 'iam:*', 'kms:*'],
      Resource: '*'
    }
  ]
}

function roleName(i: number): string {
  return `bench-role-${String(i).padStart(5, '0')}`
}

/** The export and the trail folder for `count` roles, in a fresh directory. */
function writeInputs(dir: string, count: number): { details: string; trail: string } {
  const policies = MANAGED.map(managedPolicy)
  const roles = Array.from({ length: count }, (_, i) => {
    const kind = i % 4
    const name = roleName(i)
    return {
      Path: '/',
      RoleName: name,
      RoleId: `AROA${String(i).padStart(17, '0')}`,
      Arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      CreateDate: '2023-01-01T00:00:00Z',
      AssumeRolePolicyDocument: { Version: '2012-10-17', Statement: [] },
      RolePolicyList: kind === 3 ? [{ PolicyName: 'wildcards', PolicyDocument: INLINE }] : [],
      AttachedManagedPolicies:
        kind === 3 ? [] : [{ PolicyName: MANAGED[kind], PolicyArn: policies[kind]?.arn ?? '' }],
      Tags: []
    }
  })
  const details = join(dir, 'authorization-details.json')
  writeFileSync(
    details,
    JSON.stringify({
      UserDetailList: [],
      GroupDetailList: [],
      RoleDetailList: roles,
      Policies: MANAGED.map((name, i) => ({
        PolicyName: name,
        Arn: policies[i]?.arn,
        DefaultVersionId: 'v1',
        PolicyVersionList: [{ Document: policies[i]?.document, VersionId: 'v1', IsDefaultVersion: true }]
      }))
    })
  )
  const trail = join(dir, 'trail')
  mkdirSync(trail)
  const start = Date.parse('2023-06-01T00:00:00Z')
  let records: unknown[] = []
  let files = 0
  const flush = () => {
    if (records.length === 0) return
    const file = `${ACCOUNT}_CloudTrail_us-east-1_20230601T0000Z_${String(files++).padStart(6, '0')}.json`
    writeFileSync(join(trail, file), JSON.stringify({ Records: records }))
    records = []
  }
  for (let i = 0; i < count; i++) {
    const name = roleName(i)
    for (let e = 0; e < EVENTS_PER_ROLE; e++) {
      const [eventSource, eventName] = CALLS[e % CALLS.length] ?? ['s3.amazonaws.com', 'ListBuckets']
      records.push({
        eventVersion: '1.08',
        userIdentity: {
          type: 'AssumedRole',
          principalId: `AROA${String(i).padStart(17, '0')}:session`,
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${name}/session`,
          accountId: ACCOUNT,
          sessionContext: {
            sessionIssuer: {
              type: 'Role',
              principalId: `AROA${String(i).padStart(17, '0')}`,
              arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
              accountId: ACCOUNT,
              userName: name
            }
          }
        },
        // Spread over 30 days, so the window is long enough for the default minimum observation.
        eventTime: new Date(start + ((e * 30) / EVENTS_PER_ROLE) * 86_400_000 + i * 1000).toISOString(),
        eventSource,
        eventName,
        awsRegion: 'us-east-1',
        sourceIPAddress: '198.51.100.7',
        userAgent: 'bench',
        requestParameters: null,
        responseElements: null,
        eventID: `${i}-${e}`,
        readOnly: true,
        eventType: 'AwsApiCall',
        managementEvent: true,
        recipientAccountId: ACCOUNT,
        eventCategory: 'Management'
      })
      if (records.length === RECORDS_PER_FILE) flush()
    }
  }
  flush()
  return { details, trail }
}

interface Measured {
  ok: boolean
  seconds: number
  /** User + system CPU time of the CLI process: what the run cost, whatever else the machine was doing. */
  cpuSeconds: number
  peakMb: number
  bytes: number
  error?: string
}

/**
 * One CLI run. Its stdout is counted and discarded (a JSON report of thousands of roles is gigabytes); its peak RSS
 * and CPU time are read from the child's own resource usage at exit.
 */
async function runCli(cli: string, args: string[]): Promise<Measured> {
  const hook = `data:text/javascript,${encodeURIComponent(
    "import{writeSync}from'node:fs';process.on('exit',()=>{const u=process.resourceUsage();writeSync(2,'\\nusage '+u.maxRSS+' '+(u.userCPUTime+u.systemCPUTime)+'\\n')})"
  )}`
  const started = process.hrtime.bigint()
  const child = spawn(process.execPath, ['--import', hook, cli, ...args], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let bytes = 0
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (bytes += chunk.length))
  child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString('utf8')).slice(-64 * 1024)))
  const status = await new Promise<number | null>(done => child.on('close', code => done(code)))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const usage = /usage (\d+) (\d+)/.exec(stderr)
  const error = stderr.split('\n').find(line => /^error|FATAL|heap out of memory|Error/.test(line))
  return {
    ok: status === 0,
    seconds,
    cpuSeconds: usage ? Number(usage[2]) / 1e6 : Number.NaN,
    peakMb: usage ? Number(usage[1]) / 1024 : Number.NaN,
    bytes,
    ...(error ? { error: error.slice(0, 120) } : {})
  }
}

// `--write-inputs DIR N`: only write the inputs for N roles (to profile one run by hand).
const inputsDir = arg('--write-inputs')
if (inputsDir) {
  mkdirSync(inputsDir, { recursive: true })
  console.log(writeInputs(inputsDir, Number(process.argv[process.argv.indexOf('--write-inputs') + 2] ?? 100)))
  process.exit(0)
}

const cli = resolve(arg('--cli') ?? 'dist/cli.js')
const sizes = (arg('--roles') ?? '100,1000').split(',').map(Number)
if (process.argv.includes('--large') && !sizes.includes(5000)) sizes.push(5000)
const MODES: Record<string, (dir: string) => string[]> = {
  out: dir => ['--out', join(dir, 'out')],
  json: () => ['--format', 'json'],
  json2: () => ['--format', 'json', '--report-version', '2']
}
const modes = (arg('--modes') ?? 'out,json').split(',')
for (const mode of modes)
  if (!MODES[mode]) throw new Error(`--modes: unknown mode '${mode}' (out, json, json2)`)

const load = () => loadavg()[0]?.toFixed(1) ?? '?'
console.log(`CLI: ${cli}`)
console.log(
  `| Roles | Output | Exit | Wall (s) | ms per role | vs smallest | CPU (s) | CPU ms per role | vs smallest | Peak RSS (MB) | Stdout (MB) | Load |`
)
console.log(`| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |`)
const baseline = new Map<string, { wall: number; cpu: number }>()
for (const count of sizes) {
  const dir = mkdtempSync(join(tmpdir(), 'roles-scale-'))
  try {
    const { details, trail } = writeInputs(dir, count)
    const common = [
      'analyze',
      '--source',
      'cloudtrail',
      '--cloudtrail-path',
      trail,
      '--authorization-details',
      details,
      '--roles',
      '*',
      '--min-observation-days',
      '0'
    ]
    for (const mode of modes) {
      const extra = MODES[mode]?.(dir) ?? []
      const loadBefore = load()
      const m = await runCli(cli, [...common, ...extra])
      const wall = (m.seconds * 1000) / count
      const cpu = (m.cpuSeconds * 1000) / count
      if (!baseline.has(mode) && m.ok) baseline.set(mode, { wall, cpu })
      const base = baseline.get(mode)
      const ratio = (value: number, of: number | undefined) => (m.ok && of ? (value / of).toFixed(2) : '—')
      console.log(
        `| ${count} | ${mode} | ${m.ok ? 'ok' : `failed${m.error ? `: ${m.error}` : ''}`} | ${m.seconds.toFixed(1)} | ${wall.toFixed(1)} | ${ratio(wall, base?.wall)} | ${m.cpuSeconds.toFixed(1)} | ${cpu.toFixed(1)} | ${ratio(cpu, base?.cpu)} | ${m.peakMb.toFixed(0)} | ${(m.bytes / 1e6).toFixed(1)} | ${loadBefore}–${load()} |`
      )
      rmSync(join(dir, 'out'), { recursive: true, force: true })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
