import { execFileSync } from 'node:child_process'
import { describe, expect, test } from '@jest/globals'
import type { IacReading, IacRole } from '../../../src/iac/model.js'
import { terraformReader } from '../../../src/iac/terraform/reader.js'
import { fixtureFiles } from './fixture-files.js'

const STRATUS = 'v2/internal/attacktechniques/aws'

function role(reading: IacReading, file: string, address: string): IacRole {
  const found = reading.roles.find(r => r.location.file === file && r.location.address === address)
  if (!found) throw new Error(`no ${address} in ${file}`)
  return found
}

describe('reading Terraform roles and policies', () => {
  test('stratus-red-team: inline_policy in jsonencode and heredoc, attachments, names built from locals', async () => {
    const reading = await terraformReader.read(fixtureFiles('stratus-red-team'))
    expect(reading.roles).toHaveLength(13)

    const leaveOrg = role(
      reading,
      `${STRATUS}/defense-evasion/organizations-leave/main.tf`,
      'aws_iam_role.role'
    )
    expect(leaveOrg.location).toMatchObject({ kind: 'terraform', startLine: 26, endLine: 56 })
    expect(leaveOrg.name).toBeUndefined()
    expect(leaveOrg.unresolved).toEqual(['name = "${local.resource_prefix}-role"'])
    expect(leaveOrg.policies).toEqual([
      {
        location: {
          kind: 'terraform',
          file: `${STRATUS}/defense-evasion/organizations-leave/main.tf`,
          startLine: 43,
          endLine: 55,
          address: 'aws_iam_role.role'
        },
        attachment: 'inline',
        name: 'inline-policy',
        document: {
          Version: '2012-10-17',
          Statement: [{ Action: ['ec2:Describe*'], Effect: 'Allow', Resource: '*' }]
        }
      }
    ])

    const steal = role(
      reading,
      `${STRATUS}/credential-access/ec2-steal-instance-credentials/main.tf`,
      'aws_iam_role.instance-role'
    )
    expect(steal.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore'])
    expect(steal.policies.map(p => [p.name, p.location.startLine, p.document.Statement])).toEqual([
      ['inline', 82, [{ Action: 'ec2:Describe*', Resource: '*', Effect: 'Allow' }]]
    ])

    const flowLogs = role(
      reading,
      `${STRATUS}/defense-evasion/vpc-remove-flow-logs/main.tf`,
      'aws_iam_role.role'
    )
    expect(
      flowLogs.policies.map(p => [p.location.address, p.attachment, p.location.startLine, p.location.endLine])
    ).toEqual([['aws_iam_role_policy.example', 'inline', 59, 81]])

    // aws_iam_policy attached with the legacy aws_iam_policy_attachment (roles = [...]).
    const unusual = role(
      reading,
      `${STRATUS}/execution/ec2-launch-unusual-instances/main.tf`,
      'aws_iam_role.role'
    )
    expect(unusual.policies.map(p => [p.location.address, p.attachment])).toEqual([
      ['aws_iam_policy.policy', 'managed']
    ])
    expect(unusual.unresolved).toEqual([
      'name = "${local.resource_prefix}-role-${random_string.suffix.result}"'
    ])

    const layer = role(
      reading,
      `${STRATUS}/persistence/lambda-layer-extension/main.tf`,
      'aws_iam_role.lambda_role'
    )
    expect(layer.policies[0]?.document.Statement).toEqual([
      {
        Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: '*'
      }
    ])
    expect(reading.roles.flatMap(r => r.policies).filter(p => p.notRewritable !== undefined)).toEqual([])
  })

  test('serverless-patterns: literal names, name_prefix, policy documents, expressions read conservatively', async () => {
    const reading = await terraformReader.read(fixtureFiles('serverless-patterns'))

    const scheduler = role(
      reading,
      'delayed-eventbridge-events-terraform/main.tf',
      'aws_iam_role.scheduler_role'
    )
    expect(scheduler.name).toBe('delayed-eb-events-SchedulerRole')
    // `Resource = [aws_cloudwatch_event_bus.custom_event_bus.arn]`: a reference grants at most `*`.
    expect(scheduler.policies[0]?.document.Statement).toEqual([
      { Effect: 'Allow', Action: ['events:PutEvents'], Resource: ['*'] }
    ])
    expect(scheduler.unresolved).toEqual(['aws_cloudwatch_event_bus.custom_event_bus.arn'])

    const created = role(
      reading,
      'delayed-eventbridge-events-terraform/main.tf',
      'aws_iam_role.user_created_function_role'
    )
    expect(created.unresolved).toContain(
      'data.aws_iam_policy.lambda_basic_execution_role_policy.arn (the policy named "AWSLambdaBasicExecutionRole")'
    )

    // The Terraform address is not the IAM name.
    const stateMachine = role(
      reading,
      'apigw-sfn-crud-terraform/main.tf',
      'aws_iam_role.API_SF_CRUD-tf_CFRole'
    )
    expect(stateMachine.name).toBe('API_SF_CRUD-tf_StateMachineRole')
    expect(stateMachine.policies.map(p => p.name)).toEqual([
      'StateMachineRolePolicyDynamoDB',
      'StateMachineRolePolicyLogs'
    ])
    expect(stateMachine.policies[0]?.document.Statement[0]?.Resource).toEqual([
      'arn:aws:dynamodb:*:*:table/*',
      // Written upstream as `table/${aws_dynamodb_table.API_SF_CRUD-DB.name}index/*` (no slash).
      'arn:aws:dynamodb:*:*:table/*index/*'
    ])
    expect(stateMachine.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess'])

    const qldb = role(
      reading,
      'apigw-lambda-qldb-terraform/main.tf',
      'aws_iam_role.lambda_iam_role_create_person'
    )
    expect(qldb.namePrefix).toBe('LambdaCreatePersonRole-')
    const document = qldb.policies[0]
    expect(document?.location).toMatchObject({
      address: 'data.aws_iam_policy_document.lambda_policy_document_create_person',
      startLine: 78,
      endLine: 105
    })
    expect(document?.attachment).toBe('managed')
    expect(document?.name).toBe('lambda_policy_create_person-')
    expect(document?.document.Statement).toEqual([
      { Effect: 'Allow', Action: 'qldb:SendCommand', Resource: '*' },
      {
        Effect: 'Allow',
        Action: ['qldb:PartiQLInsert', 'qldb:PartiQLUpdate', 'qldb:PartiQLSelect'],
        Resource: '*/*'
      }
    ])
    expect(document?.notRewritable).toBeUndefined()

    // `role = "${aws_iam_role.x.name}"` (interpolation-only) and aws_iam_role_policy_attachment.
    const lambda = role(
      reading,
      's3-trigger-lambda-glue-workflow-terraform/main.tf',
      'aws_iam_role.terraform_lambda_function_role'
    )
    expect(lambda.policies.map(p => p.location.address)).toEqual([
      'data.aws_iam_policy_document.AWSLambdaPolicy'
    ])

    // Two roles in one module directory split over files.
    expect(
      reading.roles.filter(r => r.location.file.startsWith('sfn-lambda-function-crossaccount-terraform/'))
    ).toHaveLength(2)
    expect(reading.problems).toEqual([])
  })

  test('terraform-aws-iam: module internals are read conservatively and named, never guessed', async () => {
    const reading = await terraformReader.read(fixtureFiles('terraform-aws-iam'))
    const iamRole = role(reading, 'modules/iam-role/main.tf', 'aws_iam_role.this')
    expect(iamRole.name).toBeUndefined()
    expect(iamRole.unresolved).toEqual(
      expect.arrayContaining([
        'name = var.use_name_prefix ? null : var.name',
        'count = var.create ? 1 : 0',
        'dynamic "statement"'
      ])
    )
    const inline = iamRole.policies.find(p => p.location.address === 'data.aws_iam_policy_document.inline')
    expect(inline?.notRewritable).toContain('source_policy_documents = var.source_inline_policy_documents')
    expect(inline?.document.Statement).toContainEqual({ Effect: 'Allow', Action: '*', Resource: '*' })
    expect(reading.problems).toEqual([
      'examples/iam-role-for-service-accounts/main.tf: module.vpc (source "terraform-aws-modules/vpc/aws") is not read: any role it creates is not linked to these files',
      'examples/iam-role-for-service-accounts/main.tf: module.eks (source "terraform-aws-modules/eks/aws") is not read: any role it creates is not linked to these files'
    ])
  })

  test('unevaluable expressions: the document grants at least what the code may, and the edit is blocked', async () => {
    const text = `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_role_policy" "vars" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = var.actions, Resource = "*" },
      { Effect = "Deny", Action = "s3:DeleteBucket", Resource = "arn:aws:s3:::\${var.bucket}" },
      { Effect = "Allow", NotAction = ["iam:*", local.more], Resource = "*" },
      {
        Effect    = "Allow"
        Action    = "s3:GetObject"
        Resource  = "*"
        Condition = { StringEquals = { "aws:PrincipalTag/team" = var.team } }
      },
    ]
  })
}

resource "aws_iam_role_policy" "templated" {
  role   = "app"
  policy = templatefile("\${path.module}/policy.tpl", {})
}

resource "aws_iam_role_policy" "loop" {
  role   = aws_iam_role.app.name
  policy = jsonencode({ Version = "2012-10-17", Statement = [for a in var.list : { Effect = "Allow", Action = a, Resource = "*" }] })
}
`
    const reading = await terraformReader.read([{ path: 'main.tf', text }])
    const [app] = reading.roles
    // A statement holding an expression is kept as written; a body that is one blocks the whole policy.
    expect(
      app?.policies.map(p => [p.location.address, p.notRewritable ?? p.keptStatements, p.document.Statement])
    ).toEqual([
      [
        'aws_iam_role_policy.vars',
        [
          { statement: 0, index: 0, expression: 'var.actions' },
          { statement: 1, expression: '"arn:aws:s3:::${var.bucket}"' },
          { statement: 2, index: 1, expression: 'local.more' },
          { statement: 3, index: 2, expression: 'var.team' }
        ],
        [
          { Effect: 'Allow', Action: '*', Resource: '*' },
          { Effect: 'Allow', NotAction: ['iam:*'], Resource: '*' },
          { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }
        ]
      ],
      [
        'aws_iam_role_policy.templated',
        'templatefile("${path.module}/policy.tpl", {})',
        [{ Effect: 'Allow', Action: '*', Resource: '*' }]
      ],
      [
        'aws_iam_role_policy.loop',
        '[for a in var.list : { Effect = "Allow", Action = a, Resource = "*" }]',
        [{ Effect: 'Allow', Action: '*', Resource: '*' }]
      ]
    ])
    expect(app?.unresolved).toEqual([
      'var.actions',
      '"arn:aws:s3:::${var.bucket}"',
      'local.more',
      'var.team',
      'templatefile("${path.module}/policy.tpl", {})',
      '[for a in var.list : { Effect = "Allow", Action = a, Resource = "*" }]'
    ])
  })

  test('file() reads a JSON policy from the given files; attachments to unknown roles and bad HCL are problems', async () => {
    const reading = await terraformReader.read([
      {
        path: 'infra/main.tf',
        text: `resource "aws_iam_role" "app" {
  name                = "app"
  managed_policy_arns = [aws_iam_policy.read.arn, "arn:aws:iam::aws:policy/ReadOnlyAccess"]
}

resource "aws_iam_policy" "read" {
  name   = "read"
  policy = file("\${path.module}/policies/read.json")
}

resource "aws_iam_role_policy_attachment" "elsewhere" {
  role       = "some-other-role"
  policy_arn = aws_iam_policy.read.arn
}
`
      },
      {
        path: 'infra/policies/read.json',
        text: '{\n  "Version": "2012-10-17",\n  "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*" }]\n}\n'
      },
      { path: 'infra/broken.tf', text: 'resource "aws_iam_role" "x" {\n  name = \n' }
    ])
    const [app] = reading.roles
    expect(app?.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/ReadOnlyAccess'])
    expect(app?.policies).toEqual([
      {
        location: {
          kind: 'terraform',
          file: 'infra/policies/read.json',
          startLine: 1,
          endLine: 4,
          address: 'aws_iam_policy.read'
        },
        attachment: 'managed',
        name: 'read',
        document: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]
        },
        // Also attached to a role this code does not define: narrowing it for app would narrow it there too.
        alsoGrantedTo: ['aws_iam_role_policy_attachment.elsewhere']
      }
    ])
    expect(reading.problems).toEqual([
      'infra/broken.tf: not valid HCL at line 3: fix the syntax (terraform validate); the file was not read',
      'infra/main.tf: aws_iam_role_policy_attachment.elsewhere: role "some-other-role" is not a role defined in infra: its policy is not linked'
    ])
  })

  test('a policy document statement without effect allows, as the provider reads it', async () => {
    const text = [
      'resource "aws_iam_role" "r" {',
      '  name = "r"',
      '}',
      'data "aws_iam_policy_document" "d" {',
      '  statement {',
      '    actions   = ["s3:GetObject"]',
      '    resources = ["*"]',
      '  }',
      '}',
      'resource "aws_iam_role_policy" "p" {',
      '  role   = aws_iam_role.r.id',
      '  policy = data.aws_iam_policy_document.d.json',
      '}',
      ''
    ].join('\n')
    const reading = await terraformReader.read([{ path: 'main.tf', text }])
    expect(reading.roles[0]?.policies[0]?.document.Statement).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }
    ])
  })

  test("a managed policy ARN in the provider's partition reads arn:*:, any other interpolation is named", async () => {
    const arn = (partition: string) => `"arn:${partition}:iam::aws:policy/ReadOnlyAccess"`
    const reading = await terraformReader.read([
      {
        path: 'main.tf',
        text: `data "aws_partition" "current" {}

resource "aws_iam_role" "app" {
  name = "app"
  managed_policy_arns = [
    ${arn('${data.aws_partition.current.partition}')},
    ${arn('${var.partition}')},
    "arn:aws:iam::aws:policy/\${data.aws_partition.current.partition}",
  ]
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:\${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}
`
      }
    ])
    expect(reading.roles[0]).toMatchObject({
      managedPolicyArns: [
        'arn:*:iam::aws:policy/ReadOnlyAccess',
        'arn:*:iam::aws:policy/AmazonSSMManagedInstanceCore'
      ],
      unresolved: [
        arn('${var.partition}'),
        '"arn:aws:iam::aws:policy/${data.aws_partition.current.partition}"'
      ]
    })
  })

  test('accepts .tf files only', () => {
    expect(terraformReader.accepts('infra/main.tf', '')).toBe(true)
    expect(terraformReader.accepts('infra/terraform.tfvars', '')).toBe(false)
    expect(terraformReader.accepts('template.yaml', '')).toBe(false)
  })

  test('the embedded WebAssembly is what the installed packages ship', () => {
    expect(() =>
      execFileSync(process.execPath, ['scripts/build-tree-sitter-wasm.mjs', '--check'], { stdio: 'pipe' })
    ).not.toThrow()
  })
})
