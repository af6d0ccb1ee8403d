import { describe, expect, it } from '@jest/globals'
import {
  buildActionConfig,
  buildCliConfig,
  ConfigError,
  parseRoleSelector,
  policyPathFor
} from '../../src/config.js'
import type { ActionSettings, CliSettings, Config } from '../../src/config.js'

const base = {
  roles: 'arn:aws:iam::111122223333:role/app-api',
  'trail-arn': 'arn:aws:cloudtrail:us-east-1:111122223333:trail/main',
  'access-role-arn': 'arn:aws:iam::111122223333:role/service-role/AccessAnalyzerMonitorServiceRole'
}

/** The action's configuration; with CLI-only options (`extras`), the CLI's. */
function config(
  inputs: Record<string, string>,
  extras: Record<string, string> = {}
): Config & Partial<ActionSettings & CliSettings> {
  const all: Record<string, string> = { ...base, ...inputs, ...extras }
  return Object.keys(extras).length > 0
    ? buildCliConfig(name => all[name], {})
    : buildActionConfig(name => all[name], {})
}

function failure(inputs: Record<string, string>, extras: Record<string, string> = {}): ConfigError {
  try {
    config(inputs, extras)
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError)
    return e as ConfigError
  }
  throw new Error('expected a ConfigError')
}

const localTrail: Record<string, string> = {
  source: 'cloudtrail',
  'cloudtrail-path': 'logs',
  'trail-arn': '',
  'access-role-arn': ''
}
const athena: Record<string, string> = {
  source: 'athena',
  'athena-table': 'cloudtrail.org_trail',
  'trail-arn': '',
  'access-role-arn': ''
}

