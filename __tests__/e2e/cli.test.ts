/**
 * The CLI bundle (dist/cli.js) on the real sample: what `npm start` runs, the output formats, the exit codes.
 * Expected results come from the sample data (the roles' recorded calls and their public Terraform grants).
 */
import { describe, expect, it } from '@jest/globals'
import { execFile, execFileSync, spawn } from 'node:child_process'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JsonReportV1 as ReportV1, JsonRoleV1 as RoleResult } from '../../src/report/json.js'
import { STEAL_CREDENTIALS_USED } from '../support/stratus-facts.js'
import { ACCOUNT, GRANTS, jsonReportOf, SAMPLE } from '../support/cli-sample.js'
import { at } from '../../src/policy/at.js'
import { writeRolesAndTrail } from '../support/roles-and-trail.js'

function cli(args: string[], cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [join(process.cwd(), 'dist/cli.js'), ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' }, cwd },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    )
  })
}

/** Runs the CLI and sends it a signal once stderr matches `when`. */
function cliSignalled(
  args: string[],
  when: RegExp,
  signal: NodeJS.Signals
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, ['dist/cli.js', ...args], { env: { PATH: process.env.PATH ?? '' } })
    let stderr = ''
    let sent = false
    child.stderr.on('data', chunk => {
      stderr += String(chunk)
      if (!sent && when.test(stderr)) {
        sent = true
        child.kill(signal)
      }
    })
    child.stdout.resume()
    child.on('close', (code, sig) => resolve({ code, signal: sig, stderr }))
  })
}

function role(report: ReportV1, name: string): RoleResult {
  const found = report.roles.find(r => r.arn.endsWith(`/${name}`))
  if (!found) throw new Error(`no role ${name} in the report`)
  return found
}

