/**
 * End to end through the committed dist/index.js: pull-request mode on a workspace whose roles are defined in a
 * CloudFormation template or in Terraform edits those files (and writes no policy file for them); the gate on a pull
 * request judges what its Terraform adds over the base commit.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { awsInputs, pullRequestEvent, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { outputFile, runAction } from '../support/run-action.js'
import type { NodeVersion } from '../support/run-action.js'

const TEMPLATE = readFileSync('examples/iac/cloudformation/stratus-roles.yaml', 'utf8')
const TERRAFORM = readFileSync('examples/iac/terraform/main.tf', 'utf8')
const DESCRIBE_ALL = 'Action   = "ec2:Describe*" #'

describe.each<NodeVersion>(['node20', 'node24'])('dist/index.js with infrastructure code on %s', node => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(() => stopWorld(world))

  /** The inputs of a run on the one role, granted from the code under infra/. */
  const iacInputs = () => ({
    ...awsInputs(world, [STRATUS_ROLES.stealCredentials]),
    'granted-source': 'iac',
    'iac-path': 'infra'
  })
  /** A pull-request-mode run on the checked-out `workspace`. */
  const proposalRun = (workspace: Record<string, string>, inputs: Record<string, string> = {}) =>
    runAction({
      node,
      inputs: { ...iacInputs(), mode: 'pull-request', ...inputs },
      env: world.env,
      workspace
    })

  it('pull-request mode edits the CloudFormation template the role is granted from', async () => {
    const run = await proposalRun({ 'infra/stratus-roles.yaml': TEMPLATE })
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toEqual([])
    expect(run.code).toBe(0)
    expect(run.outputs['pull-request-url']).toMatch(/\/pull\/\d+$/)
    const branch = 'iam-least-privilege/proposals'
    const edited = world.github.readFile(branch, 'infra/stratus-roles.yaml')
    // Its own policy narrowed in place; the AWS-managed policy (IAM's document) detached, its needed part added inline.
    const [head, tail] = TEMPLATE.replace('Action: ec2:Describe* #', 'Action: ec2:DescribeInstances #')
      .replace(/ {6}ManagedPolicyArns:\n.*\n/, '')
      .split('\n\n  GetPasswordDataRole:')
    expect(edited?.startsWith(`${head}\n\n  StealCredentialsRoleAmazonSSMManagedInstanceCoreUsed:\n`)).toBe(
      true
    )
    expect(edited?.endsWith(`\n\n  GetPasswordDataRole:${tail}`)).toBe(true)
    expect(edited).toContain('      RoleName: !Ref StealCredentialsRole\n')
    const account = world.aws.accountId
    expect(
      world.github.readFile(branch, `iam/least-privilege/${account}/${STRATUS_ROLES.stealCredentials}.json`)
    ).toBeUndefined()
    expect(world.github.validationFailures).toEqual([])
  })

  it('pull-request mode edits the Terraform the role is granted from', async () => {
    const run = await proposalRun({ 'infra/main.tf': TERRAFORM })
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toEqual([])
    expect(run.code).toBe(0)
    const branch = 'iam-least-privilege/proposals'
    // Its own inline_policy narrowed in place; the AWS-managed policy (IAM's document) detached, and its needed part
    // added as one more inline_policy block (its inline_policy blocks make the role's inline policies exclusive: a
    // separate aws_iam_role_policy would be removed by the next apply).
    const edited = world.github.readFile(branch, 'infra/main.tf')
    const [head, tail] = TERRAFORM.replace(DESCRIBE_ALL, 'Action   = "ec2:DescribeInstances" #')
      .replace(
        'managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]',
        'managed_policy_arns = []'
      )
      .split('\n}\n\nresource "aws_iam_role" "get_password_data"')
    const added =
      '\n\n  inline_policy {\n    name = "AmazonSSMManagedInstanceCore-used"\n    policy = jsonencode({\n'
    expect(edited?.startsWith(`${head}${added}`)).toBe(true)
    expect(edited?.endsWith(`\n    })\n  }\n}\n\nresource "aws_iam_role" "get_password_data"${tail}`)).toBe(
      true
    )
    expect(edited).not.toContain('aws_iam_role_policy" "steal_credentials')
    expect(run.stdout).toContain('AmazonSSMManagedInstanceCore: detached, and the')
    const account = world.aws.accountId
    expect(
      world.github.readFile(branch, `iam/least-privilege/${account}/${STRATUS_ROLES.stealCredentials}.json`)
    ).toBeUndefined()
    // The body shows the edit as a diff of the file.
    const body = world.github.pullRequests().at(-1)?.body ?? ''
    expect(body).toContain('## Infrastructure code')
    expect(body).toContain('+++ b/infra/main.tf')
    expect(body).toContain('+          Action   = "ec2:DescribeInstances" #')
    expect(body).toContain('+  managed_policy_arns = []')
    expect(body).toContain('+    name = "AmazonSSMManagedInstanceCore-used"')
    expect(world.github.validationFailures).toEqual([])
  })

  it('pull-request mode edits the Terraform of a role that only attaches an AWS-managed policy, and writes no policy file for it', async () => {
    const managedOnly = [
      'resource "aws_iam_role" "steal_credentials" {',
      `  name                = "${STRATUS_ROLES.stealCredentials}"`,
      '  assume_role_policy  = "{}"',
      '  managed_policy_arns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]',
      '}',
      ''
    ].join('\n')
    const run = await proposalRun(
      { 'infra/main.tf': managedOnly },
      { 'pr-branch': 'iam-least-privilege/managed-only' }
    )
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toEqual([])
    expect(run.code).toBe(0)
    const branch = 'iam-least-privilege/managed-only'
    expect(world.github.readFile(branch, 'infra/main.tf')).toContain('  managed_policy_arns = []')
    const account = world.aws.accountId
    expect(
      world.github.readFile(branch, `iam/least-privilege/${account}/${STRATUS_ROLES.stealCredentials}.json`)
    ).toBeUndefined()
  })

  describe('the gate on a pull request that changes a jsonencode policy', () => {
    let baseSha = ''
    beforeAll(() => {
      baseSha = world.github.pushFiles('main', { 'infra/main.tf': TERRAFORM }, 'Terraform of the roles')
    })
    const gate = (head: string, extra: { sha?: string; files?: Record<string, string> } = {}) => {
      const number = world.github.addIssue()
      world.github.setPullRequestFiles(number, [
        { filename: 'infra/main.tf', status: 'modified' },
        ...Object.keys(extra.files ?? {}).map(filename => ({ filename, status: 'removed' as const }))
      ])
      return runAction({
        node,
        ...pullRequestEvent(number, extra.sha ?? baseSha),
        inputs: { ...iacInputs(), mode: 'comment', 'fail-on': 'high' },
        env: world.env,
        workspace: { 'infra/main.tf': head }
      }).then(run => ({ run, comment: world.github.commentsOn(number)[0]?.body ?? '' }))
    }

    it('fails when the pull request widens it', async () => {
      const { run, comment } = await gate(
        TERRAFORM.replace(DESCRIBE_ALL, 'Action   = ["ec2:Describe*", "iam:*"] #')
      )
      expect(run.code).toBe(1)
      expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toHaveLength(1)
      expect(comment).toContain('iam:')
      // Judged on what it adds over the base commit's Terraform: iam:* only, not the ec2:Describe* already there.
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as {
        roles: { change?: { baseSha: string; newFile: boolean; added: { action: string }[] } }[]
      }
      const change = report.roles[0]?.change
      expect(change).toMatchObject({ baseSha, newFile: false })
      expect(change?.added.length).toBeGreaterThan(0)
      expect(change?.added.filter(a => !a.action.startsWith('iam:'))).toEqual([])
    })

    it('passes when the pull request narrows it', async () => {
      const { run } = await gate(TERRAFORM.replace(DESCRIBE_ALL, 'Action   = "ec2:DescribeInstances" #'))
      expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toEqual([])
      expect(run.code).toBe(0)
    })

    it('fails when the pull request deletes the file holding a Deny the role relied on', async () => {
      const widened = TERRAFORM.replace(DESCRIBE_ALL, 'Action   = ["ec2:Describe*", "iam:*"] #')
      const guard = `resource "aws_iam_role_policy" "guard" {
  role   = aws_iam_role.steal_credentials.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Deny", Action = "iam:*", Resource = "*" }] })
}
`
      const sha = world.github.pushFiles(
        'main',
        { 'infra/main.tf': widened, 'infra/guard.tf': guard },
        'Guard'
      )
      const { run } = await gate(widened, { sha, files: { 'infra/guard.tf': guard } })
      expect(run.code).toBe(1)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as {
        roles: { change?: { added: { action: string }[] } }[]
      }
      expect(report.roles[0]?.change?.added.map(a => a.action.split(':')[0])).toContain('iam')
      expect(world.github.validationFailures).toEqual([])
    })

    it('fails when the pull request adds a role in code that no deployed role is linked to', async () => {
      const { run, comment } = await gate(`${TERRAFORM}
resource "aws_iam_role" "added" {
  name_prefix        = "added-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  inline_policy {
    name   = "admin"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
  }
}
`)
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(
        /::error::.*infra\/main\.tf:aws_iam_role\.added: \d+ added by this pull request/
      )
      expect(comment).toMatch(/aws\\?_iam\\?_role\.added/)
      const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as {
        roles: { arn: string; reason?: string; change?: { newFile: boolean } }[]
      }
      expect(report.roles.find(r => r.arn === 'infra/main.tf:aws_iam_role.added')).toMatchObject({
        reason: expect.stringMatching(/^new role in code: unverified/),
        change: { newFile: true }
      })
    })

    it('fails when the pull request leaves its Terraform unparseable', async () => {
      const { run } = await gate(`${TERRAFORM}\nresource "aws_iam_role_policy" "x" {\n`)
      expect(run.code).toBe(1)
      expect(run.stdout).toMatch(/infrastructure code cannot be read \(infra\/main\.tf\)/)
    })
  })
})
