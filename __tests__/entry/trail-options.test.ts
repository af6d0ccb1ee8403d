/** The trail options: what a trail logs, stated offline for the CloudTrail source. */
import { describe, expect, test } from '@jest/globals'
import type { ConfigError } from '../../src/config.js'
import { buildCliConfig } from '../../src/config.js'

const cloudtrail = { roles: 'app', source: 'cloudtrail', 'cloudtrail-path': 'logs' }
const build = (inputs: Record<string, string>) =>
  buildCliConfig(name => ({ ...cloudtrail, ...inputs })[name], {})
const failure = (inputs: Record<string, string>): ConfigError => {
  try {
    build(inputs)
  } catch (error) {
    return error as ConfigError
  }
  throw new Error('no ConfigError')
}

describe('trail options', () => {
  test('absent: nothing is stated, the records decide', () => {
    expect(build({}).trailLogging).toBeUndefined()
  })

  test('stated: the read/write type and the excluded sources', () => {
    expect(
      build({
        'trail-read-write-type': 'WriteOnly',
        'trail-excluded-sources': 'kms.amazonaws.com\nrdsdata.amazonaws.com'
      }).trailLogging
    ).toEqual({ readWriteType: 'WriteOnly', excludedSources: ['kms.amazonaws.com', 'rdsdata.amazonaws.com'] })
  })

  test('bad values and conflicts get one-line errors naming the input', () => {
    expect(failure({ 'trail-read-write-type': 'Writes' }).input).toBe('trail-read-write-type')
    const source = failure({ 'trail-excluded-sources': 's3.amazonaws.com' })
    expect(source.message).toBe(
      'trail-excluded-sources: "s3.amazonaws.com" cannot be excluded from a trail; use kms.amazonaws.com or rdsdata.amazonaws.com'
    )
    const both = failure({
      'trail-arn': 'arn:aws:cloudtrail:eu-west-1:111122223333:trail/main',
      'trail-read-write-type': 'All'
    })
    expect(both.message).toMatch(
      /^trail-read-write-type: only with source: cloudtrail or athena and no trail-arn/
    )
  })
})
