/**
 * granted-source iac through the CLI entry, on the real sample and the CloudFormation example project: roles linked
 * to the template, grantedFrom in the JSON report, the IaC diff in Markdown, and --write-iac applying it in place.
 */
import { describe, expect, it } from '@jest/globals'
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { EXIT } from '../../src/cli-main.js'
import type { JsonReportV1 } from '../../src/report/json.js'
import { runCliInProcess } from '../support/cli-in-process.js'
import { ACCOUNT } from '../support/cli-sample.js'

const TEMPLATE = 'iac/stratus-roles.yaml'
const GOLDEN = resolve('__tests__/iac/cloudformation/golden/stratus-detach-and-replace.diff')

/** A workspace holding a copy of the example template (the run may rewrite it). */
function workspace(): string {
  const dir = mkdtempSync(join(tmpdir(), 'iac-cli-'))
  cpSync(resolve('examples/iac/cloudformation/stratus-roles.yaml'), join(dir, TEMPLATE))
  return dir
}

/** The sample's logs and grants (by absolute path: the run is in a workspace), no minimum of observed days. */
function runIn(cwd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCliInProcess(
    [
      'analyze',
      '--source',
      'cloudtrail',
      '--cloudtrail-path',
      resolve('examples/data/cloudtrail/invictus-aws-dataset'),
      '--authorization-details',
      resolve('examples/authorization-details.json'),
      '--min-observation-days',
      '0',
      ...args
    ],
    cwd
  )
}

const STEAL = `arn:aws:iam::${ACCOUNT}:role/stratus-red-team-ec2-steal-credentials-role`

describe('granted-source iac (CLI)', () => {
  it('grants each role what its template says and reports where, and how it was linked', async () => {
    const dir = workspace()
    const roles = ['stratus-red-team-ec2-steal-credentials-role', 'stratus-red-team-ec2-enumerate-role'].join(
      '\n'
    )
    const { code, stdout } = await runIn(dir, [
      '--granted-source',
      'iac',
      '--iac-path',
      'iac',
      '--roles',
      roles,
      '--format',
      'json'
    ])
    expect(code).toBe(EXIT.failed)
    const report = JSON.parse(stdout) as JsonReportV1
    const steal = report.roles.find(r => r.arn === STEAL)
    expect(steal?.status).toBe('analyzed')
    expect(steal?.grantedFrom).toEqual([
      {
        kind: 'cloudformation',
        file: TEMPLATE,
        startLine: 20,
        endLine: 26,
        address: 'StealCredentialsRole.Policies[0]'
      }
    ])
    expect(steal?.iacLink).toBe(
      `linked by role name stratus-red-team-ec2-steal-credentials-role written in ${TEMPLATE}:7 (StealCredentialsRole); AWS-managed AmazonSSMManagedInstanceCore from ${resolve('examples/authorization-details.json')}`
    )
    const enumerate = report.roles.find(r => r.arn.endsWith('/stratus-red-team-ec2-enumerate-role'))
    expect(enumerate?.status).toBe('failed')
    expect(enumerate?.reason).toMatch(
      /^granted-source is iac but no role named stratus-red-team-ec2-enumerate-role/
    )
    // Nothing is written under the code's folder without --write-iac.
    expect(readFileSync(join(dir, TEMPLATE), 'utf8')).toBe(
      readFileSync('examples/iac/cloudformation/stratus-roles.yaml', 'utf8')
    )
  })

  it('shows the template diff in Markdown, and --write-iac applies exactly that edit in place', async () => {
    const dir = workspace()
    const args = ['--iac-path', 'iac', '--roles', 'stratus-red-team-ec2-steal-credentials-role']
    const shown = await runIn(dir, args)
    expect(shown.code).toBe(EXIT.ok)
    // The template's own policy narrowed in place; the AWS-managed policy detached and its needed part added inline.
    const diff = ['```diff', readFileSync(GOLDEN, 'utf8').trimEnd(), '```'].join('\n')
    expect(shown.stdout).toContain(
      `## Infrastructure code\n\nProposed edits of 1 file(s) (apply them with --write-iac):\n\n${diff}\n`
    )
    const before = readFileSync(join(dir, TEMPLATE), 'utf8')
    expect(before).toContain('Action: ec2:Describe* #')

    const written = await runIn(dir, [...args, '--write-iac', '--format', 'json'])
    expect(written.code).toBe(EXIT.ok)
    const after = readFileSync(join(dir, TEMPLATE), 'utf8')
    expect(after).toContain('Action: ec2:DescribeInstances #')
    expect(after).not.toContain('ManagedPolicyArns')
    expect(after).toContain('Type: AWS::IAM::RolePolicy')
    // Read again, the template grants only what the role needs: no excess is left, and nothing more to edit.
    const again = await runIn(dir, [...args, '--granted-source', 'iac', '--format', 'json'])
    const role = (JSON.parse(again.stdout) as JsonReportV1).roles.find(r => r.arn === STEAL)
    expect(role?.status).toBe('analyzed')
    expect(role?.excess).toEqual([])
    expect(role?.grantedFrom?.map(g => g.address)).toEqual([
      'StealCredentialsRole.Policies[0]',
      'StealCredentialsRoleAmazonSSMManagedInstanceCoreUsed'
    ])
  })

  it('shows the detach-and-replace edit of a role whose code attaches only an AWS-managed policy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'iac-cli-managed-'))
    mkdirSync(join(dir, 'iac'))
    writeFileSync(
      join(dir, 'iac/main.tf'),
      [
        'resource "aws_iam_role" "steal_credentials" {',
        '  name                = "stratus-red-team-ec2-steal-credentials-role"',
        '  assume_role_policy  = "{}"',
        '  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]',
        '}',
        ''
      ].join('\n')
    )
    const args = ['--granted-source', 'iac', '--iac-path', 'iac', '--roles', STEAL]
    const shown = await runIn(dir, args)
    expect(shown.code).toBe(EXIT.ok)
    expect(shown.stdout).toContain('Proposed edits of 1 file(s) (apply them with --write-iac):')
    expect(shown.stdout).toContain(
      '-  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]'
    )
  })

  it('refuses granted-source iac without iac-path, and a template that does not parse fails its roles by name', async () => {
    const dir = workspace()
    const usage = await runIn(dir, ['--granted-source', 'iac', '--roles', 'x'])
    expect(usage.code).toBe(EXIT.usage)
    expect(usage.stderr).toMatch(/^error: iac-path: required with granted-source: iac/)
    writeFileSync(join(dir, TEMPLATE), 'Resources:\n  R: {Type: AWS::IAM::Role\n')
    const broken = await runIn(dir, [
      '--granted-source',
      'iac',
      '--iac-path',
      'iac',
      '--roles',
      'stratus-red-team-ec2-steal-credentials-role',
      '--format',
      'json'
    ])
    const role = (JSON.parse(broken.stdout) as JsonReportV1).roles[0]
    expect(role?.status).toBe('failed')
    expect(role?.reason).toMatch(/not read: iac\/stratus-roles\.yaml:\d+: not a valid template/)
  })
})