describe('iam-least-privilege analyze (dist/cli.js)', () => {
  let report: ReportV1
  it('prints only the version-1 JSON report with --format json, with the outcomes the sample data dictates', async () => {
    const run = await cli(['analyze', ...SAMPLE, ...GRANTS, ...jsonReportOf('*')])
    expect(run.code).toBe(0)
    report = JSON.parse(run.stdout) as ReportV1
    expect(report).toMatchObject({ version: 1, source: 'cloudtrail' })

    const steal = role(report, 'stratus-red-team-ec2-steal-credentials-role')
    expect(steal.status).toBe('analyzed')
    // What the role did: DescribeInstances and the SSM agent's calls; GetCallerIdentity needs no permission.
    expect(steal.used).toEqual(STEAL_CREDENTIALS_USED)
    const excess = steal.excess.map(e => e.action)
    expect(excess).toEqual(
      expect.arrayContaining(['ssm:GetParameter', 'ssm:GetManifest', 'ec2:DescribeVolumes'])
    )
    // The agent's message channels never reach CloudTrail: kept as unobservable, not excess.
    expect(excess).not.toContain('ssmmessages:OpenDataChannel')
    expect(steal.unobservable.map(u => u.action)).toContain('ssmmessages:OpenDataChannel')
    expect(excess).not.toContain('ec2:DescribeInstances')
    expect(steal.evidence?.permissionlessCalls).toBeGreaterThan(0)
    expect(steal.proposalOutcome).toBe('proposed')
    expect(steal.checks).toMatchObject({ evaluator: 'PASS', checkNoNewAccess: 'SKIPPED' })

    const enumerate = role(report, 'stratus-red-team-ec2-enumerate-role')
    expect(enumerate.used.every(a => a.startsWith('ssm:'))).toBe(true)

    // Every call denied: nothing used, so everything granted is excess; the denials are evidence, not usage.
    const password = role(report, 'stratus-red-team-ec2-get-password-data-role')
    expect(password.used).toEqual([])
    expect(password.evidence?.deniedCalls).toBe(29)
    expect(password.proposalOutcome).toBe('detach-all')

    // RunInstances failed on a vCPU limit, so it was authorized, yet the known policies grant only DescribeInstances:
    // some policy is missing from the export, and detaching everything would be unsafe.
    const launcher = role(report, 'stratus-red-team-ec2lui-role-pcccexdthk')
    expect(launcher.used).toEqual(['ec2:RunInstances'])
    expect(launcher.proposalOutcome).toBe('withheld')
    expect(launcher.proposalNotes?.join(' ')).toMatch(
      /authorized calls its known policies do not grant \(ec2:RunInstances\)/
    )

    // Service-linked roles cannot be edited: reported, never proposed.
    const rds = report.roles.find(r => r.arn.includes('AWSServiceRoleForRDS'))
    expect(rds).toMatchObject({ status: 'skipped', editable: false, proposed: [] })
    expect(report.summary).toEqual({
      roles: 9,
      analyzed: 7,
      failed: 0,
      excess: report.roles.reduce((n, r) => n + r.excess.length, 0)
    })
  })

  it('never proposes on a window shorter than min-observation-days (the default)', async () => {
    const run = await cli([
      'analyze',
      ...SAMPLE,
      ...GRANTS,
      '--roles',
      'stratus-red-team-ec2-steal-credentials-role',
      '--format',
      'json'
    ])
    expect(run.code).toBe(0)
    const only = JSON.parse(run.stdout) as ReportV1
    expect(only.roles).toHaveLength(1)
    expect(only.roles[0]).toMatchObject({ status: 'insufficient-evidence', excess: [], proposed: [] })
    expect(only.roles[0]?.reason).toMatch(/less than min-observation-days \(30\)/)
  })

  it('writes the report, SARIF and the proposed policy files with --out, and prints Markdown by default', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-out-'))
    const run = await cli([
      'analyze',
      ...SAMPLE,
      ...GRANTS,
      '--roles',
      'stratus-red-team-ec2-*',
      '--min-observation-days',
      '0',
      '--out',
      out
    ])
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^## IAM least privilege/m)
    expect(run.stderr).toMatch(/read 55 files \(0 skipped\), 2900 events/)
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportV1
    expect(written.roles.map(r => r.arn.split('/').pop())).toEqual([
      'stratus-red-team-ec2-enumerate-role',
      'stratus-red-team-ec2-get-password-data-role',
      'stratus-red-team-ec2-steal-credentials-role'
    ])
    const sarif = JSON.parse(readFileSync(join(out, 'report.sarif'), 'utf8')) as {
      version: string
      runs: { results: { properties: { actionCount: number } }[] }[]
    }
    expect(sarif.version).toBe('2.1.0')
    const counted = (sarif.runs[0]?.results ?? []).reduce(
      (sum, result) => sum + result.properties.actionCount,
      0
    )
    expect(counted).toBe(written.summary.excess)
    const proposal = JSON.parse(
      readFileSync(
        join(out, 'proposals', 'iam', 'least-privilege', ACCOUNT, 'stratus-red-team-ec2-enumerate-role.json'),
        'utf8'
      )
    ) as { Version: string }
    expect(proposal.Version).toBe('2012-10-17')
  })

  it('never turns a malformed role ARN from a log record into a role or a file path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-hostile-'))
    // Derived in code from a real record: the steal-credentials role's event with its issuer ARN rewritten.
    const file =
      'examples/data/cloudtrail/invictus-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1200Z_iLj9fb7yyUG9X4Bf.json'
    type TrailRecord = { userIdentity?: { sessionContext?: { sessionIssuer?: { arn?: string } } } }
    const records = (JSON.parse(readFileSync(file, 'utf8')) as { Records: TrailRecord[] }).Records
    const real = records.find(r =>
      r.userIdentity?.sessionContext?.sessionIssuer?.arn?.endsWith('steal-credentials-role')
    )
    if (!real) throw new Error('no assumed-role record in the sample file')
    const hostile = structuredClone(real) as {
      userIdentity: { sessionContext: { sessionIssuer: { arn: string } } }
    }
    hostile.userIdentity.sessionContext.sessionIssuer.arn = 'arn:aws:iam::../../../../escape:role/app'
    mkdirSync(join(dir, 'logs'))
    writeFileSync(join(dir, 'logs', 'hostile.json'), JSON.stringify({ Records: [real, hostile] }))
    writeFileSync(
      join(dir, 'policy.json'),
      JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] })
    )
    const out = join(dir, 'out')
    const run = await cli([
      'analyze',
      '--source',
      'cloudtrail',
      '--cloudtrail-path',
      join(dir, 'logs'),
      '--policy',
      join(dir, 'policy.json'),
      '--roles',
      '*',
      '--min-observation-days',
      '0',
      '--out',
      out,
      '--format',
      'json'
    ])
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as ReportV1
    expect(report.roles.map(r => r.arn)).toEqual([real.userIdentity?.sessionContext?.sessionIssuer?.arn])
    expect(existsSync(join(dir, 'escape'))).toBe(false)
  })

  it('a role named in the records but active only outside --since/--until has insufficient evidence, not a failure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-window-'))
    const policy = join(dir, 'policy.json')
    writeFileSync(
      policy,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]
      })
    )
    const run = await cli([
      'analyze',
      ...SAMPLE,
      '--policy',
      policy,
      '--roles',
      'stratus-red-team-ec2-steal-credentials-role',
      '--since',
      '2030-01-01',
      '--no-validate',
      '--format',
      'json'
    ])
    expect(run.code).toBe(0)
    const [role] = (JSON.parse(run.stdout) as ReportV1).roles
    expect(role).toMatchObject({ arn: expect.stringContaining(':role/'), status: 'insufficient-evidence' })
    expect(role?.reason).toMatch(/no record is in the window/)
  })

  it('exits 2 with one clear line when the input folder does not exist, and 0 for --help', async () => {
    const run = await cli([
      'analyze',
      '--source',
      'cloudtrail',
      '--cloudtrail-path',
      'no/such/folder',
      ...GRANTS,
      '--roles',
      '*'
    ])
    expect(run.code).toBe(2)
    expect(run.stderr.trim().split('\n')).toHaveLength(1)
    expect(run.stderr).toMatch(/no\/such\/folder/)
    const help = await cli(['--help'])
    expect(help.code).toBe(0)
    expect(help.stdout).toMatch(/^Usage: iam-least-privilege analyze/)
  })

  describe('evidence you can trust at a glance', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-evidence-'))
    const real = readFileSync(
      'examples/data/cloudtrail/invictus-aws-dataset/CloudTrail/218007301253_CloudTrail_us-east-1_20230710T1215Z_nBsuPO1qSTEVerMD.json'
    )

    it('an empty log folder is bad usage: exit 2, one line naming the folder, no report', async () => {
      mkdirSync(join(dir, 'empty'))
      const run = await cli([
        'analyze',
        '--source',
        'cloudtrail',
        '--cloudtrail-path',
        join(dir, 'empty'),
        ...GRANTS,
        '--roles',
        '*'
      ])
      expect(run.code).toBe(2)
      expect(run.stdout).toBe('')
      expect(run.stderr).toMatch(
        new RegExp(
          `^error: cloudtrail-path: no CloudTrail log file was read from ${join(dir, 'empty')} \\(no \\.json or \\.json\\.gz file is there\\)`,
          'm'
        )
      )
      expect(run.stderr).not.toMatch(/1970/)
    })

    it('a folder of JSON that is not CloudTrail is bad usage too, and says what it found', async () => {
      mkdirSync(join(dir, 'foreign'))
      writeFileSync(join(dir, 'foreign', 'package.json'), '{"name":"x"}')
      const run = await cli([
        'analyze',
        '--source',
        'cloudtrail',
        '--cloudtrail-path',
        join(dir, 'foreign'),
        ...GRANTS,
        '--roles',
        '*'
      ])
      expect(run.code).toBe(2)
      expect(run.stderr).toMatch(/1 file\(s\) were skipped, the first: .*package\.json: not CloudTrail JSON/)
    })

    it('foreign files and links next to real logs are skipped, counted and make the evidence insufficient', async () => {
      mkdirSync(join(dir, 'mixed'))
      writeFileSync(join(dir, 'mixed', 'trail.json'), real)
      writeFileSync(join(dir, 'mixed', 'notes.json'), '[{"id":1}]')
      symlinkSync(join(process.cwd(), 'examples'), join(dir, 'mixed', 'link'))
      const run = await cli([
        'analyze',
        '--source',
        'cloudtrail',
        '--cloudtrail-path',
        join(dir, 'mixed'),
        ...GRANTS,
        ...jsonReportOf('stratus-red-team-ec2-steal-credentials-role')
      ])
      expect(run.code).toBe(0)
      const [steal] = (JSON.parse(run.stdout) as ReportV1).roles
      expect(steal?.status).toBe('insufficient-evidence')
      expect(steal?.complete).toBe(false)
      expect(steal?.reason).toMatch(/^2 log file\(s\) were skipped/)
      expect(steal?.evidence?.filesSkipped?.map(f => f.reason)).toEqual([
        'skipped: a symbolic link (links are not followed)',
        expect.stringMatching(/^not CloudTrail JSON/)
      ])
    })

    it('refuses a policy file of the workspace that is a link (to /dev/zero, say) instead of reading it', async () => {
      const workspace = join(dir, 'workspace')
      mkdirSync(join(workspace, 'iam', ACCOUNT), { recursive: true })
      symlinkSync('/dev/zero', join(workspace, 'iam', ACCOUNT, 'stratus-red-team-ec2-enumerate-role.json'))
      const run = await cli(
        [
          'analyze',
          '--source',
          'cloudtrail',
          '--cloudtrail-path',
          join(process.cwd(), at(SAMPLE, 3)),
          '--granted-source',
          'files',
          '--policy-path',
          'iam/{account}/{role}.json',
          '--roles',
          `arn:aws:iam::${ACCOUNT}:role/stratus-red-team-ec2-enumerate-role`,
          '--format',
          'json'
        ],
        workspace
      )
      expect(run.code).toBe(1)
      const [enumerate] = (JSON.parse(run.stdout) as ReportV1).roles
      expect(enumerate).toMatchObject({ status: 'failed' })
      expect(enumerate?.reason).toBe(
        `iam/${ACCOUNT}/stratus-red-team-ec2-enumerate-role.json is a symbolic link: policy files are read only as regular files`
      )
    })

    it('SIGTERM ends the process within its grace period even while a read never returns', async () => {
      const fifo = join(dir, 'stuck.json')
      execFileSync('mkfifo', [fifo])
      const run = await cliSignalled(
        ['analyze', '--source', 'cloudtrail', '--cloudtrail-path', fifo, ...GRANTS, '--roles', '*'],
        /1 log files to read/,
        'SIGTERM'
      )
      expect(run.stderr).toMatch(/received SIGTERM: cancelling/)
      expect(run.stderr).toMatch(/error: cloudtrail: reading the log files was cancelled/)
      // Either it ended with the status of a SIGTERM (143), or the grace period ran out and the signal ended it.
      expect(run.code === 143 || run.signal === 'SIGTERM').toBe(true)
    })
  })
})

