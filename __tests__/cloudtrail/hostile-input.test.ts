/**
 * What a log folder written by someone else can hold: files that are not CloudTrail, decompression bombs, endless
 * lines, links and pipes, records named after Object.prototype members, and windows that miss the records.
 * Every such thing is skipped with a reason or noted; none stops the scan, crashes it or goes unsaid.
 */
import { afterAll, describe, expect, test } from '@jest/globals'
import { execFileSync } from 'node:child_process'
import { symlinkSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { MAX_RECORD_TEXT } from '../../src/usage/cloudtrail/role-usage.js'
import { scanCloudTrail } from '../../src/usage/cloudtrail/scan.js'
import { STRATUS, invictusRecords, issuerOf, jsonFiles, tempDir } from './trail-fixtures.js'

const records = invictusRecords()
const body = JSON.stringify({ Records: records.slice(0, 20) })
/** The sample's first call a role made that was authorized. */
const authorizedRoleCall = (): Record<string, unknown> => {
  const call = records.find(
    r => issuerOf(r).includes(':role/') && !r.errorCode && r.eventType === 'AwsApiCall'
  )
  if (!call) throw new Error('the sample has no authorized call of a role')
  return call
}
const modes: [string, number | undefined][] = [
  ['whole', undefined],
  ['streamed', 0]
]

describe('hostile log folders', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  test('an empty folder reads no file and claims no window (never 1970)', async () => {
    tmp.write('empty/readme.txt', 'not a log')
    const scan = await scanCloudTrail({ path: `${tmp.dir}/empty` })
    expect(scan.filesRead).toBe(0)
    expect(scan.eventsRead).toBe(0)
    expect(scan.window).toEqual({ start: '', end: '' })
  })

  test.each(modes)(
    'JSON that is not CloudTrail is skipped with a reason and counted, never read as events (%s)',
    async (_mode, streamFromBytes) => {
      const dir = `${tmp.dir}/foreign`
      tmp.write('foreign/good.json', body)
      tmp.write('foreign/package.json', JSON.stringify({ name: 'x', version: '1.0.0' }))
      tmp.write('foreign/list.json', JSON.stringify([{ id: 1 }, { id: 2 }]))
      tmp.write('foreign/app.jsonl', '{"level":"info","msg":"a"}\n{"level":"warn","msg":"b"}\n')
      const scan = await scanCloudTrail({ path: dir, workers: 1 }, { streamFromBytes })
      expect(scan.filesRead).toBe(1)
      expect(scan.eventsRead).toBe(20)
      expect(scan.filesSkipped.map(f => f.file.slice(dir.length + 1))).toEqual([
        'app.jsonl',
        'list.json',
        'package.json'
      ])
      for (const f of scan.filesSkipped) expect(f.reason).toMatch(/^not CloudTrail JSON: .*"eventName"/)
      // Skipped files make every role's usage incomplete.
      expect([...scan.roles.values()].every(u => !u.complete)).toBe(true)
    }
  )

  test.each(modes)(
    'a gzip bomb is skipped with a reason, the rest is read (%s)',
    async (_mode, streamFromBytes) => {
      const dir = `${tmp.dir}/bomb-${String(streamFromBytes)}`
      tmp.write(`bomb-${String(streamFromBytes)}/good.json.gz`, gzipSync(body))
      tmp.write(`bomb-${String(streamFromBytes)}/bomb.json.gz`, gzipSync(Buffer.alloc(4 * 1024 * 1024, 0x20)))
      const scan = await scanCloudTrail(
        { path: dir, workers: 1 },
        { streamFromBytes, limits: { maxInflateRatio: 50, inflateRatioFloorBytes: 64 * 1024 } }
      )
      expect(scan.filesRead).toBe(1)
      expect(scan.eventsRead).toBe(20)
      expect(scan.filesSkipped).toHaveLength(1)
      expect(scan.filesSkipped[0]?.file).toMatch(/bomb\.json\.gz$/)
      expect(scan.filesSkipped[0]?.reason).toMatch(
        /^skipped: inflates past .*more than 50 times its compressed size/
      )
    }
  )

  test.each([0, 1])(
    'a compressed JSON-lines export that inflates past what is held whole is read a line at a time (%s workers)',
    async workers => {
      // Within the inflation ratio of real logs, but past maxWholeBytes once inflated: an export, not a bomb.
      const lines = records.map(r => JSON.stringify(r)).join('\n')
      const name = `export-${workers}`
      tmp.write(`${name}/export.jsonl.gz`, gzipSync(lines))
      const scan = await scanCloudTrail(
        { path: `${tmp.dir}/${name}`, workers },
        { limits: { maxWholeBytes: 64 * 1024 } }
      )
      expect(scan.filesSkipped).toEqual([])
      expect(scan.eventsRead).toBe(records.length)
    }
  )

  test.each(modes)(
    'a file too large to parse whole is skipped, not held in memory (%s)',
    async (_mode, streamFromBytes) => {
      const dir = `${tmp.dir}/large-${String(streamFromBytes)}`
      tmp.write(`large-${String(streamFromBytes)}/big.json`, JSON.stringify({ Records: records }))
      const scan = await scanCloudTrail(
        { path: dir, workers: 0 },
        { streamFromBytes, limits: { maxWholeBytes: 64 * 1024 } }
      )
      expect(scan.filesRead).toBe(0)
      expect(scan.filesSkipped[0]?.reason).toMatch(
        /^skipped: larger than 64 KiB(, too large to parse whole| and not one JSON object per line)$/
      )
    }
  )

  test.each(modes)(
    'lines over the cap are skipped and counted; the other lines are read (%s)',
    async (_mode, streamFromBytes) => {
      const lines = records
        .filter(r => JSON.stringify(r.userIdentity ?? {}).includes(':role/'))
        .slice(0, 10)
        .map(r => JSON.stringify(r))
      lines.splice(3, 0, `{"eventName":"${'x'.repeat(5000)}"}`)
      lines.push(`{"eventName":"${'y'.repeat(5000)}`)
      tmp.write(`long-${String(streamFromBytes)}/export.jsonl`, lines.join('\n'))
      const scan = await scanCloudTrail(
        { path: `${tmp.dir}/long-${String(streamFromBytes)}`, workers: 1 },
        { streamFromBytes, limits: { maxLineLength: 4096 } }
      )
      expect(scan.filesRead).toBe(1)
      expect(scan.eventsRead).toBe(10)
      expect(scan.notes).toContain('2 lines of JSON-lines files were longer than 4 KiB and were skipped')
      // A skipped line may hold any role's calls: no role's usage is complete.
      expect(scan.roles.size).toBeGreaterThan(0)
      for (const usage of scan.roles.values()) {
        expect(usage.complete).toBe(false)
        expect(usage.evidence.linesSkipped).toBe(2)
      }
    }
  )

  test('streamed lines that span many chunks are read whole, and the one past the cap is skipped', async () => {
    const padded = (n: number) => JSON.stringify({ ...records[0], padding: 'p'.repeat(n) })
    const lines = [padded(10), padded(300 * 1024), padded(10), padded(900 * 1024), padded(10)]
    tmp.write('chunks/export.jsonl', lines.join('\n'))
    const scan = await scanCloudTrail(
      { path: `${tmp.dir}/chunks`, workers: 0 },
      { streamFromBytes: 0, limits: { maxLineLength: 512 * 1024 } }
    )
    expect(scan.eventsRead).toBe(4)
    expect(scan.notes).toContain('1 lines of JSON-lines files were longer than 512 KiB and were skipped')
  })

  test('a record whose time no date can hold is undated, not a crash of the whole scan', async () => {
    const dated = records.find(r => typeof r.eventTime === 'string')!
    const odd = [1e300, -1e20, 9e15].map(eventTime => ({ ...dated, eventTime }))
    tmp.write('times/odd.json', JSON.stringify({ Records: [dated, ...odd] }))
    const scan = await scanCloudTrail({ path: `${tmp.dir}/times`, workers: 0 })
    expect(scan.eventsRead).toBe(4)
    expect(scan.notes).toContain('3 events had no readable time')
    const time = new Date(dated.eventTime as string).toISOString()
    expect(scan.window).toEqual({ start: time, end: time })
  })

  test('symbolic links and pipes in the folder are listed as skipped, never followed or read', async () => {
    const dir = `${tmp.dir}/links`
    tmp.write('links/real.json', body)
    symlinkSync(jsonFiles(STRATUS)[0] ?? '', `${dir}/elsewhere.json`)
    symlinkSync(STRATUS, `${dir}/more-logs`)
    execFileSync('mkfifo', [`${dir}/pipe.json`])
    const scan = await scanCloudTrail({ path: dir, workers: 1 })
    expect(scan.filesRead).toBe(1)
    expect(scan.eventsRead).toBe(20)
    expect(scan.filesSkipped.map(f => [f.file.slice(dir.length + 1), f.reason])).toEqual([
      ['elsewhere.json', 'skipped: a symbolic link (links are not followed)'],
      ['more-logs', 'skipped: a symbolic link (links are not followed)'],
      ['pipe.json', 'skipped: not a regular file']
    ])
  })

  test('event names and sources named after Object.prototype members are unmapped calls, not crashes', async () => {
    const base = authorizedRoleCall()
    const odd = [
      { eventSource: 's3.amazonaws.com', eventName: 'constructor' },
      { eventSource: 's3.amazonaws.com', eventName: '__proto__' },
      { eventSource: 'lambda.amazonaws.com', eventName: 'toString' },
      { eventSource: 'constructor', eventName: 'hasOwnProperty' },
      { eventSource: '__proto__.amazonaws.com', eventName: 'valueOf' }
    ].map(o => ({ ...base, ...o }))
    tmp.write('proto/odd.json', JSON.stringify({ Records: odd }))
    const scan = await scanCloudTrail({ path: `${tmp.dir}/proto`, workers: 0 })
    const usage = scan.roles.get(issuerOf(base))!
    expect(usage.actions).toEqual([])
    expect(usage.evidence.unmapped?.map(u => u.eventName).sort()).toEqual([
      '__proto__',
      'constructor',
      'hasOwnProperty',
      'toString',
      'valueOf'
    ])
  })

  test('fields of the wrong type do not cost the file its other events', async () => {
    const base = authorizedRoleCall()
    const odd = [
      { eventSource: { toString: 1 }, eventName: 'GetObject' },
      { eventType: { valueOf: 1, toString: 1 }, eventName: 'GetObject' },
      { errorCode: { toString: 1 }, errorMessage: 'is not authorized to perform' }
    ].map(o => ({ ...base, ...o }))
    tmp.write('typed/odd.json', JSON.stringify({ Records: [...odd, base] }))
    const scan = await scanCloudTrail({ path: `${tmp.dir}/typed`, workers: 0 })
    expect(scan.filesSkipped).toEqual([])
    expect(scan.eventsRead).toBe(4)
    expect(scan.roles.get(issuerOf(base))?.evidence.eventsMatched).toBe(4)
  })
})

