/**
 * An IAM user through the CLI bundle (dist/cli.js) on the real sample: the user bert-jan's own calls in the Invictus
 * records are its usage. Its policy is given with --policy (exports hold roles only). Expected values come from the
 * sample: 22 rds:DescribeDBInstances calls from 12:16:08 to 12:19:38 on 2023-07-10 and, over the whole sample,
 * 178 authorized kms:Decrypt calls between 11:57:50 and 12:08:04.
 */
import { afterAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JsonReportV1 } from '../../src/report/json.js'
import { ACCOUNT } from '../support/cli-sample.js'

const USER = `arn:aws:iam::${ACCOUNT}:user/bert-jan`

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise(resolve => {
    execFile(
      process.execPath,
      [join(process.cwd(), 'dist/cli.js'), ...args],
      { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '' } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
    )
  })
}

describe('an IAM user from CloudTrail records (dist/cli.js)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-users-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))
  const policy = join(dir, 'bert-jan.json')
  // What the user did from 12:16 to 12:21 (RDS snapshots), and a permission it never used.
  const granted = [
    'rds:DescribeDBInstances',
    'rds:DescribeDBSnapshots',
    'rds:CreateDBSnapshot',
    'rds:ListTagsForResource',
    'health:DescribeEventAggregates',
    's3:DeleteBucket'
  ]
  writeFileSync(
    policy,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: granted, Resource: '*' }]
    })
  )
  const args = [
    'analyze',
    '--source',
    'cloudtrail',
    '--cloudtrail-path',
    'examples/data/cloudtrail/invictus-aws-dataset',
    '--users',
    'bert-jan',
    '--policy',
    policy,
    '--min-observation-days',
    '0'
  ]

  it('judges the user on its own calls, with counts and first and last seen, and proposes under users/', async () => {
    const out = join(dir, 'out')
    const window = ['--since', '2023-07-10T12:16:00Z', '--until', '2023-07-10T12:21:59Z']
    const run = await cli([...args, ...window, '--format', 'json', '--out', out])
    expect(run.code).toBe(0)
    const report = JSON.parse(run.stdout) as JsonReportV1
    expect(report.roles.map(r => r.arn)).toEqual([USER])
    const [user] = report.roles
    expect(user?.status).toBe('analyzed')
    expect(user?.used).toEqual(granted.slice(0, 5).sort())
    expect(user?.excess.map(e => e.action)).toEqual(['s3:DeleteBucket'])
    expect(user?.usedEvidence?.find(e => e.action === 'rds:DescribeDBInstances')).toEqual({
      action: 'rds:DescribeDBInstances',
      count: 22,
      firstSeen: '2023-07-10T12:16:08.000Z',
      lastSeen: '2023-07-10T12:19:38.000Z',
      sources: ['cloudtrail']
    })
    const proposal = readFileSync(
      join(out, 'proposals', 'iam', 'least-privilege', ACCOUNT, 'users', 'bert-jan.json'),
      'utf8'
    )
    expect(proposal).toContain('rds:CreateDBSnapshot')
    expect(proposal).not.toContain('s3:DeleteBucket')
  })

  it('shows the used actions with their calls and dates in the Markdown', async () => {
    const run = await cli(args)
    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(
      /kms:Decrypt\s+178 calls, first 2023-07-10, last used 2023-07-10 \(cloudtrail\)/
    )
  })
})