describe('buildConfig', () => {
  it('applies the defaults of action.yml', () => {
    const c = config({})
    expect(c).toMatchObject({
      source: 'access-analyzer',
      mode: 'report',
      lookbackDays: 90,
      minObservationDays: 30,
      grantedSource: 'auto',
      failOn: 'never',
      keepSidPrefix: 'Keep',
      validate: true,
      allowIncomplete: false,
      awsRegion: 'us-east-1',
      audience: 'sts.amazonaws.com',
      timeoutMinutes: 45,
      prBranch: 'iam-least-privilege/proposals'
    })
    expect(c.roles).toEqual([
      { kind: 'arn', input: base.roles, accountId: '111122223333', path: '/', name: 'app-api' }
    ])
  })

  it('requires roles, naming the input', () => {
    const e = failure({ roles: '  \n ' })
    expect(e.input).toBe('roles')
    expect(e.message).toMatch(/^roles: required/)
  })

  it('parses role ARNs with paths, names and patterns, one per line', () => {
    const c = config({ roles: 'arn:aws:iam::111122223333:role/service/app/worker\napp-api\n  app-*  \n' })
    expect(c.roles).toEqual([
      {
        kind: 'arn',
        input: 'arn:aws:iam::111122223333:role/service/app/worker',
        accountId: '111122223333',
        path: '/service/app/',
        name: 'worker'
      },
      { kind: 'name', input: 'app-api' },
      { kind: 'pattern', input: 'app-*' }
    ])
  })

  it.each([
    ['mode', { mode: 'publish' }, /mode: "publish" is not allowed; use one of report, comment, pull-request/],
    ['lookback-days', { 'lookback-days': '0' }, /lookback-days: 0 is outside 1 to 400/],
    ['lookback-days', { 'lookback-days': '401' }, /outside 1 to 400/],
    [
      'lookback-days',
      { 'lookback-days': '91' },
      /91 is more than 90; only source access-advisor reads further back/
    ],
    ['lookback-days', { 'lookback-days': 'ninety' }, /not a whole number/],
    ['roles', { roles: 'arn:aws:iam::1111:role/x' }, /not a valid role ARN/],
    ['roles', { roles: 'arn:aws:s3:::bucket' }, /not a valid role ARN/],
    ['roles', { roles: 'bad name!' }, /neither a role ARN nor a role name/],
    [
      'cloudtrail-path',
      { ...localTrail, 'cloudtrail-path': '' },
      /cloudtrail-path: required with source: cloudtrail/
    ],
    [
      'source',
      { source: 'cloudtrail-lake' },
      /use one of access-analyzer, cloudtrail, access-advisor, unused-access, athena/
    ],
    ['source', { source: 'access-analyzer, nope' }, /"nope" is not allowed/],
    ['trail-arn', { 'trail-arn': '' }, /trail-arn: required with source: access-analyzer/],
    ['trail-arn', { 'trail-arn': 'arn:aws:s3:::bucket' }, /not a trail ARN/],
    ['access-role-arn', { 'access-role-arn': '' }, /access-role-arn: required/],
    ['validate', { validate: 'yes' }, /validate: "yes" is not a boolean/],
    ['fail-on', { 'fail-on': 'medium' }, /use one of never, excess, high/],
    ['granted-source', { 'granted-source': 'live' }, /use one of auto, iam, files/],
    ['aws-region', { 'aws-region': 'Europe' }, /not an AWS Region name/],
    ['trail-regions', { 'trail-regions': 'us-east-1, mars-1' }, /trail-regions: "mars-1"/],
    ['keep-actions', { 'keep-actions': 's3 GetObject' }, /keep-actions: "s3 GetObject"/],
    ['policy-path', { 'policy-path': '../secrets/{role}.json' }, /policy-path/],
    ['policy-path', { 'policy-path': 'iam/policy.json' }, /containing \{role\}/],
    ['role-to-assume', { 'role-to-assume': 'my-role' }, /role-to-assume: "my-role" is not a role ARN/],
    ['role-duration-seconds', { 'role-duration-seconds': '60' }, /outside 900 to 43200/],
    ['timeout-minutes', { 'timeout-minutes': '0' }, /outside 1 to 360/],
    ['pr-branch', { 'pr-branch': 'a..b' }, /not a valid branch name/],
    [
      'cloudtrail-path',
      { source: 'cloudtrail', 'cloudtrail-path': 's3://B', 'trail-arn': '', 'access-role-arn': '' },
      /not a valid s3:\/\/bucket\/prefix/
    ],
    ['athena-table', { ...athena, 'athena-table': '' }, /athena-table: required with source: athena/],
    [
      'athena-table',
      { ...athena, 'athena-table': 'logs.t; DROP TABLE x' },
      /athena-table: .* is not a table name/
    ],
    [
      'athena-max-scan-gb',
      { ...athena, 'athena-max-scan-gb': '-1' },
      /athena-max-scan-gb: "-1" is not a number/
    ],
    ['athena-workgroup', { ...localTrail, 'athena-workgroup': 'big' }, /only applies to source: athena/],
    [
      'cloudtrail-path',
      { ...athena, 'cloudtrail-path': 's3://bucket/x/' },
      /only with athena-create-table: true/
    ],
    [
      'cloudtrail-path',
      { ...athena, 'athena-create-table': 'true' },
      /cloudtrail-path: required with athena-create-table: true/
    ]
  ])('rejects a bad %s with one line naming it', (input, inputs, pattern) => {
    const e = failure(inputs)
    expect(e.input).toBe(input)
    expect(e.message).toMatch(pattern)
    expect(e.message).not.toContain('\n')
    expect(e.message.startsWith(`${input}: `)).toBe(true)
  })

  it('rejects bad CLI dates and an inverted window', () => {
    expect(failure(localTrail, { since: 'yesterday' }).input).toBe('since')
    expect(failure(localTrail, { since: '2026-11-02', until: '2026-11-01' }).message).toMatch(
      /not before until/
    )
    expect(failure({}, { format: 'html' }).message).toMatch(
      /format: "html" is not allowed; use one of markdown, json, sarif/
    )
  })

  it.each([
    ['cloudtrail-path', { 'cloudtrail-path': 'logs' }, {}, /only applies to source: cloudtrail/],
    ['since', {}, { since: '2026-11-01' }, /only applies to source: cloudtrail/],
    ['until', {}, { until: '2026-11-01' }, /only applies to source: cloudtrail/],
    [
      'access-role-arn',
      { ...localTrail, 'access-role-arn': base['access-role-arn'] },
      {},
      /only applies to source: access-analyzer/
    ],
    ['trail-regions', { ...localTrail, 'trail-regions': 'eu-west-1' }, {}, /local cloudtrail-path/],
    ['lookback-days', { ...localTrail, 'lookback-days': '30' }, {}, /local cloudtrail-path/]
  ])('refuses %s where the source does not use it', (input, inputs, extras, pattern) => {
    const e = failure(inputs, extras)
    expect(e.input).toBe(input)
    expect(e.message).toMatch(pattern)
    expect(e.message).toMatch(/; remove it$/)
  })

  it('takes several sources, in order, each once; the first is the report source', () => {
    const both = config({
      source: 'access-advisor,\n access-analyzer, access-advisor',
      'lookback-days': '400'
    })
    expect(both.sources).toEqual(['access-advisor', 'access-analyzer'])
    expect(both.source).toBe('access-advisor')
    expect(both.lookbackDays).toBe(400)
    // access-analyzer among them still needs its trail and service role.
    expect(failure({ source: 'access-advisor, access-analyzer', 'trail-arn': '' }).input).toBe('trail-arn')
  })

  it('access-advisor alone needs no trail and refuses the trail inputs', () => {
    const advisor = { source: 'access-advisor', 'trail-arn': '', 'access-role-arn': '' }
    expect(config({ ...advisor, 'lookback-days': '400' }).sources).toEqual(['access-advisor'])
    for (const [name, value] of [
      ['trail-arn', base['trail-arn']],
      ['trail-regions', 'eu-west-1'],
      ['access-role-arn', base['access-role-arn']],
      ['cloudtrail-path', 'logs']
    ] as const) {
      const e = failure({ ...advisor, [name]: value })
      expect(e.input).toBe(name)
      expect(e.message).toMatch(/; remove it$/)
    }
  })

  it('accepts trail-arn with source cloudtrail: it names the trail whose logging configuration is read', () => {
    expect(config({ ...localTrail, 'trail-arn': base['trail-arn'] }).trailArn).toBe(base['trail-arn'])
  })

  it('accepts what the source uses, and defaults passed as values (as the action passes them)', () => {
    expect(config({ ...localTrail, 'lookback-days': '90' }, { since: '2026-11-01' }).since).toEqual(
      new Date('2026-11-01T00:00:00Z')
    )
    const s3 = config({ ...localTrail, 'cloudtrail-path': 's3://bucket/p', 'trail-regions': 'eu-west-1' })
    expect(s3.trailRegions).toEqual(['eu-west-1'])
  })

  it('reads lists on newlines and commas, and the region from the environment', () => {
    const inputs: Record<string, string> = {
      ...base,
      'keep-actions': 'kms:Decrypt,\n s3:Get*',
      'trail-regions': 'eu-west-1\nus-east-2'
    }
    const c = buildActionConfig(name => inputs[name], { AWS_REGION: 'eu-central-1' })
    expect(c.keepActions).toEqual(['kms:Decrypt', 's3:Get*'])
    expect(c.trailRegions).toEqual(['eu-west-1', 'us-east-2'])
    expect(c.awsRegion).toBe('eu-central-1')
  })

  it('skips a blank AWS_REGION (an unset workflow variable), and names the variable a bad Region comes from', () => {
    const region = (env: NodeJS.ProcessEnv) => buildActionConfig(name => base[name as keyof typeof base], env)
    expect(region({ AWS_REGION: '', AWS_DEFAULT_REGION: 'eu-west-3' }).awsRegion).toBe('eu-west-3')
    expect(region({ AWS_REGION: ' ', AWS_DEFAULT_REGION: '' }).awsRegion).toBe('us-east-1')
    expect(() => region({ AWS_DEFAULT_REGION: 'Frankfurt' })).toThrow(
      'aws-region: "Frankfurt" (from AWS_DEFAULT_REGION) is not an AWS Region name such as us-east-1'
    )
    expect(() => buildActionConfig(name => ({ ...base, 'aws-region': 'eu' })[name], {})).toThrow(
      /^aws-region: "eu" is not an AWS Region name such as us-east-1$/
    )
  })

  it('accepts source cloudtrail without Access Analyzer inputs', () => {
    const inputs: Record<string, string> = {
      roles: '*',
      source: 'cloudtrail',
      'cloudtrail-path': 's3://my-trail-bucket/prefix'
    }
    const c = buildActionConfig(name => inputs[name], {})
    expect(c.source).toBe('cloudtrail')
    expect(c.cloudtrailPath).toBe('s3://my-trail-bucket/prefix')
  })

  it('treats the unexpanded token expression as no token', () => {
    expect(config({ 'github-token': '${{ github.token }}' }).githubToken).toBeUndefined()
    expect(config({ 'github-token': 'ghs_x' }).githubToken).toBe('ghs_x')
  })
})

describe('parseRoleSelector and policyPathFor', () => {
  it('keeps the input for messages', () => {
    expect(parseRoleSelector(' app-* ')).toEqual({ kind: 'pattern', input: 'app-*' })
  })
  it('expands the policy path', () => {
    expect(policyPathFor('iam/{account}/{role}.json', '111122223333', 'app')).toBe(
      'iam/111122223333/app.json'
    )
  })
})
