/**
 * The proposals applied to the code (planIacEdits): a policy with a statement holding an expression has its literal
 * statements narrowed, the other kept as written and named with the expression.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { iacDiff, planIacEdits } from '../../src/iac/apply.js'
import { readIacFolder } from '../../src/iac/workspace.js'
import type { IacRole } from '../../src/iac/model.js'
import type { ReportV1 } from '../../src/model.js'
import { loadCatalog } from '../../src/policy/catalog.js'

const MAIN = `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_role_policy" "app" {
  role = aws_iam_role.app.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Effect = "Allow", Action = var.extra, Resource = "*" },
      { Effect = "Allow", Action = ["sqs:SendMessage", "sqs:DeleteQueue"], Resource = "*" },
    ]
  })
}
`

/** `text` written to infra/`file` of a new workspace, read as its infrastructure code. */
async function readInfra(file: string, text: string) {
  const root = mkdtempSync(join(tmpdir(), 'iac-apply-'))
  mkdirSync(join(root, 'infra'))
  writeFileSync(join(root, 'infra', file), text)
  return readIacFolder(join(root, 'infra'), root)
}

/** A report of the role app, analyzed: sqs:DeleteQueue is granted beyond its use, by `grantedBy` of `role`'s policies. */
function deleteQueueExcess(grantedBy: string, role: IacRole | undefined): ReportV1 {
  return {
    roles: [
      {
        arn: 'arn:aws:iam::111122223333:role/app',
        status: 'analyzed',
        excess: {
          count: 1,
          groups: [
            {
              service: 'sqs',
              accessLevel: 'Write',
              grantedBy: [grantedBy],
              count: 1,
              actions: ['sqs:DeleteQueue']
            }
          ]
        },
        grantedFrom: role?.policies.map(p => p.location)
      }
    ]
  } as unknown as ReportV1
}

describe('applying proposals to infrastructure code', () => {
  test('a statement holding an expression is kept and named; the literal statement beside it is narrowed', async () => {
    const iac = await readInfra('main.tf', MAIN)
    const role = iac.reading.roles[0]
    expect(role?.policies).toHaveLength(1)
    const report = deleteQueueExcess('app', role)
    const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
    expect(notes).toEqual(['infra/main.tf:5 aws_iam_role_policy.app: statement 1 kept as written: var.extra'])
    expect(edits.map(e => e.file)).toEqual(['infra/main.tf'])
    expect(edits[0]?.after).toBe(
      MAIN.replace('["sqs:SendMessage", "sqs:DeleteQueue"]', '["sqs:SendMessage"]')
    )
    expect(iacDiff(edits)).toContain(
      '+      { Effect = "Allow", Action = ["sqs:SendMessage"], Resource = "*" },'
    )
  })
})

describe('a policy the code grants to more than the analyzed role is never narrowed', () => {
  const POLICY = `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_policy" "p" {
  name = "p"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["sqs:SendMessage", "sqs:DeleteQueue"], Resource = "*" }]
  })
}

resource "aws_iam_role_policy_attachment" "app" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.p.arn
}
`
  async function plan(extra: string) {
    const iac = await readInfra('main.tf', POLICY + extra)
    const role = iac.reading.roles.find(r => r.location.address === 'aws_iam_role.app')
    const report = deleteQueueExcess('p', role)
    return planIacEdits(report, iac, loadCatalog())
  }

  test('alone on the role, it is narrowed', async () => {
    const { edits } = await plan('')
    expect(edits).toHaveLength(1)
  })

  test.each([
    [
      'another role of the code, not analyzed in this run',
      'resource "aws_iam_role" "other" {\n  name = "other"\n}\n\nresource "aws_iam_role_policy_attachment" "other" {\n  role       = aws_iam_role.other.name\n  policy_arn = aws_iam_policy.p.arn\n}\n',
      'also granted to other roles of the code'
    ],
    [
      'a user',
      'resource "aws_iam_user_policy_attachment" "bob" {\n  user       = "bob"\n  policy_arn = aws_iam_policy.p.arn\n}\n',
      'also granted to aws_iam_user_policy_attachment.bob'
    ],
    [
      'the groups of an aws_iam_policy_attachment',
      'resource "aws_iam_policy_attachment" "ops" {\n  name       = "ops"\n  roles      = [aws_iam_role.app.name]\n  groups     = ["ops"]\n  policy_arn = aws_iam_policy.p.arn\n}\n',
      'also granted to aws_iam_policy_attachment.ops'
    ],
    [
      'a role given by a variable',
      'resource "aws_iam_role_policy_attachment" "more" {\n  role       = var.more\n  policy_arn = aws_iam_policy.p.arn\n}\n',
      'also granted to aws_iam_role_policy_attachment.more'
    ],
    ['an output', 'output "policy" {\n  value = aws_iam_policy.p.arn\n}\n', 'also granted to output.policy']
  ])('shared with %s: not rewritten, and the note says with what', async (_what, extra, note) => {
    const { edits, notes } = await plan(extra)
    expect(edits).toEqual([])
    expect(notes).toEqual([expect.stringContaining(note)])
  })

  test('a policy document data source that another policy also uses is not rewritten', async () => {
    const iac = await readInfra(
      'main.tf',
      `resource "aws_iam_role" "app" {
  name = "app"
}

data "aws_iam_policy_document" "queue" {
  statement {
    actions   = ["sqs:SendMessage", "sqs:DeleteQueue"]
    resources = ["*"]
  }
}

resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = data.aws_iam_policy_document.queue.json
}

resource "aws_iam_user_policy" "bob" {
  user   = "bob"
  policy = data.aws_iam_policy_document.queue.json
}
`
    )
    const role = iac.reading.roles.find(r => r.location.address === 'aws_iam_role.app')
    const report = deleteQueueExcess('app', role)
    const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
    expect(edits).toEqual([])
    expect(notes).toEqual([expect.stringContaining('also granted to aws_iam_user_policy.bob')])
  })
})

test('a wildcard narrowed into more actions than IAM accepts in one policy is not rewritten, and the note says so', async () => {
  const iac = await readInfra(
    'main.tf',
    `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
`
  )
  const report = deleteQueueExcess('app', iac.reading.roles[0])
  const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
  expect(edits).toEqual([])
  expect(notes).toEqual([
    expect.stringMatching(/not rewritten: narrowed, it is \d+ characters, more than IAM accepts \(10240\)/)
  ])
})

test('CloudFormation: a managed policy that also names Users is not narrowed for the role', async () => {
  const template = (users: string) => `Resources:
  App:
    Type: AWS::IAM::Role
    Properties:
      RoleName: app
      AssumeRolePolicyDocument: {}
  Queue:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      Roles: [!Ref App]${users}
      PolicyDocument:
        Version: '2012-10-17'
        Statement:
          - Effect: Allow
            Action: [sqs:SendMessage, sqs:DeleteQueue]
            Resource: '*'
`
  const plan = async (users: string) => {
    const iac = await readInfra('template.yaml', template(users))
    const report = deleteQueueExcess('Queue', iac.reading.roles[0])
    return planIacEdits(report, iac, loadCatalog())
  }
  expect((await plan('')).edits).toHaveLength(1)
  const shared = await plan('\n      Users: [bob]')
  expect(shared.edits).toEqual([])
  expect(shared.notes).toEqual([expect.stringContaining('also granted to Users; not rewritten')])
})