describe('resource ARNs written to make a matcher backtrack', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  test("are checked against the action's ARN templates in linear time and never fit them", async () => {
    const base = authorizedRoleCall()
    const roleArn = issuerOf(base)
    // Lambda function ARNs are arn:${Partition}:lambda:${Region}:${Account}:function:${FunctionName}: three
    // placeholders before `:function:`. A regular expression with `.+` for each took about 15 s per ARN here.
    const hostile = Array.from({ length: 5 }, (_, i) => `arn:${':lambda:'.repeat(1000)}${i}`)
    const fitting = 'arn:aws:lambda:us-east-1:111122223333:function:app'
    const call = (eventName: string, arn: string) => ({
      ...base,
      eventSource: 'lambda.amazonaws.com',
      eventName,
      eventType: 'AwsApiCall',
      resources: [{ ARN: arn }]
    })
    const calls = [...hostile.map(arn => call('Invoke', arn)), call('GetFunction', fitting)]
    tmp.write('arns/calls.json', JSON.stringify({ Records: calls }))
    const scan = await scanCloudTrail({ path: `${tmp.dir}/arns`, workers: 0 })
    const actions = scan.roles.get(roleArn)!.actions
    // No hostile ARN fits a function ARN: those calls prove nothing narrower than `*`; the real one still fits.
    expect(actions.find(a => a.action === 'lambda:InvokeFunction')).toMatchObject({
      count: 5,
      resources: ['*']
    })
    expect(actions.find(a => a.action === 'lambda:GetFunction')).toMatchObject({
      count: 1,
      resources: [fitting]
    })
  })
})

