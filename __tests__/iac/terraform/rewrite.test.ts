import { describe, expect, test } from '@jest/globals'
import fc from 'fast-check'
import type { PolicyDocumentJson } from '../../../src/model.js'
import type { IacPolicy, IacSourceFile } from '../../../src/iac/model.js'
import { parseHcl } from '../../../src/iac/terraform/grammar.js'
import { terraformReader } from '../../../src/iac/terraform/reader.js'
import { statements } from '../policy-arbitrary.js'
import { expectGolden, fixtureFile, fixtureFiles } from './fixture-files.js'

const STRATUS = 'v2/internal/attacktechniques/aws'

async function policyAt(files: IacSourceFile[], address: string, startLine?: number): Promise<IacPolicy> {
  const reading = await terraformReader.read(files)
  const found = reading.roles
    .flatMap(r => r.policies)
    .find(
      p => p.location.address === address && (startLine === undefined || p.location.startLine === startLine)
    )
  if (!found) throw new Error(`no policy ${address}`)
  return found
}

function edited(document: PolicyDocumentJson, change: (d: PolicyDocumentJson) => void): PolicyDocumentJson {
  const copy = structuredClone(document)
  change(copy)
  return copy
}

interface GoldenCase {
  name: string
  project: string
  file: string
  address: string
  startLine?: number
  change: (d: PolicyDocumentJson) => void
}

const statement = (d: PolicyDocumentJson, i: number): Record<string, unknown> => {
  const s = d.Statement[i]
  if (!s) throw new Error(`no statement ${i}`)
  return s
}

const GOLDEN: GoldenCase[] = [
  {
    name: 'jsonencode-actions',
    project: 'stratus-red-team',
    file: `${STRATUS}/defense-evasion/organizations-leave/main.tf`,
    address: 'aws_iam_role.role',
    change: d => (statement(d, 0).Action = ['ec2:DescribeInstances', 'ec2:DescribeRegions'])
  },
  {
    name: 'heredoc-actions',
    project: 'stratus-red-team',
    file: `${STRATUS}/defense-evasion/vpc-remove-flow-logs/main.tf`,
    address: 'aws_iam_role_policy.example',
    change: d => (statement(d, 0).Action = ['logs:CreateLogStream', 'logs:PutLogEvents'])
  },
  {
    name: 'heredoc-four-space-single-action',
    project: 'stratus-red-team',
    file: `${STRATUS}/credential-access/ec2-steal-instance-credentials/main.tf`,
    address: 'aws_iam_role.instance-role',
    change: d => (statement(d, 0).Action = 'ec2:DescribeInstances')
  },
  {
    name: 'policy-document-actions',
    project: 'serverless-patterns',
    file: 'apigw-lambda-qldb-terraform/main.tf',
    address: 'data.aws_iam_policy_document.lambda_policy_document_create_person',
    change: d => (statement(d, 1).Action = ['qldb:PartiQLInsert'])
  },
  {
    name: 'heredoc-resource-narrowed',
    project: 'serverless-patterns',
    file: 'alb-path-based-route-lambda-tf/main.tf',
    address: 'aws_iam_policy.iam_policy_for_lambda',
    change: d => (statement(d, 0).Resource = ['arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/*'])
  },
  {
    name: 'jsonencode-statement-removed-expression-kept',
    project: 'serverless-patterns',
    file: 'apigw-sfn-crud-terraform/main.tf',
    address: 'aws_iam_role_policy.API_SF_CRUD-tf_APIPolicy',
    change: d => void d.Statement.pop()
  },
  {
    name: 'jsonencode-statement-added',
    project: 'stratus-red-team',
    file: `${STRATUS}/defense-evasion/organizations-leave/main.tf`,
    address: 'aws_iam_role.role',
    change: d =>
      void d.Statement.push({
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: 'arn:aws:s3:::reports/*',
        Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } }
      })
  },
  {
    name: 'heredoc-statement-added',
    project: 'serverless-patterns',
    file: 'alb-path-based-route-lambda-tf/main.tf',
    address: 'aws_iam_policy.iam_policy_for_lambda',
    change: d => void d.Statement.push({ Effect: 'Deny', Action: 'logs:DeleteLogGroup', Resource: '*' })
  },
  {
    name: 'policy-document-statement-split',
    project: 'serverless-patterns',
    file: 's3-trigger-lambda-glue-workflow-terraform/main.tf',
    address: 'data.aws_iam_policy_document.policy_document',
    change: d =>
      void d.Statement.push({
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: 'arn:aws:s3:::landing/incoming/*',
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } }
      })
  },
  {
    name: 'jsonencode-json-style-keys',
    project: 'serverless-patterns',
    file: 'apigw-sfn-crud-terraform/main.tf',
    address: 'aws_iam_role.API_SF_CRUD-tf_CFRole',
    startLine: 359,
    change: d => (statement(d, 0).Action = ['logs:CreateLogDelivery', 'logs:DescribeLogGroups'])
  }
]

