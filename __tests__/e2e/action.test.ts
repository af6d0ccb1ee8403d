/**
 * End to end: the committed dist/index.js, run as a child process on Node 20 and on Node 24, against the AWS
 * emulator (Access Analyzer, IAM, STS), the GitHub emulator and the OIDC token endpoint.
 */
import type { JsonReportV1 } from '../../src/report/json.js'
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  awsInputs,
  expectSecretsMasked,
  pullRequestEvent,
  startWorld,
  stopWorld,
  TRAIL
} from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { awsManagedDocument, STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { errorLines, outputFile, runAction } from '../support/run-action.js'
import { S3Emulator } from '../support/s3-emulator.js'
import type { NodeVersion } from '../support/run-action.js'
import type { JsonReportV1 as ReportV1 } from '../../src/report/json.js'

describe.each<NodeVersion>(['node20', 'node24'])('dist/index.js on %s', node => {
  beforeAll(() => {
    if (!existsSync('dist/index.js')) throw new Error('dist/index.js is missing: run npm run bundle')
  })

  describe('scheduled run in pull-request mode', () => {
    let world: World
    beforeAll(async () => {
      world = await startWorld()
    })
    afterAll(() => stopWorld(world))

    it('opens one least-privilege pull request, then fails the step on the failing role; a rerun changes nothing', async () => {
      const inputs = {
        ...awsInputs(world, [STRATUS_ROLES.stealCredentials, STRATUS_ROLES.enumerate, 'no-such-role']),
        mode: 'pull-request',
        'pr-labels': 'security'
      }
      const first = await runAction({ node, inputs, env: world.env })
      // On Node 20 the AWS SDK warns that it will need Node 22 next year; nothing else may reach stderr.
      expect(
        first.stderr.replace(
          /\(node:\d+\) Warning: NodeVersionSupportWarning[\s\S]*?to show where the warning was created\)\n/,
          ''
        )
      ).toBe('')
      // Everything is published first; a role that failed then fails the step (the CLI exits 1 alike).
      expect(first.code).toBe(1)
      expect(errorLines(first)).toEqual([
        '::error::1 of 3 role(s) failed (no-such-role); the first: role "no-such-role" does not exist in this account (IAM NoSuchEntity)'
      ])
      expectSecretsMasked(first.stdout)
      expect(first.stdout).toMatch(/::warning::no-such-role: role "no-such-role" does not exist/)
      expect(first.outputs).toMatchObject({ 'roles-analyzed': '2', 'roles-failed': '1' })
      expect(Number(first.outputs['excess-count'])).toBeGreaterThan(20)
      expect(first.outputs['pull-request-url']).toMatch(/\/octo-org\/infra\/pull\/\d+$/)
      expect(world.aws.count('StartPolicyGeneration')).toBe(2)
      expect(world.aws.count('AssumeRoleWithWebIdentity')).toBe(1)

      const [pr] = world.github.pullRequests()
      expect(world.github.pullRequests()).toHaveLength(1)
      expect(pr).toMatchObject({ head: 'iam-least-privilege/proposals', base: 'main', labels: ['security'] })
      expect(pr?.body).toContain('stratus-red-team-ec2-steal-credentials-role')
      const account = world.aws.accountId
      const file = world.github.readFile(
        'iam-least-privilege/proposals',
        `iam/least-privilege/${account}/${STRATUS_ROLES.stealCredentials}.json`
      )
      const proposal = JSON.parse(file ?? 'null') as { Statement: { Action: string[] }[] }
      const actions = proposal.Statement.flatMap(s => s.Action)
      // What the role used stays; what AmazonSSMManagedInstanceCore and ec2:Describe* grant beyond it goes.
      expect(actions).toEqual(
        expect.arrayContaining(['ec2:DescribeInstances', 'ssm:UpdateInstanceInformation', 'ssm:GetDocument'])
      )
      expect(actions).not.toContain('ssm:GetParameter')
      expect(actions).not.toContain('ec2:DescribeVolumes')
      expect(actions).not.toContain('sts:GetCallerIdentity')

      const report = JSON.parse(readFileSync(outputFile(first, 'report'), 'utf8')) as JsonReportV1
      expect(report).toMatchObject({
        version: 1,
        source: 'access-analyzer',
        summary: { roles: 3, analyzed: 2, failed: 1 }
      })
      expect(
        (JSON.parse(readFileSync(outputFile(first, 'sarif'), 'utf8')) as { version: string }).version
      ).toBe('2.1.0')
      // Every proposal was checked by Access Analyzer too, and passed.
      const steal = report.roles.find(r => r.arn.endsWith(STRATUS_ROLES.stealCredentials))
      expect(steal?.checks).toMatchObject({ checkNoNewAccess: 'PASS', evaluator: 'PASS' })
      expect(world.aws.count('CheckNoNewAccess')).toBe(2)
      expect(world.aws.count('ValidatePolicy')).toBeGreaterThanOrEqual(2)
      expect(first.summary).toContain('stratus-red-team-ec2-enumerate-role')
      expect(first.summary).toContain('no-such-role')
      const commits = world.github.createdCommits.length

      const second = await runAction({ node, inputs, env: world.env })
      expect(second.code).toBe(1)
      expect(second.outputs['pull-request-url']).toBe(first.outputs['pull-request-url'])
      expect(world.github.pullRequests()).toHaveLength(1)
      expect(world.github.createdCommits).toHaveLength(commits)
      // The rerun reused the finished generation jobs instead of spending quota on new ones.
      expect(world.aws.count('StartPolicyGeneration')).toBe(2)
      expect(world.github.validationFailures).toEqual([])
    })

    it('fails with one line naming the missing permission when GitHub answers 403', async () => {
      world.github.denyPermission('git/create-ref', 5)
      world.github.denyPermission('git/update-ref', 5)
      world.github.denyPermission('git/create-tree', 5)
      const run = await runAction({
        node,
        inputs: {
          ...awsInputs(world, [STRATUS_ROLES.enumerate]),
          mode: 'pull-request',
          'pr-branch': 'other-branch'
        },
        env: world.env
      })
      world.github.clearFaults()
      expect(run.code).toBe(1)
      const errors = errorLines(run)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(/contents: write/)
      // The job summary was still written before the publishing step failed.
      expect(run.summary).toContain('stratus-red-team-ec2-enumerate-role')
    })
  })

  describe('CloudTrail source on S3', () => {
    let world: World
    let s3: S3Emulator
    let s3Url: string
    beforeAll(async () => {
      world = await startWorld()
      s3 = new S3Emulator()
      s3Url = await s3.start()
      // The real sample records, in the S3 layout a trail delivers them in. Derived in code: each eventTime is moved
      // forward by a whole number of days so that the records fall inside the action's lookback window.
      const dir = 'examples/data/cloudtrail/invictus-aws-dataset/CloudTrail'
      const days = Math.floor((Date.now() - Date.parse('2023-07-10T00:00:00Z')) / 86_400_000) - 2
      const shift = (time: string) =>
        new Date(Date.parse(time) + days * 86_400_000).toISOString().replace('.000Z', 'Z')
      const day = shift('2023-07-10T00:00:00Z').slice(0, 10).replace(/-/g, '/')
      for (const file of readdirSync(dir)) {
        const { Records } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
          Records: { eventTime: string }[]
        }
        const moved = Records.map(r => ({ ...r, eventTime: shift(r.eventTime) }))
        s3.put(
          'trail-bucket',
          `AWSLogs/123837392027/CloudTrail/us-east-1/${day}/${file}.gz`,
          gzipSync(JSON.stringify({ Records: moved }))
        )
      }
    })
    afterAll(async () => {
      await stopWorld(world)
      await s3.stop()
    })

    it('reads the trail with the role it assumed, and judges the policy file of the repository', async () => {
      const role = 'arn:aws:iam::123837392027:role/stratus-red-team-ec2-enumerate-role'
      const core = awsManagedDocument('AmazonSSMManagedInstanceCore')
      const run = await runAction({
        node,
        inputs: {
          roles: role,
          'role-to-assume': world.aws.roleArn(STRATUS_ROLES.githubActions),
          'aws-region': 'us-east-1',
          source: 'cloudtrail',
          'cloudtrail-path': 's3://trail-bucket/AWSLogs/',
          'granted-source': 'files',
          'min-observation-days': '0'
        },
        env: { ...world.env, AWS_ENDPOINT_URL_S3: s3Url },
        workspace: {
          'iam/least-privilege/123837392027/stratus-red-team-ec2-enumerate-role.json': JSON.stringify(core)
        }
      })
      expect(run.code).toBe(0)
      expect(world.aws.count('AssumeRoleWithWebIdentity')).toBe(1)
      expect(s3.requests.length).toBeGreaterThan(55)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
      expect(report.roles[0]).toMatchObject({ arn: role, status: 'analyzed', policyFileInRepository: true })
      expect(report.roles[0]?.used).toContain('ssm:UpdateInstanceInformation')
    })

    it('fails a role whose policy file exists but is not valid JSON, instead of judging the live policy', async () => {
      const before = world.aws.count('ListRolePolicies')
      const run = await runAction({
        node,
        inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), 'granted-source': 'auto' },
        env: world.env,
        workspace: {
          [`iam/least-privilege/${world.aws.accountId}/${STRATUS_ROLES.enumerate}.json`]:
            '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},]}'
        }
      })
      expect(run.code).toBe(1)
      expect(world.aws.count('ListRolePolicies')).toBe(before)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as JsonReportV1
      expect(report.roles[0]?.status).toBe('failed')
      expect(report.roles[0]?.reason).toMatch(/stratus-red-team-ec2-enumerate-role\.json: not valid JSON/)
    })
  })

  describe('cancellation', () => {
    let world: World
    beforeAll(async () => {
      world = await startWorld()
    })
    afterAll(() => stopWorld(world))

    it('on SIGTERM cancels only the job it started and still publishes what is known', async () => {
      const arn = world.aws.roleArn(STRATUS_ROLES.enumerate)
      const script = world.aws.generation(arn)
      world.aws.setGeneration(arn, { actions: script?.actions ?? [], stuck: true })
      const run = await runAction({
        node,
        inputs: awsInputs(world, [STRATUS_ROLES.enumerate]),
        env: world.env,
        onSpawn: child => {
          const poll = setInterval(() => {
            if (world.aws.count('StartPolicyGeneration') > 0) {
              clearInterval(poll)
              child.kill('SIGTERM')
            }
          }, 50)
          child.on('close', () => clearInterval(poll))
        }
      })
      expect(world.aws.cancelledJobs()).toHaveLength(1)
      expect(run.stdout).toMatch(/received SIGTERM/)
      expect(run.summary).toContain(STRATUS_ROLES.enumerate)
      expect(run.outputs['roles-failed']).toBe('1')
      expect(run.code).toBe(1)
    })
  })

  describe('pull-request gate in comment mode', () => {
    let world: World
    beforeAll(async () => {
      world = await startWorld()
    })
    afterAll(() => stopWorld(world))

    it('judges the policy file of the pull request, comments once, and fails on unused high-risk access', async () => {
      const number = world.github.addIssue()
      const account = world.aws.accountId
      // The pull request adds s3:* to the role's policy file (derived in code from the real managed policy).
      const core = awsManagedDocument('AmazonSSMManagedInstanceCore') as {
        Version: string
        Statement: object[]
      }
      const edited = {
        ...core,
        Statement: [...core.Statement, { Effect: 'Allow', Action: 's3:*', Resource: '*' }]
      }
      const payload = {
        number,
        pull_request: {
          number,
          head: { ref: 'widen', repo: { full_name: 'octo-org/infra' } },
          base: { ref: 'main', repo: { full_name: 'octo-org/infra' } }
        }
      }
      const options = {
        node,
        eventName: 'pull_request',
        payload,
        inputs: { ...awsInputs(world, [STRATUS_ROLES.enumerate]), mode: 'comment', 'fail-on': 'high' },
        env: world.env,
        workspace: {
          [`iam/least-privilege/${account}/${STRATUS_ROLES.enumerate}.json`]: JSON.stringify(edited, null, 2)
        }
      }
      const first = await runAction(options)
      expect(first.code).toBe(1)
      const errors = errorLines(first)
      expect(errors).toHaveLength(1)
      expect(errors[0]).toMatch(/excess/i)
      const comments = world.github.commentsOn(number)
      expect(comments).toHaveLength(1)
      expect(comments[0]?.body).toContain('s3:PutObject')
      expect(first.outputs['comment-url']).toMatch(/#issuecomment-\d+$/)
      // The gate used the file, not the live policies.
      expect(world.aws.count('ListRolePolicies')).toBe(0)

      const second = await runAction(options)
      expect(second.code).toBe(1)
      expect(world.github.commentsOn(number)).toHaveLength(1)
      expect(second.outputs['comment-url']).toBe(first.outputs['comment-url'])
      expect(world.github.validationFailures).toEqual([])
    })
  })

  describe('CloudTrail source with an empty log folder', () => {
    it('judges every role insufficient evidence, naming the folder, and never claims a 1970 window', async () => {
      const empty = mkdtempSync(join(tmpdir(), 'empty-trail-'))
      const arn = 'arn:aws:iam::123837392027:role/stratus-red-team-ec2-enumerate-role'
      const run = await runAction({
        node,
        inputs: {
          roles: arn,
          source: 'cloudtrail',
          'cloudtrail-path': empty,
          'granted-source': 'files',
          'min-observation-days': '0'
        },
        workspace: {
          'iam/least-privilege/123837392027/stratus-red-team-ec2-enumerate-role.json': JSON.stringify(
            awsManagedDocument('AmazonSSMManagedInstanceCore')
          )
        }
      })
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as ReportV1
      expect(report.roles[0]).toMatchObject({
        arn,
        status: 'insufficient-evidence',
        window: { start: '', end: '' }
      })
      expect(report.roles[0]?.reason).toBe(
        `cloudtrail-path: no CloudTrail log file was read from ${empty} (no .json or .json.gz file is there); point it at the folder or s3:// prefix your trail delivers to (AWSLogs/...)`
      )
      expect(report.roles[0]?.complete).toBe(false)
      expect(run.summary).not.toMatch(/1970|reports complete data/)
      expect(run.summary).toMatch(/no record in the window/)
      expect(run.code).toBe(0)
    })
  })

  describe('pull-request gate judging what the pull request adds', () => {
    let world: World
    const SECRET_A = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-db-AbCdEf'
    const allow = (Action: unknown, Resource: unknown = '*', extra: object = {}) => ({
      Effect: 'Allow',
      Action,
      Resource,
      ...extra
    })
    const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement }, null, 2)
    const reads = { Sid: 'Reads', ...allow('s3:GetObject', 'arn:aws:s3:::app-data/*') }
    const usedSecret = allow('secretsmanager:GetSecretValue', SECRET_A)
    const file = (role: string) => `iam/least-privilege/111122223333/${role}.json`
    // Base and head of each role's policy file: the base is committed to the default branch of the repository.
    const base: Record<string, string> = {
      'app-keep': policy(reads),
      'app-cond': policy(reads),
      'app-empty-cond': policy(reads),
      'app-widen': policy(reads, usedSecret),
      'app-unobservable': policy(reads),
      'app-remove': policy(reads, allow('s3:*', 'arn:aws:s3:::app-data/*')),
      'app-used': policy(reads),
      'app-kept': policy(reads, { Sid: 'KeepBreakGlass', ...allow('iam:*') }),
      'app-deny': policy(allow('*'), {
        Effect: 'Deny',
        Action: 'iam:*',
        Resource: '*',
        Condition: { BoolIfExists: { 'aws:MultiFactorAuthPresent': 'false' } }
      }),
      'app-tokenless': policy(reads)
    }
    const head: Record<string, string> = {
      'app-keep': policy(reads, { Sid: 'KeepAdmin', ...allow('*') }),
      'app-cond': policy(
        reads,
        allow('*', '*', {
          Condition: { StringLike: { 'aws:PrincipalArn': '*' }, Bool: { 'aws:SecureTransport': 'true' } }
        })
      ),
      'app-empty-cond': policy(reads, allow('iam:*', '*', { Condition: { StringEquals: {} } })),
      'app-widen': policy(reads, allow('secretsmanager:GetSecretValue', '*')),
      'app-unobservable': policy(
        reads,
        allow(['iam:PassRole', 'lambda:InvokeFunction', 's3:PutObject', 'sqs:SendMessage'])
      ),
      'app-new': policy(allow('*')),
      'app-remove': policy(reads),
      'app-used': policy(reads, usedSecret, allow('s3:PutObject', 'arn:aws:s3:::app-data/*')),
      'app-kept': policy({ Sid: 'KeepBreakGlass', ...allow('iam:*') }),
      'app-deny': policy(allow('*')),
      'app-tokenless': policy(reads, { Sid: 'KeepAdmin', ...allow('*') })
    }
    let baseSha: string

    beforeAll(async () => {
      world = await startWorld()
      for (const role of [...Object.keys(base), 'app-link']) {
        world.aws.addRole({
          name: role,
          inline: { current: JSON.parse(base[role] ?? policy(reads)) as object },
          generation: {
            actions: [
              { action: 's3:GetObject', resources: ['arn:aws:s3:::app-data/report.csv'] },
              { action: 'secretsmanager:GetSecretValue', resources: [SECRET_A] },
              ...(role === 'app-used'
                ? [{ action: 's3:PutObject', resources: ['arn:aws:s3:::app-data/out.csv'] }]
                : [])
            ],
            isComplete: true
          }
        })
      }
      // Finished generations over the lookback window, as a previous run leaves them: reused, nothing to wait for.
      const end = Date.now()
      for (const role of [...Object.keys(base), 'app-link']) {
        world.aws.addForeignJob({
          principalArn: world.aws.roleArn(role),
          status: 'SUCCEEDED',
          trailArn: TRAIL,
          window: { start: new Date(end - 90 * 86_400_000).toISOString(), end: new Date(end).toISOString() }
        })
      }
      baseSha = world.github.pushFiles(
        'main',
        Object.fromEntries(Object.entries(base).map(([role, text]) => [file(role), text])),
        'Policy files'
      )
    })
    afterAll(() => stopWorld(world))

    const gateRun = (
      roles: string[],
      workspace: Record<string, string | { symlink: string }>,
      extraEnv: Record<string, string> = {},
      extraInputs: Record<string, string> = {}
    ) => {
      const number = world.github.addIssue()
      return runAction({
        node,
        ...pullRequestEvent(number, baseSha),
        inputs: {
          ...awsInputs(world, roles),
          'trail-arn': TRAIL,
          mode: 'comment',
          'fail-on': 'high',
          'keep-sid-prefix': 'Keep',
          ...extraInputs
        },
        env: { ...world.env, ...extraEnv },
        workspace
      }).then(run => ({ run, comment: world.github.commentsOn(number)[0]?.body ?? '' }))
    }

    it('fails on every bypass: Keep Sid, trivial and empty conditions, widened resources, unobservable writes, a new role file, a symbolic link', async () => {
      const outside = mkdtempSync(join(tmpdir(), 'outside-'))
      writeFileSync(join(outside, 'environ'), 'AWS_SECRET=hunter2-\u001b[31m')
      const bypasses = ['app-keep', 'app-cond', 'app-empty-cond', 'app-widen', 'app-unobservable']
      // The checkout holds every policy file: the base version, except where this pull request changes it.
      const { run, comment } = await gateRun(['app-*'], {
        ...Object.fromEntries(Object.entries(base).map(([role, text]) => [file(role), text])),
        ...Object.fromEntries([...bypasses, 'app-new'].map(role => [file(role), head[role] as string])),
        [file('app-link')]: { symlink: join(outside, 'environ') }
      })
      expect(run.code).toBe(1)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as {
        roles: {
          arn: string
          status: string
          reason?: string
          change?: {
            added: { action: string; risk?: string; judgement: string; resources: string[] }[]
            nonRestrictingConditions: string[]
          }
        }[]
      }
      const byName = (name: string) => report.roles.find(r => r.arn.endsWith(`/${name}`))
      const added = (name: string) => byName(name)?.change?.added ?? []
      const tripping = (name: string) => added(name).filter(a => a.risk && a.judgement !== 'used')
      for (const role of [...bypasses, 'app-new']) expect(tripping(role).length).toBeGreaterThan(0)
      expect(added('app-keep').map(a => a.action)).toContain('iam:CreatePolicyVersion')
      expect(byName('app-cond')?.change?.nonRestrictingConditions).toHaveLength(1)
      expect(added('app-widen')).toEqual([
        expect.objectContaining({
          action: 'secretsmanager:GetSecretValue',
          resources: ['*'],
          judgement: 'excess',
          risk: 'secret-read-on-all-resources'
        })
      ])
      expect(tripping('app-unobservable').map(a => a.action)).toEqual(
        expect.arrayContaining(['iam:PassRole', 'lambda:InvokeFunction', 's3:PutObject', 'sqs:SendMessage'])
      )
      expect(byName('app-new')).toMatchObject({ status: 'insufficient-evidence' })
      expect(byName('app-new')?.reason).toMatch(/new role: unverified/)
      expect(byName('app-link')).toMatchObject({ status: 'failed' })
      expect(byName('app-link')?.reason).toMatch(/symbolic link/)
      const error = errorLines(run)
      expect(error).toHaveLength(1)
      for (const role of [...bypasses, 'app-new', 'app-link']) expect(error[0]).toContain(role)
      for (const role of ['app-remove', 'app-used', 'app-kept']) expect(error[0]).not.toContain(role)
      // The comment leads with what the pull request adds, and nothing of the linked file ever leaves the job.
      expect(comment.indexOf('What this pull request adds')).toBeGreaterThan(0)
      expect(comment.indexOf('What this pull request adds')).toBeLessThan(comment.indexOf('| Role |'))
      expect(comment).not.toMatch(/All clear/)
      for (const text of [comment, run.summary, run.stdout, run.stderr])
        expect(text).not.toMatch(/AWS\\?_SECRET/)
      expect(world.github.validationFailures).toEqual([])
    })

    it('fails when a pull request drops a conditional Deny, or adds a policy file whose name differs only in case', async () => {
      const { run } = await gateRun(['app-deny', 'app-remove'], {
        [file('app-deny')]: head['app-deny'] as string,
        [file('app-remove')]: head['app-remove'] as string,
        [file('App-Remove')]: policy(allow('*'))
      })
      expect(run.code).toBe(1)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as ReportV1
      const change = (name: string) => report.roles.find(r => r.arn.endsWith(`/${name}`))?.change
      expect(change('app-deny')?.added.find(a => a.action === 'iam:CreatePolicyVersion')).toMatchObject({
        risk: 'privilege-escalation',
        judgement: 'excess'
      })
      expect(change('App-Remove')?.added.length).toBeGreaterThan(0)
      const error = run.stdout.split('\n').find(line => line.startsWith('::error::')) ?? ''
      expect(error).toContain('app-deny')
      expect(error).toContain('App-Remove')
    })

    it('trusts no Keep statement of the pull request when the base cannot be read', async () => {
      const { run } = await gateRun(
        ['app-tokenless'],
        { [file('app-tokenless')]: head['app-tokenless'] as string },
        {},
        { 'github-token': '', mode: 'report' }
      )
      expect(run.stdout).toMatch(/github-token is empty/)
      expect(run.code).toBe(1)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as ReportV1
      const role = report.roles.find(r => r.arn.endsWith('/app-tokenless'))
      expect(role?.kept).toBeUndefined()
      expect(role?.excess.map(e => e.action)).toContain('iam:CreatePolicyVersion')
    })

    it('passes a pull request that removes access, adds used access, or leaves a base Keep statement unchanged', async () => {
      const roles = ['app-remove', 'app-used', 'app-kept']
      const { run, comment } = await gateRun(
        roles,
        Object.fromEntries(roles.map(role => [file(role), head[role] as string]))
      )
      expect(errorLines(run)).toEqual([])
      expect(run.code).toBe(0)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as {
        roles: {
          arn: string
          kept?: { statements: string[] }
          change?: { added: { action: string; judgement: string }[] }
        }[]
      }
      const byName = (name: string) => report.roles.find(r => r.arn.endsWith(`/${name}`))
      expect(byName('app-remove')?.change?.added).toEqual([])
      expect(byName('app-used')?.change?.added.map(a => [a.action, a.judgement])).toEqual([
        ['s3:PutObject', 'used'],
        ['secretsmanager:GetSecretValue', 'used']
      ])
      expect(byName('app-kept')?.kept?.statements).toEqual(['app-kept#KeepBreakGlass'])
      expect(comment).toContain('KeepBreakGlass')
    })
  })
})