describe('record text that enters the report', () => {
  const tmp = tempDir()
  afterAll(() => tmp.remove())

  test('is cut to a bounded length with an ellipsis, and a huge resource ARN is never kept', async () => {
    const base = authorizedRoleCall()
    const roleArn = issuerOf(base)
    const huge = (c: string) => c.repeat(100_000)
    const bucket = 'arn:aws:s3:::bucket'
    const calls = [
      // An event source no IAM service matches, and an event name no action has, each 100 KB long.
      { ...base, eventSource: `${huge('a')}.amazonaws.com`, eventName: 'Anything' },
      { ...base, eventSource: 'ec2.amazonaws.com', eventName: huge('B') },
      // A data event of a source nothing knows: its source is listed among the data events seen.
      { ...base, eventSource: `${huge('c')}.amazonaws.com`, eventName: 'Put', managementEvent: false },
      ...[bucket, `${bucket}${huge('d')}`].map(arn => ({
        ...base,
        eventSource: 's3.amazonaws.com',
        eventName: 'GetBucketPolicy',
        eventType: 'AwsApiCall',
        requestParameters: null,
        resources: [{ ARN: arn }]
      }))
    ]
    tmp.write('text/calls.json', JSON.stringify({ Records: calls }))
    const scan = await scanCloudTrail({ path: `${tmp.dir}/text`, workers: 0 })
    const usage = scan.roles.get(roleArn)!
    const evidence = JSON.stringify(usage.evidence)
    expect(evidence.length).toBeLessThan(5_000)
    const unmapped = usage.evidence.unmapped ?? []
    expect(unmapped).toHaveLength(3)
    for (const u of unmapped) {
      expect(u.eventSource.length).toBeLessThanOrEqual(MAX_RECORD_TEXT)
      expect(u.eventName.length).toBeLessThanOrEqual(MAX_RECORD_TEXT)
    }
    expect(unmapped.find(u => u.service === 'ec2')?.eventName).toBe(`${'B'.repeat(MAX_RECORD_TEXT - 1)}…`)
    expect(usage.evidence.notes.join('\n')).toContain(`(${'a'.repeat(MAX_RECORD_TEXT - 1)}…, `)
    expect(usage.evidence.dataEventsSeen).toEqual([`${'c'.repeat(MAX_RECORD_TEXT - 1)}…`])
    // The bucket that fits is not the only one the role touched: the action is judged on every resource.
    expect(usage.actions.find(a => a.action === 's3:GetBucketPolicy')).toMatchObject({
      count: 2,
      resources: ['*']
    })
  })
})

