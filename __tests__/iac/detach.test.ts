/**
 * Detach-and-replace written as infrastructure code: the AWS-managed attachment removed and an inline policy with the
 * part the role needs added next to the role. The whole result is asserted, every other byte unchanged, and the
 * result read back is exactly the proposal; attachments written with expressions are never edited.
 */
import { describe, expect, it } from '@jest/globals'
import fc from 'fast-check'
import { cloudFormationReader } from '../../src/iac/cloudformation/reader.js'
import { sameManagedArn } from '../../src/iac/managed-arn.js'
import type { IacReader, IacReplacement, IacSourceFile } from '../../src/iac/model.js'
import { parseHcl } from '../../src/iac/terraform/grammar.js'
import { terraformReader } from '../../src/iac/terraform/reader.js'
import { statements } from './policy-arbitrary.js'
import { expectGolden, fixtureFile } from './terraform/fixture-files.js'

const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess'
const SSM = 'arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'
const XRAY = 'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess'
const replacement: IacReplacement = {
  arn: READ_ONLY,
  name: 'ReadOnlyAccess-used',
  document: {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: ['ec2:DescribeInstances', 's3:GetObject'], Resource: '*' }]
  }
}

const detach = (reader: IacReader, files: IacSourceFile[], roleAddress: string) =>
  detachTo(reader, files, roleAddress, replacement)

async function detachTo(
  reader: IacReader,
  files: IacSourceFile[],
  roleAddress: string,
  replaced: IacReplacement
) {
  const reading = await reader.read(files)
  const role = reading.roles.find(r => r.location.address === roleAddress)
  if (!role) throw new Error(`no role ${roleAddress}`)
  const attached = (arn: string) => sameManagedArn(arn, replaced.arn)
  expect(role.managedPolicyArns.filter(attached)).toHaveLength(1)
  const changed = await reader.detach(files, role, replaced)
  const after = files.map(f => ({ path: f.path, text: changed.get(f.path) ?? f.text }))
  // The property: read back, the role no longer attaches the ARN, and holds its policies as before and the
  // replacement exactly.
  const again = (await reader.read(after)).roles.find(r => r.location.address === roleAddress)
  expect(again?.managedPolicyArns).toEqual(role.managedPolicyArns.filter(arn => !attached(arn)))
  const documents = (policies: { document: unknown }[] | undefined) =>
    (policies ?? []).map(p => JSON.stringify(p.document)).sort()
  expect(documents(again?.policies)).toEqual(documents([...role.policies, replaced]))
  return changed
}

