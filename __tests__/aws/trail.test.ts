/** What a trail logs, read over CloudTrail's JSON 1.1 protocol, and what it changes in the analysis. */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { execFile } from 'node:child_process'
import { readTrailLogging } from '../../src/aws/trail.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { AwsEmulator } from '../support/aws-emulator.js'
import { cloudTrailClient } from '../support/aws-test-clients.js'
import { unobservableReason } from '../policy/builders.js'

const REGION = 'eu-west-1'

describe('trail configuration (GetTrail + GetEventSelectors)', () => {
  const emulator = new AwsEmulator()
  let url = ''
  const arn = (name: string) => `arn:aws:cloudtrail:${REGION}:${emulator.accountId}:trail/${name}`

  beforeAll(async () => {
    url = (await emulator.start()).url
    emulator.addTrail({
      name: 'writes-no-kms',
      region: REGION,
      eventSelectors: [
        {
          ReadWriteType: 'WriteOnly',
          IncludeManagementEvents: true,
          DataResources: [],
          ExcludeManagementEventSources: ['kms.amazonaws.com']
        }
      ]
    })
    emulator.addTrail({
      name: 'advanced',
      region: REGION,
      advancedEventSelectors: [
        {
          Name: 'Management reads, no RDS Data API',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['true'] },
            { Field: 'eventSource', NotEquals: ['rdsdata.amazonaws.com'] }
          ]
        },
        {
          Name: 'S3 objects',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Data'] },
            { Field: 'resources.type', Equals: ['AWS::S3::Object'] }
          ]
        }
      ]
    })
    emulator.addTrail({
      name: 'kms-reads-only',
      region: REGION,
      advancedEventSelectors: [
        {
          Name: 'Management reads',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['true'] }
          ]
        },
        {
          Name: 'Management writes, no KMS',
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Management'] },
            { Field: 'readOnly', Equals: ['false'] },
            { Field: 'eventSource', NotEquals: ['kms.amazonaws.com'] }
          ]
        }
      ]
    })
    emulator.addTrail({ name: 'everything', region: REGION })
  })
  afterAll(async () => {
    await emulator.stop()
  })

  it('reads basic selectors: the half and the sources a trail leaves out', async () => {
    const logging = await readTrailLogging(cloudTrailClient(url), arn('writes-no-kms'))
    expect(logging).toEqual({
      origin: 'trail',
      trail: arn('writes-no-kms'),
      managementRead: false,
      managementWrite: true,
      excludedSources: ['kms.amazonaws.com']
    })
    const calls = emulator.requests.filter(r => r.service === 'cloudtrail')
    expect(calls.map(c => [c.operation, c.params])).toEqual([
      ['GetTrail', { Name: arn('writes-no-kms') }],
      ['GetEventSelectors', { TrailName: arn('writes-no-kms') }]
    ])
  })

  it('reads advanced selectors: readOnly and eventSource field selectors', async () => {
    expect(await readTrailLogging(cloudTrailClient(url), arn('advanced'))).toMatchObject({
      managementRead: true,
      managementWrite: false,
      excludedSources: ['rdsdata.amazonaws.com']
    })
    // KMS reads are logged, KMS writes are not: KMS counts as left out, so no KMS write is judged excess.
    expect(await readTrailLogging(cloudTrailClient(url), arn('kms-reads-only'))).toMatchObject({
      managementRead: true,
      managementWrite: true,
      excludedSources: ['kms.amazonaws.com']
    })
    expect(await readTrailLogging(cloudTrailClient(url), arn('everything'))).toMatchObject({
      managementRead: true,
      managementWrite: true,
      excludedSources: []
    })
  })

  it('names the trail and the permissions it needs when the trail cannot be read', async () => {
    await expect(readTrailLogging(cloudTrailClient(url), arn('missing'))).rejects.toThrow(
      /trail-arn: cannot read the configuration of .*trail\/missing \(Unknown trail.*cloudtrail:GetTrail and cloudtrail:GetEventSelectors/
    )
  })

  function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise(resolve => {
      execFile(
        process.execPath,
        ['dist/cli.js', ...args],
        { maxBuffer: 64 * 1024 * 1024, env: { PATH: process.env.PATH ?? '', ...emulator.env() } },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr })
      )
    })
  }
  const sample = [
    'analyze',
    '--source',
    'cloudtrail',
    '--cloudtrail-path',
    'examples/data/cloudtrail/invictus-aws-dataset',
    '--authorization-details',
    'examples/authorization-details.json',
    '--roles',
    'stratus-red-team-ec2-steal-credentials-role',
    '--min-observation-days',
    '0',
    '--no-validate',
    '--format',
    'json'
  ]
  const unobservable = (report: JsonReportV1, action: string) =>
    report.roles[0] && unobservableReason(report.roles[0], action)

  it('the CLI reads the trail named by --trail-arn: what it does not log is unobservable, with the reason', async () => {
    const run = await cli([...sample, '--trail-arn', arn('writes-no-kms')])
    expect(run.stderr).not.toMatch(/cannot read/)
    const report = JSON.parse(run.stdout) as JsonReportV1
    expect(unobservable(report, 'ec2:DescribeVpcs')).toBe(
      `not logged: the trail does not log read-only management events (per the configuration of ${arn('writes-no-kms')})`
    )
    expect(report.roles[0]?.evidence?.trailLogging?.origin).toBe('trail')
  })

  it('offline, the trail options state the same facts, and the evidence says they are an assumption', async () => {
    const run = await cli([...sample, '--trail-read-write-type', 'WriteOnly'])
    const report = JSON.parse(run.stdout) as JsonReportV1
    expect(unobservable(report, 'ec2:DescribeVpcs')).toMatch(/per the trail options given \(an assumption/)
    const markdown = await cli([...sample.slice(0, -2), '--trail-read-write-type', 'WriteOnly'])
    expect(markdown.stdout.replace(/\\/g, '')).toMatch(
      /the trail logs write management events only \(per the trail options given/
    )
  })
})
