/**
 * The CLI's entry (src/cli-main.ts) run in this process on the real sample: options, exit codes and outputs.
 * The dist/cli.js bundle is checked by the end-to-end tests; these cover the entry itself.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { EXIT, parseCli, USAGE } from '../../src/cli-main.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { VERSION } from '../../src/version.js'
import { runCliInProcess } from '../support/cli-in-process.js'
import { ACCOUNT, GRANTS, jsonReportOf, SAMPLE } from '../support/cli-sample.js'

const ACCESS_ANALYZER = [
  '--trail-arn',
  'arn:aws:cloudtrail:us-east-1:111122223333:trail/main',
  '--access-role-arn',
  'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole'
]

describe('the CLI in process', () => {
  it('prints the usage for --help and -h, and the version for --version', async () => {
    for (const args of [['--help'], ['analyze', '-h']]) {
      expect(await runCliInProcess(args)).toEqual({ code: EXIT.ok, stdout: `${USAGE}\n`, stderr: '' })
    }
    expect(await runCliInProcess(['--version'])).toEqual({
      code: EXIT.ok,
      stdout: `${VERSION}\n`,
      stderr: ''
    })
  })

  it.each([
    [
      ['analyze', ...ACCESS_ANALYZER, '--roles', 'x', '--lookback-days', '0'],
      /^error: lookback-days: 0 is outside 1 to 400\n$/
    ],
    [['analyze', ...SAMPLE], /^error: roles: required/],
    [['analyse', '--roles', 'x'], /^error: unknown command "analyse"; use analyze\n$/],
    [['analyze', '--roles', 'x', '--colour'], /^error: unknown option --colour; see --help\n$/],
    [['analyze', '--roles', 'x', '-v'], /^error: unknown option -v; see --help\n$/],
    [['analyze', '--roles'], /^error: --roles needs a value; see --help\n$/],
    [['analyze', '--roles', '--format', 'json'], /^error: --roles needs a value; see --help\n$/],
    [['analyze', '--roles', 'x', '--no-validate=yes'], /^error: --no-validate takes no value; see --help\n$/],
    [
      ['analyze', '--roles', 'x', '--format', 'json', '--format', 'sarif'],
      /^error: --format is given more than once; give it once\n$/
    ],
    [
      ['analyze', ...SAMPLE, '--roles', 'x', '--lookback-days', '30'],
      /^error: lookback-days: does not apply to a local cloudtrail-path .*; remove it\n$/
    ],
    [
      ['analyze', ...SAMPLE, ...ACCESS_ANALYZER, '--roles', 'x'],
      /^error: access-role-arn: only applies to source: access-analyzer .*; remove it\n$/
    ],
    [
      ['analyze', ...ACCESS_ANALYZER, '--roles', 'x', '--since', '2026-01-01'],
      /^error: since: only applies to source: cloudtrail .*; remove it\n$/
    ],
    [
      ['analyze', ...SAMPLE, '--policy', 'no/such/policy.json', '--roles', '*'],
      /^error: --policy no\/such\/policy.json cannot be read \(ENOENT\); check the path\n$/
    ],
    [
      ['analyze', ...SAMPLE, '--authorization-details', 'examples', '--roles', '*'],
      /^error: --authorization-details examples is not a regular file; give a JSON file\n$/
    ],
    [['analyze', ...SAMPLE, '--policy', 'package.json', '--roles', '*'], /^error: .*package\.json/],
    // A blank --policy (an unset shell variable) names no file: never dropped, whichever place it has.
    ...[[''], ['package.json', ''], ['', 'package.json'], [' ']].map((files): [string[], RegExp] => [
      ['analyze', ...SAMPLE, ...files.flatMap(file => ['--policy', file]), '--roles', '*'],
      /^error: policy: a blank --policy names no file; give the path of a policy file\n$/
    ]),
    [
      ['analyze', ...SAMPLE, ...GRANTS, '--roles', '*', '--out', 'package.json'],
      /^error: --out package.json is a file, not a folder; give a folder to write the reports into\n$/
    ]
  ])('exits 2 with one line on bad usage, before any analysis: %j', async (args, pattern) => {
    const run = await runCliInProcess(args)
    expect(run.code).toBe(2)
    expect(run.stderr).toMatch(pattern)
    expect(run.stdout).toBe('')
  })

  it('prints Markdown by default and writes the report, SARIF and proposals with --out', async () => {
    const out = mkdtempSync(join(tmpdir(), 'cli-out-'))
    const args = ['analyze', ...SAMPLE, ...GRANTS, '--roles', 'stratus-red-team-ec2-enumerate-role']
    const run = await runCliInProcess([...args, '--min-observation-days', '0', '--out', out])
    expect(run.code).toBe(EXIT.ok)
    expect(run.stdout).toMatch(/^## IAM least privilege/m)
    expect(run.stderr).toMatch(/wrote .*report\.json, .*report\.sarif and 1 proposed policy file\(s\)/)
    const written = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as JsonReportV1
    expect(written.summary).toMatchObject({ roles: 1, analyzed: 1 })
    const proposal = join(
      out,
      'proposals/iam/least-privilege',
      ACCOUNT,
      'stratus-red-team-ec2-enumerate-role.json'
    )
    expect(JSON.parse(readFileSync(proposal, 'utf8'))).toMatchObject({ Version: '2012-10-17' })
  })

  it('takes granted policies from --policy files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cli-policy-'))
    const file = join(dir, 'describe.json')
    writeFileSync(
      file,
      JSON.stringify({
        PolicyName: 'describe',
        RoleName: 'x',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }]
        }
      })
    )
    const run = await runCliInProcess([
      'analyze',
      ...SAMPLE,
      '--policy',
      file,
      ...jsonReportOf('stratus-red-team-ec2-steal-credentials-role')
    ])
    expect(run.code).toBe(0)
    const [only] = (JSON.parse(run.stdout) as JsonReportV1).roles
    if (!only) throw new Error('the report has no role')
    expect(only.used).toContain('ec2:DescribeInstances')
    expect(
      only.excess.every(
        e => e.action.startsWith('ec2:Describe') && e.grantedBy.some(g => g.startsWith('describe'))
      )
    ).toBe(true)
    // The SSM calls were made but this run was told only of ec2:Describe*: used, not granted, never proposed.
    expect(only.evidence?.notes.join(' ')).toMatch(/observed but not granted.*ssm:PutInventory/)
  })

  it('turns --no-validate and --allow-incomplete into their inputs', () => {
    const flags = ['--no-validate', '--allow-incomplete']
    const command = parseCli(['analyze', ...SAMPLE, '--roles', 'x', ...flags], {})
    const plain = parseCli(['analyze', ...SAMPLE, '--roles', 'x'], {})
    expect(command.kind === 'analyze' && [command.config.validate, command.config.allowIncomplete]).toEqual([
      false,
      true
    ])
    expect(plain.kind === 'analyze' && [plain.config.validate, plain.config.allowIncomplete]).toEqual([
      true,
      false
    ])
  })

  it('exits 1 after printing the report when a role failed, and 3 when the gate trips', async () => {
    const failed = await runCliInProcess([
      'analyze',
      ...SAMPLE,
      ...GRANTS,
      '--roles',
      `arn:aws:iam::${ACCOUNT}:role/not-in-the-export`,
      '--format',
      'json'
    ])
    expect(failed.code).toBe(EXIT.failed)
    expect((JSON.parse(failed.stdout) as JsonReportV1).summary.failed).toBe(1)
    expect(failed.stderr).toMatch(
      /^warning: 1 of 1 role\(s\) failed \(not-in-the-export\); the first: role .* is not in the authorization-details export/m
    )
    const gated = await runCliInProcess([
      'analyze',
      ...SAMPLE,
      ...GRANTS,
      '--roles',
      'stratus-red-team-ec2-enumerate-role',
      '--min-observation-days',
      '0',
      '--fail-on',
      'excess',
      '--format',
      'sarif'
    ])
    expect(gated.code).toBe(EXIT.gate)
    expect((JSON.parse(gated.stdout) as { version: string }).version).toBe('2.1.0')
    expect(gated.stderr).toMatch(/fail-on excess: 1 role grants \d+ excess actions/)
  })

  it('refuses the action-only inputs as unknown options', async () => {
    for (const name of ['role-to-assume', 'github-token', 'mode', 'pr-branch', 'pr-labels', 'validate']) {
      const run = await runCliInProcess(['analyze', '--roles', 'x', `--${name}`, 'v'])
      expect([name, run.code, run.stderr]).toEqual([
        name,
        EXIT.usage,
        `error: unknown option --${name}; see --help\n`
      ])
    }
  })
})