/** Review state across runs; once, on the runtime the action declares (node24), to keep the suite short. */
describe('dist/index.js keeps the proposal pull request through failed runs', () => {
  const node: NodeVersion = 'node24'
  const branch = 'iam-least-privilege/proposals'
  let world: World
  let inputs: Record<string, string>
  beforeAll(async () => {
    world = await startWorld()
    inputs = {
      ...awsInputs(world, [STRATUS_ROLES.stealCredentials, STRATUS_ROLES.enumerate]),
      mode: 'pull-request'
    }
  })
  afterAll(() => stopWorld(world))

  const fileOf = (role: string) => `iam/least-privilege/${world.aws.accountId}/${role}.json`
  /** What a reviewer sees: the pull requests and where the proposal branch points. */
  const snapshot = () => ({ pulls: world.github.pullRequests(), head: world.github.branchHead(branch) })
  /** Each failure scenario starts from an open proposal (an earlier scenario may have lost it). */
  const openProposal = async () => {
    if (world.github.pullRequests().some(pr => pr.state === 'open')) return snapshot()
    expect((await runAction({ node, inputs, env: world.env })).code).toBe(0)
    return snapshot()
  }
  const getRoleFault = (code: string, status: number, role?: string) =>
    world.aws.fault({
      operation: 'GetRole',
      status,
      code,
      times: 50,
      ...(role ? { match: params => params.RoleName === role } : {})
    })

  it('opens the pull request on a successful run', async () => {
    const run = await runAction({ node, inputs, env: world.env })
    expect(run.code).toBe(0)
    expect(world.github.pullRequests()).toMatchObject([{ number: 1, state: 'open' }])
    expect(world.github.readFile(branch, fileOf(STRATUS_ROLES.enumerate))).toBeDefined()
    expect(world.github.readFile(branch, fileOf(STRATUS_ROLES.stealCredentials))).toBeDefined()
  })

  it('leaves the pull request open and unchanged after a throttling outage', async () => {
    const before = await openProposal()
    getRoleFault('Throttling', 400)
    const run = await runAction({ node, inputs, env: world.env })
    world.aws.clearFaults()
    expect(run.outputs['roles-analyzed']).toBe('0')
    expect(snapshot()).toEqual(before)
    // An upload without results would close every code scanning alert: the upload step is skipped instead.
    expect(run.outputs.sarif).toBe('')
    expect(run.stdout).toMatch(/^::notice::no role was analyzed in this run/m)
    expect(run.summary).toMatch(
      /nothing was published: the pull request of an earlier run was left as it was/
    )
  })

  it('leaves it unchanged when the daily policy-generation quota is spent', async () => {
    const before = await openProposal()
    // No earlier job can be reused, and every start is refused for the daily quota.
    world.aws.fault({
      operation: 'ListPolicyGenerations',
      status: 403,
      code: 'AccessDeniedException',
      times: 50
    })
    world.aws.fault({
      operation: 'StartPolicyGeneration',
      status: 402,
      code: 'ServiceQuotaExceededException',
      message: 'Policy generation daily quota exceeded.',
      times: 50
    })
    const run = await runAction({ node, inputs, env: world.env })
    world.aws.clearFaults()
    expect(run.stdout).toMatch(/daily Access Analyzer policy-generation quota is spent/)
    expect(run.outputs['roles-analyzed']).toBe('0')
    expect(snapshot()).toEqual(before)
  })

  it('leaves it unchanged when the job is cancelled before any role was analyzed', async () => {
    const before = await openProposal()
    // New jobs that never finish: the run is cancelled while the first one runs.
    const scripts = [STRATUS_ROLES.stealCredentials, STRATUS_ROLES.enumerate].map(role => {
      const arn = world.aws.roleArn(role)
      const script = world.aws.generation(arn)
      world.aws.setGeneration(arn, { actions: script?.actions ?? [], stuck: true })
      return { arn, script }
    })
    world.aws.fault({
      operation: 'ListPolicyGenerations',
      status: 403,
      code: 'AccessDeniedException',
      times: 50
    })
    const started = world.aws.count('StartPolicyGeneration')
    const run = await runAction({
      node,
      inputs,
      env: world.env,
      onSpawn: child => {
        const poll = setInterval(() => {
          if (world.aws.count('StartPolicyGeneration') > started) {
            clearInterval(poll)
            child.kill('SIGTERM')
          }
        }, 20)
        child.on('close', () => clearInterval(poll))
      }
    })
    world.aws.clearFaults()
    for (const { arn, script } of scripts) if (script) world.aws.setGeneration(arn, script)
    expect(run.stdout).toMatch(/received SIGTERM/)
    expect(run.outputs['roles-analyzed']).toBe('0')
    expect(snapshot()).toEqual(before)
  })

  it("keeps a failing role's file on the branch and names it in the body", async () => {
    await openProposal()
    const file = fileOf(STRATUS_ROLES.enumerate)
    const content = world.github.readFile(branch, file)
    getRoleFault('AccessDenied', 403, STRATUS_ROLES.enumerate)
    const run = await runAction({ node, inputs, env: world.env })
    world.aws.clearFaults()
    expect(run.outputs).toMatchObject({ 'roles-analyzed': '1', 'roles-failed': '1' })
    expect(world.github.readFile(branch, file)).toBe(content)
    const [pr] = world.github.pullRequests()
    expect(pr).toMatchObject({ number: 1, state: 'open' })
    expect(pr?.body).toContain('Not re-judged in this run')
    expect(pr?.body).toContain(`\`${file}\``)
  })

  it('reopens the closed pull request whose branch still exists instead of opening another', async () => {
    world.github.closePullRequest(1)
    const run = await runAction({ node, inputs, env: world.env })
    expect(run.code).toBe(0)
    expect(world.github.pullRequests()).toMatchObject([{ number: 1, state: 'open' }])
    expect(run.outputs['pull-request-url']).toMatch(/\/pull\/1$/)
    expect(world.github.validationFailures).toEqual([])
  })
})
