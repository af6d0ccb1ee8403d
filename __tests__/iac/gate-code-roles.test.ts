/**
 * The gate on a pull request that adds or changes a role in infrastructure code that no deployed role is linked to,
 * through the action's entry in process: each such role is judged by the risk of what the pull request adds to it,
 * exactly as a policy file for a role that does not exist yet, and never passed unseen.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { runActionInProcess } from '../support/action-in-process.js'
import { awsInputs, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import type { EmulatedPullFile } from '../support/github-emulator.js'
import { outputFile } from '../support/run-action.js'
import { NEW_CODE_ROLE } from '../../src/pipeline/iac-code-roles.js'

const TERRAFORM = readFileSync('examples/iac/terraform/main.tf', 'utf8')
const ADMIN_DOCUMENT = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] }

const EVIL = `resource "aws_iam_role" "evil" {
  name               = "evil"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy" "evil" {
  name = "evil"
  role = aws_iam_role.evil.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }]
  })
}
`

const CLOUDFORMATION_EVIL = `AWSTemplateFormatVersion: '2010-09-09'
Resources:
  EvilRole:
    Type: AWS::IAM::Role
    Properties:
      AssumeRolePolicyDocument:
        Statement:
          - Effect: Allow
            Principal: { Service: ec2.amazonaws.com }
            Action: sts:AssumeRole
      Policies:
        - PolicyName: admin
          PolicyDocument:
            Version: '2012-10-17'
            Statement:
              - Effect: Allow
                Action: '*'
                Resource: '*'
`

interface Role {
  arn: string
  status: string
  reason?: string
  iacLink?: string
  change?: { newFile: boolean; added: { action: string; risk?: string }[] }
}

const errors = (stdout: string) => stdout.split('\n').filter(line => line.startsWith('::error::'))

describe('the gate on a pull request that adds a role in infrastructure code', () => {
  let world: World
  let bases = 0
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(() => stopWorld(world))

  async function gate(
    base: Record<string, string>,
    head: Record<string, string | { symlink: string }>,
    inputs: Record<string, string> = { 'granted-source': 'iac', 'iac-path': 'infra' },
    event: 'pull_request' | 'schedule' = 'pull_request',
    files: EmulatedPullFile[] = []
  ) {
    // A branch of its own: each base holds exactly these files.
    const branch = `base-${++bases}`
    const baseSha = world.github.pushFiles(branch, base, 'Terraform of the roles')
    const number = world.github.addIssue()
    world.github.setPullRequestFiles(number, files)
    const run = await runActionInProcess({
      eventName: event,
      payload:
        event === 'pull_request'
          ? {
              number,
              pull_request: {
                number,
                head: { ref: 'change', sha: 'f'.repeat(40), repo: { full_name: 'octo-org/infra' } },
                base: { ref: branch, sha: baseSha, repo: { full_name: 'octo-org/infra' } }
              }
            }
          : {},
      inputs: {
        ...awsInputs(world, [STRATUS_ROLES.stealCredentials]),
        mode: event === 'pull_request' ? 'comment' : 'report',
        'fail-on': 'high',
        ...inputs
      },
      env: world.env,
      workspace: head
    })
    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as { roles: Role[] }
    const deployed = report.roles.find(r => r.arn.endsWith(`:role/${STRATUS_ROLES.stealCredentials}`))
    const code = report.roles.filter(r => r !== deployed)
    return { run, deployed, code }
  }

  it('fails on a new Terraform role granted everything, exactly as on a new policy file granting the same', async () => {
    const iac = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': TERRAFORM, 'infra/evil.tf': EVIL }
    )
    expect(iac.run.code).toBe(1)
    expect(iac.code).toHaveLength(1)
    const evil = iac.code[0]
    expect(evil).toMatchObject({
      arn: 'infra/evil.tf:aws_iam_role.evil',
      status: 'insufficient-evidence',
      reason: NEW_CODE_ROLE,
      change: { newFile: true }
    })
    expect(evil?.change?.added.some(a => a.action === '*' || a.action.startsWith('iam:'))).toBe(true)
    expect(errors(iac.run.stdout).join('\n')).toMatch(
      /infra\/evil\.tf:aws_iam_role\.evil: \d+ added by this pull request/
    )
    // The deployed role's code is unchanged: it adds nothing.
    expect(iac.deployed?.change).toMatchObject({ newFile: false, added: [] })

    // The same grant as a policy file for a role that does not exist yet.
    const account = iac.deployed?.arn.split(':')[4] ?? ''
    const file = `iam/least-privilege/${account}/evil.json`
    const files = await gate({}, { [file]: JSON.stringify(ADMIN_DOCUMENT) }, { 'granted-source': 'auto' })
    const asFile = files.code.find(r => r.arn.endsWith(':role/evil'))
    expect(files.run.code).toBe(1)
    expect(asFile?.status).toBe(evil?.status)
    expect(asFile?.change?.newFile).toBe(true)
    expect(asFile?.change?.added).toEqual(evil?.change?.added)
  })

  it('fails on a new CloudFormation role with an administrator policy', async () => {
    const { run, code } = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': TERRAFORM, 'infra/evil.yaml': CLOUDFORMATION_EVIL }
    )
    expect(run.code).toBe(1)
    expect(code).toMatchObject([
      { arn: 'infra/evil.yaml:EvilRole', reason: NEW_CODE_ROLE, change: { newFile: true } }
    ])
  })

  it('judges a role the code defines but no selected role links to on what the pull request adds to it', async () => {
    const widened = TERRAFORM.replace(
      /"ec2:Describe\*"\], "Resource": "\*" \}/,
      '"ec2:Describe*", "iam:PassRole"], "Resource": "*" }'
    )
    expect(widened).not.toBe(TERRAFORM)
    const { run, code } = await gate({ 'infra/main.tf': TERRAFORM }, { 'infra/main.tf': widened })
    expect(run.code).toBe(1)
    expect(code).toHaveLength(1)
    expect(code[0]?.arn).toBe('infra/main.tf:aws_iam_role.get_password_data')
    expect(code[0]?.change?.newFile).toBe(false)
    expect(code[0]?.change?.added.map(a => a.action)).toEqual(['iam:PassRole'])
  })

  it('passes, and reports no role of the code, when the pull request moves blocks between files unchanged', async () => {
    const [first = '', ...rest] = TERRAFORM.split('\nresource "aws_iam_role" "get_password_data"')
    const moved = `resource "aws_iam_role" "get_password_data"${rest.join('')}`
    const { run, code } = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': first, 'infra/moved.tf': moved }
    )
    expect(errors(run.stdout)).toEqual([])
    expect(run.code).toBe(0)
    expect(code).toEqual([])
  })

  it.each([
    [
      'renamed away from the deployed role (the deployed role keeps its IAM policies under auto)',
      TERRAFORM.replace('resource "aws_iam_role" "steal_credentials"', 'resource "aws_iam_role" "stolen"')
        .replace('name                = "stratus-red-team-ec2-steal-credentials-role"', 'name = "stolen"')
        .replace('Action   = "ec2:Describe*" #', 'Action   = ["ec2:Describe*", "iam:*"] #'),
      'infra/main.tf:aws_iam_role.stolen'
    ],
    [
      'named with name_prefix, granted by aws_iam_policy_attachment',
      `${TERRAFORM}
resource "aws_iam_role" "prefixed" {
  name_prefix        = "app-"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}
resource "aws_iam_policy" "admin" {
  name   = "admin"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "iam:*", Resource = "*" }] })
}
resource "aws_iam_policy_attachment" "admin" {
  name       = "admin"
  roles      = [aws_iam_role.prefixed.name]
  policy_arn = aws_iam_policy.admin.arn
}
`,
      'infra/main.tf:aws_iam_role.prefixed'
    ],
    [
      'made under count with a computed name and computed actions',
      `${TERRAFORM}
resource "aws_iam_role" "many" {
  count              = 3
  name               = "many-\${count.index}"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  inline_policy {
    name   = "computed"
    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = var.actions, Resource = "*" }] })
  }
}
`,
      'infra/main.tf:aws_iam_role.many'
    ],
    [
      'defined twice under the deployed role name (so the deployed one is not linked)',
      `${TERRAFORM}
resource "aws_iam_role" "twin" {
  name               = "stratus-red-team-ec2-steal-credentials-role"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]
}
`,
      'infra/main.tf:aws_iam_role.twin'
    ],
    [
      'written in a local module whose role name is a variable',
      TERRAFORM,
      'infra/modules/role/main.tf:aws_iam_role.this'
    ]
  ])('fails on a role %s', async (_what, main, arn) => {
    const head: Record<string, string> = { 'infra/main.tf': main }
    if (arn.includes('/modules/')) {
      head['infra/app.tf'] = 'module "app" {\n  source = "./modules/role"\n  name   = "app"\n}\n'
      head['infra/modules/role/main.tf'] = `variable "name" {}
resource "aws_iam_role" "this" {
  name               = var.name
  assume_role_policy = "{}"
  managed_policy_arns = ["arn:aws:iam::aws:policy/IAMFullAccess"]
}
`
    }
    const { run, code } = await gate({ 'infra/main.tf': TERRAFORM }, head, {
      'granted-source': 'auto',
      'iac-path': 'infra'
    })
    expect(run.code).toBe(1)
    const role = code.find(r => r.arn === arn)
    expect(role).toMatchObject({ status: 'insufficient-evidence', change: { newFile: true } })
    expect(role?.change?.added.some(a => a.risk !== undefined)).toBe(true)
  })

  it.each([
    [
      'a registry module',
      'module "admin" {\n  source    = "terraform-aws-modules/iam/aws//modules/iam-assumable-role"\n  role_name = "admin"\n}\n',
      'infra/extra.tf:module.admin'
    ],
    [
      'a local module outside iac-path',
      'module "admin" {\n  source = "../modules/admin"\n}\n',
      'infra/extra.tf:module.admin'
    ],
    [
      'a policy attached by an ARN expression',
      'resource "aws_iam_role_policy_attachment" "x" {\n  role       = aws_iam_role.leave_organization.name\n  policy_arn = var.policy_arn\n}\n',
      'infra/extra.tf:aws_iam_role_policy_attachment.x'
    ],
    [
      'a policy attached to a role the code does not define',
      `resource "aws_iam_role_policy" "x" {\n  name   = "x"\n  role   = "some-deployed-role"\n  policy = jsonencode(${JSON.stringify(ADMIN_DOCUMENT).replace(/:/g, ' = ')})\n}\n`,
      'infra/extra.tf:aws_iam_role_policy.x'
    ],
    [
      'a CloudFormation role attaching a parameter',
      CLOUDFORMATION_EVIL.replace(
        '      Policies:',
        '      ManagedPolicyArns:\n        - !Ref PolicyArn\n      Policies:'
      ).replace('Resources:', 'Parameters:\n  PolicyArn:\n    Type: String\nResources:'),
      'infra/extra.yaml:EvilRole'
    ],
    [
      'a CloudFormation nested stack',
      'Resources:\n  Nested:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://example.com/admin.yaml\n',
      'infra/extra.yaml:Nested'
    ],
    [
      'a Terraform JSON file',
      JSON.stringify({
        resource: {
          aws_iam_role: {
            x: { name: 'x', managed_policy_arns: ['arn:aws:iam::aws:policy/AdministratorAccess'] }
          }
        }
      }),
      'infra/extra.tf.json:extra.tf.json'
    ],
    [
      'a Terraform override file',
      'resource "aws_iam_role" "leave_organization" {\n  managed_policy_arns = ["arn:aws:iam::aws:policy/AdministratorAccess"]\n}\n',
      'infra/main_override.tf:main_override.tf'
    ]
  ])(
    'fails closed on %s the pull request adds or removes, and passes on it unchanged',
    async (_what, extra, arn) => {
      const file = arn.slice(0, arn.indexOf(':'))
      const added = await gate({ 'infra/main.tf': TERRAFORM }, { 'infra/main.tf': TERRAFORM, [file]: extra })
      expect(added.run.code).toBe(1)
      expect(added.code.find(r => r.arn === arn)).toMatchObject({
        status: 'failed',
        reason: expect.stringMatching(/^the pull request adds .* whose grants cannot be read statically/)
      })
      const kept = await gate(
        { 'infra/main.tf': TERRAFORM, [file]: extra },
        { 'infra/main.tf': TERRAFORM, [file]: extra }
      )
      expect(kept.code.filter(r => r.status === 'failed')).toEqual([])
      expect(errors(kept.run.stdout)).toEqual([])
      const removed = await gate(
        { 'infra/main.tf': TERRAFORM, [file]: extra },
        { 'infra/main.tf': TERRAFORM },
        undefined,
        'pull_request',
        [{ filename: file, status: 'removed' }]
      )
      expect(removed.run.code).toBe(1)
      expect(removed.code.find(r => r.arn === arn)?.reason).toMatch(/^the pull request removes /)
    }
  )

  it('fails closed when the pull request widens a policy attached to a role the code does not define', async () => {
    const attached = (action: string) => `resource "aws_iam_policy" "p" {
  name   = "p"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "${action}", Resource = "*" }] })
}
resource "aws_iam_role_policy_attachment" "p" {
  role       = "some-deployed-role"
  policy_arn = aws_iam_policy.p.arn
}
`
    const base = { 'infra/main.tf': TERRAFORM, 'infra/p.tf': attached('ec2:DescribeInstances') }
    const unchanged = await gate(base, base)
    expect(unchanged.run.code).toBe(0)
    const widened = await gate(base, { ...base, 'infra/p.tf': attached('iam:*') })
    expect(widened.run.code).toBe(1)
    expect(widened.code).toMatchObject([
      {
        arn: 'infra/p.tf:aws_iam_role_policy_attachment.p',
        status: 'failed',
        reason: expect.stringMatching(/^the pull request changes aws_iam_role_policy_attachment\.p/)
      }
    ])
  })

  it('fails on a new role attaching a policy ARN whose document is unknown, and passes on it unchanged', async () => {
    const role = `resource "aws_iam_role" "other" {
  name                = "other"
  assume_role_policy  = "{}"
  managed_policy_arns = ["arn:aws:iam::111122223333:policy/Elsewhere"]
}
`
    const added = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': TERRAFORM, 'infra/other.tf': role }
    )
    expect(added.run.code).toBe(1)
    expect(added.code).toMatchObject([
      {
        status: 'failed',
        reason: expect.stringMatching(/111122223333:policy\/Elsewhere \(not defined in the code\)/)
      }
    ])
    const base = { 'infra/main.tf': TERRAFORM, 'infra/other.tf': role }
    const kept = await gate(base, base)
    expect(kept.code).toEqual([])
    expect(kept.run.code).toBe(0)
  })

  it('fails when the pull request adds a Terraform file as a symbolic link (Terraform follows it; the gate does not)', async () => {
    const { run, code } = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': TERRAFORM, 'docs/evil.txt': EVIL, 'infra/evil.tf': { symlink: '../docs/evil.txt' } }
    )
    expect(run.code).toBe(1)
    expect(code).toMatchObject([
      {
        arn: 'infra/evil.tf:evil.tf',
        status: 'failed',
        reason: expect.stringMatching(/^the pull request adds evil\.tf in infra\/evil\.tf, .*symbolic link/)
      }
    ])
  })

  it('fails on an OpenTofu file the pull request adds, and passes on one the base has unchanged', async () => {
    const added = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': TERRAFORM, 'infra/evil.tofu': EVIL }
    )
    expect(added.run.code).toBe(1)
    expect(added.code).toMatchObject([
      { arn: 'infra/evil.tofu:evil.tofu', status: 'failed', reason: expect.stringMatching(/OpenTofu/) }
    ])
    const base = { 'infra/main.tf': TERRAFORM, 'infra/evil.tofu': EVIL }
    const kept = await gate(base, base)
    expect(kept.code).toEqual([])
    expect(kept.run.code).toBe(0)
  })

  it('fails when the pull request changes who may assume a role, and passes on a comment-only edit', async () => {
    const trusting = (identifiers: string) =>
      TERRAFORM.replace('identifiers = ["ec2.amazonaws.com"]', `identifiers = ${identifiers}`)
    expect(trusting('["x"]')).not.toBe(TERRAFORM)
    const widened = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': trusting('["ec2.amazonaws.com", "lambda.amazonaws.com"]') }
    )
    expect(widened.run.code).toBe(1)
    // The deployed role linked to the code, and each role of the code trusting the same document.
    expect(widened.deployed).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/changes who may assume the role \(its trust policy\)/)
    })
    expect(widened.code.length).toBeGreaterThan(0)
    for (const role of widened.code) expect(role.reason).toMatch(/changes who may assume the role/)

    const commented = await gate(
      { 'infra/main.tf': TERRAFORM },
      { 'infra/main.tf': trusting('[ # who may assume it\n        "ec2.amazonaws.com"]') }
    )
    expect(errors(commented.run.stdout)).toEqual([])
    expect(commented.run.code).toBe(0)
  })

  it("fails when the pull request adds a principal to a CloudFormation role's trust through an alias", async () => {
    const template = (principal: string) =>
      CLOUDFORMATION_EVIL.replace("Action: '*'", "Action: 'ec2:DescribeInstances'")
        .replace('Principal: { Service: ec2.amazonaws.com }', 'Principal: *who')
        .replace('Resources:', `Metadata:\n  Who: &who ${principal}\nResources:`)
    const base = { 'infra/main.tf': TERRAFORM, 'infra/app.yaml': template('{ Service: ec2.amazonaws.com }') }
    const unchanged = await gate(base, base)
    expect(unchanged.run.code).toBe(0)
    const widened = await gate(base, {
      ...base,
      'infra/app.yaml': template('{ AWS: "arn:aws:iam::999999999999:root" }')
    })
    expect(widened.run.code).toBe(1)
    expect(widened.code).toMatchObject([
      { arn: 'infra/app.yaml:EvilRole', status: 'failed', reason: expect.stringMatching(/trust policy/) }
    ])
  })

  it.each(['source_json', 'override_json'])(
    'fails when the pull request merges a document into a policy document data source with %s',
    async attribute => {
      const merged = TERRAFORM.replace(
        'data "aws_iam_policy_document" "leave_organization" {',
        `data "aws_iam_policy_document" "leave_organization" {
  ${attribute} = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })`
      )
      expect(merged).not.toBe(TERRAFORM)
      const { run, code } = await gate({ 'infra/main.tf': TERRAFORM }, { 'infra/main.tf': merged })
      expect(run.code).toBe(1)
      expect(code.map(r => r.arn)).toEqual(['infra/main.tf:aws_iam_role.leave_organization'])
      expect(code[0]?.change?.added.some(a => a.action.startsWith('iam:'))).toBe(true)
    }
  )

  it.each([
    [
      'a macro transform',
      `AWSTemplateFormatVersion: '2010-09-09'
Transform: [AddAdminPolicy]
Resources:
  Bucket:
    Type: AWS::S3::Bucket
`,
      'infra/macro.yaml:Transform'
    ],
    [
      'an AWS::Include of a snippet',
      `Resources:
  Fn::Transform:
    Name: AWS::Include
    Parameters:
      Location: s3://elsewhere/roles.yaml
`,
      'infra/macro.yaml:Fn::Transform'
    ],
    [
      'a Fn::ForEach loop',
      `Transform: AWS::LanguageExtensions
Resources:
  Fn::ForEach::Roles:
    - Name
    - [A, B]
    - \${Name}Role:
        Type: AWS::IAM::Role
        Properties:
          AssumeRolePolicyDocument: { Statement: [{ Effect: Allow, Principal: { Service: ec2.amazonaws.com }, Action: sts:AssumeRole }] }
          Policies: [{ PolicyName: admin, PolicyDocument: { Statement: [{ Effect: Allow, Action: '*', Resource: '*' }] } }]
`,
      'infra/macro.yaml:Fn::ForEach::Roles'
    ]
  ])(
    'fails closed on a CloudFormation template written through %s the pull request adds, and passes on it unchanged',
    async (_, template, arn) => {
      const added = await gate(
        { 'infra/main.tf': TERRAFORM },
        { 'infra/main.tf': TERRAFORM, 'infra/macro.yaml': template }
      )
      expect(added.run.code).toBe(1)
      expect(added.code).toMatchObject([
        { arn, status: 'failed', reason: expect.stringMatching(/^the pull request adds /) }
      ])
      const base = { 'infra/main.tf': TERRAFORM, 'infra/macro.yaml': template }
      const kept = await gate(base, base)
      expect(kept.code).toEqual([])
      expect(kept.run.code).toBe(0)
    }
  )

  it('reports no role of the code outside a pull request', async () => {
    const { code } = await gate(
      {},
      { 'infra/main.tf': TERRAFORM, 'infra/evil.tf': EVIL },
      undefined,
      'schedule'
    )
    expect(code).toEqual([])
  })
})