describe('names from logs are data', () => {
  it('a role named .. in the records never becomes a policy file path outside the workspace', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-dotdot-'))
    const workspace = join(dir, 'workspace')
    mkdirSync(join(workspace, 'logs'), { recursive: true })
    // What a path built from the name would reach: a policy file one folder above the workspace.
    writeFileSync(
      join(dir, 'policy.json'),
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]
      })
    )
    const role = 'arn:aws:iam::111122223333:role/..'
    writeFileSync(
      join(workspace, 'logs', 'records.json'),
      JSON.stringify({
        Records: [
          {
            eventVersion: '1.08',
            eventTime: '2026-11-01T00:00:00Z',
            eventSource: 's3.amazonaws.com',
            eventName: 'ListBuckets',
            awsRegion: 'us-east-1',
            userIdentity: {
              type: 'AssumedRole',
              arn: 'arn:aws:sts::111122223333:assumed-role/../session',
              accountId: '111122223333',
              sessionContext: {
                sessionIssuer: { type: 'Role', arn: role, accountId: '111122223333', userName: '..' }
              }
            }
          }
        ]
      })
    )
    const run = await new Promise<{ stdout: string; stderr: string }>(done =>
      execFile(
        process.execPath,
        [
          join(process.cwd(), 'dist/cli.js'),
          'analyze',
          '--source',
          'cloudtrail',
          '--cloudtrail-path',
          'logs',
          '--granted-source',
          'files',
          '--policy-path',
          '{role}/policy.json',
          ...jsonReportOf('*')
        ],
        { cwd: workspace, env: { PATH: process.env.PATH ?? '' } },
        (_error, stdout, stderr) => done({ stdout, stderr })
      )
    )
    const report = JSON.parse(run.stdout) as ReportV1
    const dotdot = report.roles.find(r => r.arn === role)
    expect(dotdot).toMatchObject({ status: 'failed' })
    expect(dotdot?.reason).toMatch(/cannot name a policy file/)
    expect(dotdot?.policyFile).toBeUndefined()
  })
})