describe('detach-and-replace in Terraform', () => {
  const role = `# the application role
resource "aws_iam_role" "app" {
  name = "app-role"
  managed_policy_arns = [
    "${READ_ONLY}", # too broad
    "${SSM}",
  ]
}
`
  it('removes the ARN from managed_policy_arns and adds an aws_iam_role_policy after the role', async () => {
    const changed = await detach(terraformReader, [{ path: 'infra/main.tf', text: role }], 'aws_iam_role.app')
    expect(changed.get('infra/main.tf')).toBe(`# the application role
resource "aws_iam_role" "app" {
  name = "app-role"
  managed_policy_arns = [
    "${SSM}",
  ]
}

resource "aws_iam_role_policy" "app_read_only_access_used" {
  name   = "ReadOnlyAccess-used"
  role   = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances", "s3:GetObject"]
        Resource = "*"
      },
    ]
  })
}
`)
  })

  it('removes an aws_iam_role_policy_attachment block of another file, and takes the role out of an aws_iam_policy_attachment', async () => {
    const main = 'resource "aws_iam_role" "app" {\n  name = "app-role"\n}\n'
    const attachments = `resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.app.name
  policy_arn = "${READ_ONLY}"
}

resource "aws_iam_policy_attachment" "shared" {
  name       = "shared"
  roles      = [aws_iam_role.app.name, "other-role"]
  policy_arn = "${READ_ONLY}"
}
`
    const changed = await detach(
      terraformReader,
      [
        { path: 'infra/attachments.tf', text: attachments },
        { path: 'infra/main.tf', text: main }
      ],
      'aws_iam_role.app'
    )
    expect(changed.get('infra/attachments.tf')).toBe(`resource "aws_iam_policy_attachment" "shared" {
  name       = "shared"
  roles      = ["other-role"]
  policy_arn = "${READ_ONLY}"
}
`)
    expect(changed.get('infra/main.tf')).toMatch(
      /^resource "aws_iam_role" "app" \{\n {2}name = "app-role"\n\}\n\nresource "aws_iam_role_policy" "app_read_only_access_used" \{\n/
    )
  })

  it("detaches an ARN written in the provider's partition, resolved in the role's (here aws-us-gov)", async () => {
    const text = `data "aws_partition" "current" {}\n\nresource "aws_iam_role" "app" {\n  name = "app-role"\n  managed_policy_arns = ["arn:\${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess"]\n}\n`
    const gov = { ...replacement, arn: 'arn:aws-us-gov:iam::aws:policy/ReadOnlyAccess' }
    const changed = await detachTo(terraformReader, [{ path: 'main.tf', text }], 'aws_iam_role.app', gov)
    expect(changed.get('main.tf')).toMatch(
      /^data "aws_partition" "current" \{\}\n\nresource "aws_iam_role" "app" \{\n {2}name = "app-role"\n {2}managed_policy_arns = \[\]\n\}\n\nresource "aws_iam_role_policy" "app_read_only_access_used" \{\n/
    )
  })

  it('edits an attachment of a role whose lifecycle ignores all changes: the role block is not edited', async () => {
    const text = `resource "aws_iam_role" "app" {\n  name = "app-role"\n  lifecycle {\n    ignore_changes = all\n  }\n}\n\nresource "aws_iam_role_policy_attachment" "read" {\n  role       = aws_iam_role.app.name\n  policy_arn = "${READ_ONLY}"\n}\n`
    const changed = await detach(terraformReader, [{ path: 'main.tf', text }], 'aws_iam_role.app')
    expect(changed.get('main.tf')).toMatch(
      /^resource "aws_iam_role" "app" \{\n {2}name = "app-role"\n {2}lifecycle \{\n {4}ignore_changes = all\n {2}\}\n\}\n\nresource "aws_iam_role_policy" "app_read_only_access_used" \{\n(?![\s\S]*aws_iam_role_policy_attachment)/
    )
  })

  it('never edits an attachment written with an expression, count or for_each, and says why', async () => {
    const cases: [string, RegExp][] = [
      [
        `resource "aws_iam_role" "app" {\n  name = "app-role"\n  managed_policy_arns = var.arns\n}\n`,
        /not attached by a literal ARN/
      ],
      [
        `resource "aws_iam_role" "app" {\n  name = "app-role"\n}\nresource "aws_iam_role_policy_attachment" "a" {\n  count      = var.on ? 1 : 0\n  role       = aws_iam_role.app.name\n  policy_arn = "${READ_ONLY}"\n}\n`,
        /aws_iam_role_policy_attachment\.a: not rewritten: made under count/
      ]
    ]
    for (const [text, why] of cases) {
      const files = [{ path: 'infra/main.tf', text }]
      const reading = await terraformReader.read(files)
      const app = reading.roles.find(r => r.location.address === 'aws_iam_role.app')
      if (!app) throw new Error('no role')
      await expect(terraformReader.detach(files, app, replacement)).rejects.toThrow(why)
    }
  })
})

describe('detach-and-replace of an attachment that other blocks refer to', () => {
  const role = `resource "aws_iam_role" "app" {\n  name = "app"\n}\n\nresource "aws_iam_role_policy_attachment" "ro" {\n  role       = aws_iam_role.app.name\n  policy_arn = "${READ_ONLY}"\n}\n`
  it('a depends_on naming the removed attachment (the Lambda pattern) names the policy that replaces it', async () => {
    const lambda = `resource "aws_lambda_function" "f" {\n  function_name = "f"\n  role          = aws_iam_role.app.arn\n  depends_on = [\n    aws_iam_role_policy_attachment.ro, # logs first\n    aws_cloudwatch_log_group.g,\n  ]\n}\n`
    const files = [
      { path: 'infra/iam.tf', text: role },
      { path: 'infra/lambda.tf', text: lambda }
    ]
    const changed = await detach(terraformReader, files, 'aws_iam_role.app')
    expect(changed.get('infra/lambda.tf')).toBe(
      lambda.replace('aws_iam_role_policy_attachment.ro,', 'aws_iam_role_policy.app_read_only_access_used,')
    )
    expect(changed.get('infra/iam.tf')).not.toContain('aws_iam_role_policy_attachment')
  })

  it.each([
    ['an output', `output "x" {\n  value = aws_iam_role_policy_attachment.ro.id\n}\n`, 'output.x'],
    [
      'a moved block',
      `moved {\n  from = aws_iam_role_policy_attachment.old\n  to   = aws_iam_role_policy_attachment.ro\n}\n`,
      'moved'
    ]
  ])('any other reference (%s): not rewritten, and the error names it', async (_what, other, by) => {
    const files = [{ path: 'infra/main.tf', text: `${role}\n${other}` }]
    const app = (await terraformReader.read(files)).roles[0]
    if (!app) throw new Error('no role read')
    await expect(terraformReader.detach(files, app, replacement)).rejects.toThrow(
      `infra/main.tf: ${by} refers to aws_iam_role_policy_attachment.ro, which the detach removes; not rewritten`
    )
  })
})

describe('detach-and-replace of an ARN an aws_iam_role_policy_attachments_exclusive lists for the role', () => {
  it('the ARN leaves its policy_arns too, the attachment block goes, the other ARN stays listed', async () => {
    const exclusive = `resource "aws_iam_role_policy_attachments_exclusive" "app" {\n  role_name   = aws_iam_role.app.name\n  policy_arns = [\n    "${READ_ONLY}",\n    "${SSM}",\n  ]\n}\n`
    const text = `resource "aws_iam_role" "app" {\n  name = "app"\n}\n\nresource "aws_iam_role_policy_attachment" "ro" {\n  role       = aws_iam_role.app.name\n  policy_arn = "${READ_ONLY}"\n}\n\n${exclusive}`
    const changed = await detachTo(
      terraformReader,
      [{ path: 'main.tf', text }],
      'aws_iam_role.app',
      replacement
    )
    const after = changed.get('main.tf') ?? ''
    expect(after).not.toContain('aws_iam_role_policy_attachment"')
    expect(after.endsWith(exclusive.replace(`    "${READ_ONLY}",\n`, ''))).toBe(true)
  })
})

describe('detach-and-replace of an ARN listed twice (literally and in the partition)', () => {
  const used = replacement.document
  it('Terraform: every item naming it leaves managed_policy_arns, the others stay', async () => {
    const text = `data "aws_partition" "current" {}

resource "aws_iam_role" "app" {
  name = "app"
  managed_policy_arns = [
    "${READ_ONLY}",
    "${SSM}",
    "arn:\${data.aws_partition.current.partition}:iam::aws:policy/ReadOnlyAccess", # again
  ]
}
`
    const files = [{ path: 'main.tf', text }]
    const role = (await terraformReader.read(files)).roles[0]
    if (!role) throw new Error('no role read')
    const changed = await terraformReader.detach(files, role, replacement)
    const after = changed.get('main.tf') ?? ''
    expect(after.slice(0, after.indexOf('resource "aws_iam_role_policy"')))
      .toBe(`data "aws_partition" "current" {}

resource "aws_iam_role" "app" {
  name = "app"
  managed_policy_arns = [
    "${SSM}",
  ]
}

`)
    const again = (await terraformReader.read([{ path: 'main.tf', text: after }])).roles[0]
    expect(again?.managedPolicyArns).toEqual([SSM])
    expect(again?.policies.map(p => p.document)).toEqual([used])
  })

  it('CloudFormation: both items leave ManagedPolicyArns, and the emptied list goes with its key', async () => {
    const text = `Resources:\n  AppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n        - ${READ_ONLY}\n        - !Sub arn:\${AWS::Partition}:iam::aws:policy/ReadOnlyAccess\n      RoleName: app-role\n`
    const files = [{ path: 's.yaml', text }]
    const role = (await cloudFormationReader.read(files)).roles[0]
    if (!role) throw new Error('no role read')
    const changed = await cloudFormationReader.detach(files, role, replacement)
    const after = changed.get('s.yaml') ?? ''
    expect(after).toMatch(
      /^Resources:\n {2}AppRole:\n {4}Type: AWS::IAM::Role\n {4}Properties:\n {6}RoleName: app-role\n\n {2}AppRoleReadOnlyAccessUsed:\n/
    )
    const again = (await cloudFormationReader.read([{ path: 's.yaml', text: after }])).roles[0]
    expect(again?.managedPolicyArns).toEqual([])
    expect(again?.policies.map(p => p.document)).toEqual([used])
  })
})

describe('detach-and-replace in CloudFormation', () => {
  it('YAML: takes the ARN out of a block list and adds an AWS::IAM::RolePolicy after the role', async () => {
    const text = `Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app-role # named for the dashboards
      ManagedPolicyArns:
        - !Sub arn:\${AWS::Partition}:iam::aws:policy/ReadOnlyAccess
        - ${SSM}

  Bucket:
    Type: AWS::S3::Bucket
`
    const changed = await detach(cloudFormationReader, [{ path: 'stack.yaml', text }], 'AppRole')
    expect(changed.get('stack.yaml')).toBe(`Resources:
  AppRole:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app-role # named for the dashboards
      ManagedPolicyArns:
        - ${SSM}

  AppRoleReadOnlyAccessUsed:
    Type: AWS::IAM::RolePolicy
    Properties:
      PolicyName: ReadOnlyAccess-used
      RoleName: !Ref AppRole
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action:
              - ec2:DescribeInstances
              - s3:GetObject
            Resource: "*"

  Bucket:
    Type: AWS::S3::Bucket
`)
  })

  it('YAML: a list left empty goes with its key; JSON: the comma before the last item goes with it', async () => {
    const yaml = `Resources:\n  AppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n        - ${READ_ONLY}\n      RoleName: app-role\n`
    const fromYaml = await detach(cloudFormationReader, [{ path: 's.yaml', text: yaml }], 'AppRole')
    expect(fromYaml.get('s.yaml')).toMatch(
      /^Resources:\n {2}AppRole:\n {4}Type: AWS::IAM::Role\n {4}Properties:\n {6}RoleName: app-role\n\n {2}AppRoleReadOnlyAccessUsed:\n/
    )
    const json = `{
  "Resources": {
    "AppRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "RoleName": "app-role",
        "ManagedPolicyArns": [
          "${SSM}",
          "${READ_ONLY}"
        ]
      }
    }
  }
}
`
    const fromJson = await detach(cloudFormationReader, [{ path: 's.json', text: json }], 'AppRole')
    expect(fromJson.get('s.json')).toBe(`{
  "Resources": {
    "AppRole": {
      "Type": "AWS::IAM::Role",
      "Properties": {
        "RoleName": "app-role",
        "ManagedPolicyArns": [
          "${SSM}"
        ]
      }
    },
    "AppRoleReadOnlyAccessUsed": {
      "Type": "AWS::IAM::RolePolicy",
      "Properties": {
        "PolicyName": "ReadOnlyAccess-used",
        "RoleName": {
          "Ref": "AppRole"
        },
        "PolicyDocument": {
          "Version": "2012-10-17",
          "Statement": [
            {
              "Effect": "Allow",
              "Action": [
                "ec2:DescribeInstances",
                "s3:GetObject"
              ],
              "Resource": "*"
            }
          ]
        }
      }
    }
  }
}
`)
  })

  it('never edits an ARN written with !If, and says why', async () => {
    const text = `Resources:\n  AppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      ManagedPolicyArns:\n        - !If [Prod, ${READ_ONLY}, !Ref AWS::NoValue]\n`
    const files = [{ path: 's.yaml', text }]
    const role = (await cloudFormationReader.read(files)).roles[0]
    if (!role) throw new Error('no role')
    await expect(cloudFormationReader.detach(files, role, replacement)).rejects.toThrow(
      /not rewritten: arn:aws:iam::aws:policy\/ReadOnlyAccess is not a literal item of its ManagedPolicyArns/
    )
  })
})

describe('detach-and-replace in Terraform for a role whose inline policies are inline_policy blocks', () => {
  // Those blocks make the role's inline policies exclusive: a separate aws_iam_role_policy would be removed by the
  // next apply, so the part the role needs becomes one more inline_policy block.
  const STRATUS = 'v2/internal/attacktechniques/aws/credential-access/ec2-steal-instance-credentials/main.tf'
  const ssm: IacReplacement = { ...replacement, arn: SSM, name: 'AmazonSSMManagedInstanceCore-used' }

  it('stratus-red-team: the attachment block goes, the block is added after the heredoc inline_policy', async () => {
    const file = fixtureFile('stratus-red-team', STRATUS)
    const changed = await detachTo(terraformReader, [file], 'aws_iam_role.instance-role', ssm)
    const after = changed.get(STRATUS) ?? ''
    expectGolden('detach-inline-policy-block', file, after)
    expect((await parseHcl(after)).rootNode.hasError).toBe(false)
  })

  it('serverless-patterns: after the last of two blocks set apart by blank lines, JSON-style keys left alone', async () => {
    const file = fixtureFile('serverless-patterns', 'apigw-sfn-crud-terraform/main.tf')
    const xray = { ...replacement, arn: XRAY, name: 'AWSXrayWriteOnlyAccess-used' }
    const changed = await detachTo(terraformReader, [file], 'aws_iam_role.API_SF_CRUD-tf_CFRole', xray)
    const after = changed.get(file.path) ?? ''
    expectGolden('detach-second-inline-policy-block', file, after)
    expect((await parseHcl(after)).rootNode.hasError).toBe(false)
  })

  it('property: whatever the document, the block added reads back as exactly it, and the file parses', async () => {
    const file = fixtureFile('stratus-red-team', STRATUS)
    await fc.assert(
      fc.asyncProperty(statements, async written => {
        const document = { Version: '2012-10-17', Statement: written }
        const changed = await detachTo(terraformReader, [file], 'aws_iam_role.instance-role', {
          ...ssm,
          document
        })
        expect((await parseHcl(changed.get(STRATUS) ?? '')).rootNode.hasError).toBe(false)
      }),
      { numRuns: 25, seed: 16 }
    )
  })

  it("blocks written one after the other: the new one follows without a blank line, in the file's tab indentation", async () => {
    const text = `resource "aws_iam_role" "app" {\n\tname = "app"\n\tmanaged_policy_arns = ["${READ_ONLY}"]\n\tinline_policy {\n\t\tname   = "queue"\n\t\tpolicy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = "*" }] })\n\t}\n\tinline_policy {\n\t\tname   = "topic"\n\t\tpolicy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sns:Publish", Resource = "*" }] })\n\t} # the topic\n\ttags = {}\n}\n`
    const changed = await detach(terraformReader, [{ path: 'main.tf', text }], 'aws_iam_role.app')
    expect(changed.get('main.tf')).toBe(
      text.replace(`"${READ_ONLY}"`, '').replace(
        '\t} # the topic\n\ttags',
        `\t} # the topic
\tinline_policy {
\t\tname = "ReadOnlyAccess-used"
\t\tpolicy = jsonencode({
\t\t\tVersion = "2012-10-17"
\t\t\tStatement = [
\t\t\t\t{
\t\t\t\t\tEffect   = "Allow"
\t\t\t\t\tAction   = ["ec2:DescribeInstances", "s3:GetObject"]
\t\t\t\t\tResource = "*"
\t\t\t\t},
\t\t\t]
\t\t})
\t}
\ttags`
      )
    )
  })

  it('an empty inline_policy {} (no inline policies, exclusively) is replaced by the new block', async () => {
    const text = `resource "aws_iam_role" "app" {\n  name = "app"\n  managed_policy_arns = ["${READ_ONLY}"]\n  inline_policy {}\n}\n`
    const changed = await detach(terraformReader, [{ path: 'main.tf', text }], 'aws_iam_role.app')
    expect(changed.get('main.tf')).toBe(`resource "aws_iam_role" "app" {
  name = "app"
  managed_policy_arns = []
  inline_policy {
    name = "ReadOnlyAccess-used"
    policy = jsonencode({
      Version = "2012-10-17"
      Statement = [
        {
          Effect   = "Allow"
          Action   = ["ec2:DescribeInstances", "s3:GetObject"]
          Resource = "*"
        },
      ]
    })
  }
}
`)
  })

  const role = (inside: string, after = '') =>
    `resource "aws_iam_role" "app" {\n  name = "app"\n  managed_policy_arns = ["${READ_ONLY}"]\n${inside}}\n${after}`
  const queue = (name: string) =>
    `  inline_policy {\n    name   = ${name}\n    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = "*" }] })\n  }\n`
  it.each([
    [
      'a dynamic "inline_policy" block',
      role(
        `  dynamic "inline_policy" {\n    for_each = var.policies\n    content {\n      name   = inline_policy.key\n      policy = inline_policy.value\n    }\n  }\n`
      ),
      'written by a dynamic "inline_policy" block'
    ],
    [
      'an inline_policy named by an expression',
      role(queue('var.name')),
      'the inline_policy name var.name cannot be read'
    ],
    [
      'an inline_policy of the same name',
      role(queue('"ReadOnlyAccess-used"')),
      'it already has an inline_policy named ReadOnlyAccess-used'
    ],
    [
      'an inline_policy whose name differs only in case (IAM names are not told apart by case)',
      role(queue('"readonlyaccess-USED"')),
      'it already has an inline_policy named readonlyaccess-USED'
    ],
    [
      'an empty inline_policy block beside a named one',
      role(`  inline_policy {}\n${queue('"queue"')}`),
      'an empty inline_policy block stands beside named ones'
    ],
    [
      'inline_policy blocks and aws_iam_role_policies_exclusive',
      role(
        queue('"queue"'),
        `\nresource "aws_iam_role_policies_exclusive" "app" {\n  role_name    = aws_iam_role.app.name\n  policy_names = ["queue"]\n}\n`
      ),
      'aws_iam_role_policies_exclusive.app manage'
    ],
    [
      'aws_iam_role_policies_exclusive',
      role(
        '',
        `\nresource "aws_iam_role_policies_exclusive" "app" {\n  role_name    = aws_iam_role.app.name\n  policy_names = []\n}\n`
      ),
      'aws_iam_role_policies_exclusive.app manage'
    ],
    [
      'inline_policy blocks it ignores changes to',
      role(`${queue('"queue"')}  lifecycle {\n    ignore_changes = [inline_policy]\n  }\n`),
      'its lifecycle ignores changes to inline_policy, so the edit would not be applied'
    ],
    [
      'managed_policy_arns it ignores changes to',
      role(`  lifecycle {\n    ignore_changes = [tags, managed_policy_arns]\n  }\n`),
      'its lifecycle ignores changes to managed_policy_arns'
    ],
    [
      'a lifecycle that ignores all changes',
      role(`  lifecycle {\n    ignore_changes = all\n  }\n`),
      'ignores changes to all'
    ],
    [
      'inline_policy blocks, made under count',
      role(`  count = 1\n${queue('"queue"')}`),
      'the role is made under count'
    ]
  ])('a role with %s: not rewritten, and the error says why', async (_what, text, why) => {
    const files = [{ path: 'infra/main.tf', text }]
    const app = (await terraformReader.read(files)).roles[0]
    if (!app) throw new Error('no role read')
    await expect(terraformReader.detach(files, app, replacement)).rejects.toThrow(why)
  })
})

describe('detach-and-replace keeps a file written with CRLF line ends in CRLF', () => {
  it.each([
    [
      'infra/main.tf',
      terraformReader,
      `resource "aws_iam_role" "app" {\r\n  name = "app"\r\n  managed_policy_arns = ["${READ_ONLY}", "${SSM}"]\r\n}\r\n`,
      'aws_iam_role.app'
    ],
    [
      'infra/inline.tf',
      terraformReader,
      `resource "aws_iam_role" "app" {\r\n  name = "app"\r\n  managed_policy_arns = ["${READ_ONLY}"]\r\n  inline_policy {\r\n    name   = "queue"\r\n    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sqs:SendMessage", Resource = "*" }] })\r\n  } # the queue\r\n}\r\n`,
      'aws_iam_role.app'
    ],
    [
      'template.json',
      cloudFormationReader,
      `{\r\n\t"Resources": {\r\n\t\t"App": {\r\n\t\t\t"Type": "AWS::IAM::Role",\r\n\t\t\t"Properties": {\r\n\t\t\t\t"AssumeRolePolicyDocument": {},\r\n\t\t\t\t"ManagedPolicyArns": ["${READ_ONLY}"]\r\n\t\t\t}\r\n\t\t}\r\n\t}\r\n}\r\n`,
      'App'
    ],
    [
      'template.yaml',
      cloudFormationReader,
      `Resources:\r\n  App:\r\n    Type: AWS::IAM::Role\r\n    Properties:\r\n      AssumeRolePolicyDocument: {}\r\n      ManagedPolicyArns: [${READ_ONLY}, ${SSM}]\r\n  Topic:\r\n    Type: AWS::SNS::Topic\r\n`,
      'App'
    ]
  ])('%s', async (path, reader, text, address) => {
    const changed = await detach(reader, [{ path, text }], address)
    const after = changed.get(path) ?? ''
    expect(after).not.toBe(text)
    expect(after.replace(/\r\n/g, '')).not.toContain('\n')
  })
})