describe('since and until outside the records', () => {
  test('a window after the last record says so and claims no window', async () => {
    const scan = await scanCloudTrail({ path: STRATUS, since: new Date('2030-01-01'), workers: 0 })
    expect(scan.window).toEqual({ start: '', end: '' })
    expect(scan.notes.join('\n')).toMatch(
      /^since 2030-01-01T00:00:00.000Z is after the last record: no record is in the window \(the records span 2024-/m
    )
  })

  test('a window before the first record says so', async () => {
    const scan = await scanCloudTrail({ path: STRATUS, until: new Date('2001-01-01'), workers: 0 })
    expect(scan.window).toEqual({ start: '', end: '' })
    expect(scan.notes.join('\n')).toMatch(/until 2001-01-01T00:00:00.000Z is before the first record/)
  })

  test('a window wider than the records is narrowed to them, and the notes say where it starts and ends', async () => {
    const scan = await scanCloudTrail({
      path: STRATUS,
      since: new Date('2001-01-01'),
      until: new Date('2030-01-01'),
      workers: 0
    })
    expect(scan.window.start).toMatch(/^2024-/)
    expect(scan.notes.join('\n')).toMatch(
      /since 2001-01-01T00:00:00.000Z is before the first record: the window starts at 2024-/
    )
    expect(scan.notes.join('\n')).toMatch(
      /until 2030-01-01T00:00:00.000Z is after the last record: the window ends at 2024-/
    )
  })
})