describe('Ctrl-C while the roles are judged', () => {
  const roles = (dir: string) =>
    writeRolesAndTrail(
      dir,
      ACCOUNT,
      Array.from({ length: 1500 }, (_, i) => ({
        name: `judged-${String(i).padStart(4, '0')}`,
        granted: i % 2 ? ['sqs:*'] : ['kms:*'],
        call: { eventSource: 'kms.amazonaws.com', eventName: 'ListKeys' }
      }))
    )

  /** The CLI with --out, sent SIGINT once judging has begun (its staging folder appears in OUT), `times` times. */
  function interrupted(
    times: 1 | 2
  ): Promise<{ code: number | null; stderr: string; stdout: string; out: string }> {
    const dir = mkdtempSync(join(tmpdir(), 'cli-interrupted-'))
    const { details, trail } = roles(dir)
    const out = join(dir, 'out')
    mkdirSync(out)
    const args = ['analyze', '--roles', '*', '--source', 'cloudtrail', '--cloudtrail-path', trail]
    args.push(
      '--authorization-details',
      details,
      '--min-observation-days',
      '0',
      '--out',
      out,
      '--format',
      'json'
    )
    return new Promise(resolve => {
      const child = spawn(process.execPath, ['dist/cli.js', ...args], {
        env: { PATH: process.env.PATH ?? '' }
      })
      let stderr = ''
      let stdout = ''
      let sent = 0
      child.stderr.on('data', chunk => {
        stderr += String(chunk)
        // The second Ctrl-C once the first was handled (two at once may be delivered as one).
        if (sent === 1 && times === 2 && stderr.includes('received SIGINT: cancelling')) {
          sent++
          child.kill('SIGINT')
        }
      })
      child.stdout.on('data', chunk => (stdout += String(chunk)))
      const poll = setInterval(() => {
        if (sent === 0 && readdirSync(out).some(name => name.startsWith('.'))) {
          sent++
          child.kill('SIGINT')
        }
      }, 10)
      child.on('close', code => {
        clearInterval(poll)
        resolve({ code, stderr, stdout, out })
      })
    })
  }

  it('exits 130 with a whole report in OUT and on stdout: the roles judged, the rest failed as not judged', async () => {
    const run = await interrupted(1)
    expect(run.code).toBe(130)
    expect(readdirSync(run.out).sort()).toEqual(['proposals', 'report.json', 'report.sarif'])
    const written = JSON.parse(readFileSync(join(run.out, 'report.json'), 'utf8')) as ReportV1
    expect(JSON.parse(run.stdout)).toEqual(written)
    expect(written.roles).toHaveLength(1500)
    const notJudged = written.roles.filter(
      r => r.reason === 'not judged: the run was cancelled before this role'
    )
    expect(notJudged.length).toBeGreaterThan(0)
    expect(written.summary.failed).toBe(notJudged.length)
    // One line for the roles never judged, not one per role.
    expect(run.stderr).toContain(
      `warning: ${notJudged.length} role(s) not judged: the run was cancelled before them`
    )
    expect(run.stderr).not.toMatch(/role\/judged-\d+: not judged/)
  })

  it('a second Ctrl-C stops at once and leaves no half-written staging folder in OUT', async () => {
    const run = await interrupted(2)
    expect(run.stderr).toContain('received SIGINT again: stopping now')
    expect(readdirSync(run.out).filter(name => name.startsWith('.'))).toEqual([])
  })
})