describe('rewriting Terraform policies in place', () => {
  test.each(GOLDEN)('$name: the whole diff is the golden one', async c => {
    const file = fixtureFile(c.project, c.file)
    const policy = await policyAt([file], c.address, c.startLine)
    const after = await terraformReader.rewrite(file, policy, edited(policy.document, c.change))
    expectGolden(c.name, file, after)
    expect((await parseHcl(after)).rootNode.hasError).toBe(false)
  })

  test('every rewritable policy of every fixture, rewritten to its own document, is byte-identical', async () => {
    let checked = 0
    for (const project of ['stratus-red-team', 'serverless-patterns', 'terraform-aws-iam']) {
      const files = fixtureFiles(project)
      const reading = await terraformReader.read(files)
      for (const policy of new Set(reading.roles.flatMap(r => r.policies))) {
        if (policy.notRewritable !== undefined) continue
        const file = files.find(f => f.path === policy.location.file)
        if (!file) throw new Error(policy.location.file)
        expect(await terraformReader.rewrite(file, policy, policy.document)).toBe(file.text)
        checked++
      }
    }
    expect(checked).toBe(23)
  })

  test('a policy blocked by an expression is not rewritten, and says which expression', async () => {
    const file = fixtureFile('terraform-aws-iam', 'modules/iam-role/main.tf')
    const policy = await policyAt([file], 'data.aws_iam_policy_document.inline')
    await expect(terraformReader.rewrite(file, policy, policy.document)).rejects.toThrow(
      'modules/iam-role/main.tf: data.aws_iam_policy_document.inline: not rewritten: count = local.create_inline_policy ? 1 : 0'
    )
  })

  test('narrowing a resource written as an expression is refused (never replaced by a literal)', async () => {
    const file = fixtureFile('serverless-patterns', 'apigw-lambda-qldb-terraform/main.tf')
    const policy = await policyAt([file], 'data.aws_iam_policy_document.lambda_policy_document_create_person')
    const narrowed = edited(
      policy.document,
      d => (statement(d, 1).Resource = 'arn:aws:qldb:eu-west-1:1:ledger/x/*')
    )
    await expect(terraformReader.rewrite(file, policy, narrowed)).rejects.toThrow(
      'not rewritten: Resource of statement 2 is the expression "${aws_qldb_ledger.ledger.arn}/*"'
    )
  })

  test('a resource read from an expression is never written as its conservative literal', async () => {
    const file = fixtureFile('serverless-patterns', 'apigw-sfn-crud-terraform/main.tf')
    const policy = await policyAt([file], 'aws_iam_role_policy.API_SF_CRUD-tf_APIPolicy')
    const merged = edited(policy.document, d => {
      d.Statement = [
        {
          Effect: 'Allow',
          Action: ['states:StartExecution'],
          Resource: ['*', 'arn:aws:states:eu-west-1:1:stateMachine:x']
        }
      ]
    })
    await expect(terraformReader.rewrite(file, policy, merged)).rejects.toThrow(
      'the proposal writes Resource "*", which was read from an expression: not rewritten'
    )
  })

  test('a JSON policy file read by file() is rewritten as JSON', async () => {
    const main = {
      path: 'main.tf',
      text: 'resource "aws_iam_role" "app" {\n  name = "app"\n}\n\nresource "aws_iam_role_policy" "read" {\n  role   = aws_iam_role.app.id\n  policy = file("./read.json")\n}\n'
    }
    const json = {
      path: 'read.json',
      text: '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}\n    ]\n}\n'
    }
    const policy = await policyAt([main, json], 'aws_iam_role_policy.read')
    expect(policy.location.file).toBe('read.json')
    const after = await terraformReader.rewrite(
      json,
      policy,
      edited(policy.document, d => (statement(d, 0).Action = ['s3:GetObject']))
    )
    expect(after).toBe(
      '{\n    "Version": "2012-10-17",\n    "Statement": [\n        {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}\n    ]\n}\n'
    )
  })

  test('per statement: one holding an expression is kept as written, the literal ones are rewritten', async () => {
    const file = {
      path: 'main.tf',
      text: `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_role_policy" "mixed" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = var.extra_actions, Resource = "*" },
      {
        Effect   = "Allow"
        Action   = ["s3:*"] # too wide
        Resource = "*"
      },
      { Effect = "Deny", Action = "s3:DeleteBucket", Resource = "arn:aws:s3:::\${var.bucket}" },
    ]
  })
}

data "aws_iam_policy_document" "doc" {
  statement {
    actions   = ["sqs:*"]
    resources = ["*"]
  }
  statement {
    actions   = ["sns:*"]
    resources = ["*"]
    condition {
      test     = "StringEquals"
      variable = "aws:PrincipalOrgID"
      values   = [var.org]
    }
  }
}

resource "aws_iam_role_policy" "doc" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.doc.json
}
`
    }
    const mixed = await policyAt([file], 'aws_iam_role_policy.mixed')
    expect(mixed.notRewritable).toBeUndefined()
    expect(mixed.keptStatements).toEqual([
      { statement: 0, index: 0, expression: 'var.extra_actions' },
      { statement: 2, expression: '"arn:aws:s3:::${var.bucket}"' }
    ])
    const narrowed = edited(mixed.document, d => (statement(d, 1).Action = ['s3:GetObject']))
    const after = await terraformReader.rewrite(file, mixed, narrowed)
    const doc = await policyAt([{ ...file, text: after }], 'data.aws_iam_policy_document.doc')
    expect(doc.keptStatements).toEqual([{ statement: 1, index: 1, expression: 'var.org' }])
    const both = await terraformReader.rewrite(
      { ...file, text: after },
      doc,
      edited(doc.document, d => (statement(d, 0).Action = 'sqs:SendMessage'))
    )
    expectGolden('per-statement-kept', file, both)
    // Read back, each policy is exactly the proposal; the kept statements are still there as written.
    const reread = await terraformReader.read([{ ...file, text: both }])
    const policies = reread.roles.flatMap(r => r.policies)
    expect(policies.find(p => p.location.address === mixed.location.address)?.document).toEqual(narrowed)
    expect(
      policies.find(p => p.location.address === doc.location.address)?.document.Statement[0]?.Action
    ).toBe('sqs:SendMessage')
    expect(both).toContain('{ Effect = "Allow", Action = var.extra_actions, Resource = "*" }')
    expect(both).toContain('values   = [var.org]')

    // The kept statement itself is never edited, and a proposal that drops a statement is refused, naming it.
    await expect(
      terraformReader.rewrite(
        file,
        mixed,
        edited(mixed.document, d => (statement(d, 0).Action = 's3:GetObject'))
      )
    ).rejects.toThrow('not rewritten: statement 1 holds var.extra_actions, which is kept as written')
    await expect(
      terraformReader.rewrite(
        file,
        mixed,
        edited(mixed.document, d => d.Statement.splice(1, 1))
      )
    ).rejects.toThrow(
      'not rewritten: the proposal removes or reshapes statements, and statement 1 holds var.extra_actions, which is kept as written'
    )
  })

  test('`Statement = {...}` (one statement as an object) keeps its form', async () => {
    const file = {
      path: 'main.tf',
      text: `resource "aws_iam_role" "app" {
  name = "app"
  inline_policy {
    name = "one"
    policy = jsonencode({
      Version = "2012-10-17"
      # the one statement, as an object
      Statement = {
        Effect   = "Allow"
        Action   = ["sqs:*"] # too wide
        Resource = "*"
      }
    })
  }
}
`
    }
    const policy = await policyAt([file], 'aws_iam_role.app')
    expect(policy.document.Statement).toEqual([{ Effect: 'Allow', Action: ['sqs:*'], Resource: '*' }])
    const after = await terraformReader.rewrite(
      file,
      policy,
      edited(policy.document, d => (statement(d, 0).Action = ['sqs:SendMessage']))
    )
    expect(after).toBe(file.text.replace('["sqs:*"]', '["sqs:SendMessage"]'))
  })

  test('property: rewriting then re-reading yields exactly the proposal, and nothing outside the body changes', async () => {
    const bases = [
      {
        project: 'stratus-red-team',
        file: `${STRATUS}/defense-evasion/organizations-leave/main.tf`,
        address: 'aws_iam_role.role'
      },
      {
        project: 'stratus-red-team',
        file: `${STRATUS}/defense-evasion/vpc-remove-flow-logs/main.tf`,
        address: 'aws_iam_role_policy.example'
      },
      {
        project: 'serverless-patterns',
        file: 'apigw-lambda-qldb-terraform/main.tf',
        address: 'data.aws_iam_policy_document.lambda_policy_document_get_person',
        // A variant derived here: the ledger ARN written literally, so that every value may change.
        derive: (text: string) =>
          text
            .replaceAll(
              '"${aws_qldb_ledger.ledger.arn}/*"',
              '"arn:aws:qldb:eu-west-1:123456789012:ledger/people/*"'
            )
            .replaceAll('aws_qldb_ledger.ledger.arn', '"arn:aws:qldb:eu-west-1:123456789012:ledger/people"')
      }
    ]
    for (const base of bases) {
      const original = fixtureFile(base.project, base.file)
      const file = 'derive' in base ? { path: original.path, text: base.derive(original.text) } : original
      const policy = await policyAt([file], base.address)
      const lines = file.text.split('\n')
      await fc.assert(
        fc.asyncProperty(fc.boolean(), statements, async (keepShape, written) => {
          const proposal: PolicyDocumentJson = keepShape
            ? edited(policy.document, d => {
                for (const [i, s] of d.Statement.entries())
                  s.Action = written[i % written.length]?.Action ?? '*'
              })
            : { Version: '2012-10-17', Statement: written }
          const after = await terraformReader.rewrite(file, policy, proposal)
          expect((await parseHcl(after)).rootNode.hasError).toBe(false)
          const reread = await policyAt([{ path: file.path, text: after }], base.address)
          const expected = base.address.startsWith('data.') ? singletonsAsStrings(proposal) : proposal
          expect(reread.document).toEqual(expected)
          const afterLines = after.split('\n')
          const { startLine, endLine } = policy.location
          expect(afterLines.slice(0, startLine - 1)).toEqual(lines.slice(0, startLine - 1))
          expect(afterLines.slice(afterLines.length - (lines.length - endLine))).toEqual(lines.slice(endLine))
        }),
        { numRuns: 30, seed: 16 }
      )
    }
  })
})

/** An aws_iam_policy_document renders a one-element list as a single string. */
function singletonsAsStrings(document: PolicyDocumentJson): PolicyDocumentJson {
  const one = (v: unknown): unknown => (Array.isArray(v) && v.length === 1 ? v[0] : v)
  return {
    ...document,
    Statement: document.Statement.map(s =>
      Object.fromEntries(
        Object.entries(s).map(([k, v]) => [
          k,
          k === 'Condition'
            ? Object.fromEntries(
                Object.entries(v as Record<string, Record<string, unknown>>).map(([t, vars]) => [
                  t,
                  Object.fromEntries(Object.entries(vars).map(([n, x]) => [n, one(x)]))
                ])
              )
            : one(v)
        ])
      )
    )
  }
}
