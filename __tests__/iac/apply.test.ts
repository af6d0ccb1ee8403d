/**
 * The proposals applied to the code (planIacEdits): a policy with a statement holding an expression has its literal
 * statements narrowed, the other kept as written and named with the expression.
 */
import { describe, expect, test } from '@jest/globals'
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { iacDiff, planIacEdits } from '../../src/iac/apply.js'
import type { IacLocation } from '../../src/iac/model.js'
import { readIacFolder } from '../../src/iac/workspace.js'
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

/** `infra/main.tf` holding `text`, in a new folder, read. */
async function readCode(prefix: string, text: string) {
  const root = mkdtempSync(join(tmpdir(), prefix))
  mkdirSync(join(root, 'infra'))
  writeFileSync(join(root, 'infra/main.tf'), text)
  return readIacFolder(join(root, 'infra'), root)
}

/** The report of a run in which role `app` is analyzed, and its one excess action is `action`, granted by `grantedBy`. */
function appReport(action: string, grantedBy: string, fields: Record<string, unknown>): ReportV1 {
  const excess = {
    count: 1,
    groups: [
      {
        service: action.split(':')[0],
        accessLevel: 'Write',
        grantedBy: [grantedBy],
        count: 1,
        actions: [action]
      }
    ]
  }
  return {
    roles: [{ arn: 'arn:aws:iam::111122223333:role/app', status: 'analyzed', excess, ...fields }]
  } as unknown as ReportV1
}

const S3_ALL = 'arn:aws:iam::aws:policy/AmazonS3FullAccess'

/** The report of role `app`, granted AmazonS3FullAccess by the code at `role` and not using s3:DeleteBucket. */
function s3FullAccessReport(role: IacLocation | undefined): ReportV1 {
  return appReport('s3:DeleteBucket', 'AmazonS3FullAccess', {
    grantedFrom: [],
    iacAwsManaged: {
      role,
      policies: [
        {
          name: 'AmazonS3FullAccess',
          arn: S3_ALL,
          kind: 'managed',
          awsManaged: true,
          document: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }]
          },
          origin: 'test'
        }
      ]
    }
  })
}

describe('applying proposals to infrastructure code', () => {
  test('a statement holding an expression is kept and named; the literal statement beside it is narrowed', async () => {
    const iac = await readCode('iac-apply-', MAIN)
    const policy = iac.reading.roles[0]?.policies[0]
    if (!policy) throw new Error('no policy read')
    const report = appReport('sqs:DeleteQueue', 'app', { grantedFrom: [policy.location] })
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
    const iac = await readCode('iac-shared-', POLICY + extra)
    const role = iac.reading.roles.find(r => r.location.address === 'aws_iam_role.app')
    const report = appReport('sqs:DeleteQueue', 'p', { grantedFrom: role?.policies.map(p => p.location) })
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
    const iac = await readCode(
      'iac-shared-doc-',
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
    const report = appReport('sqs:DeleteQueue', 'app', { grantedFrom: role?.policies.map(p => p.location) })
    const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
    expect(edits).toEqual([])
    expect(notes).toEqual([expect.stringContaining('also granted to aws_iam_user_policy.bob')])
  })
})

test('a wildcard narrowed into more actions than IAM accepts in one policy is not rewritten, and the note says so', async () => {
  const iac = await readCode(
    'iac-size-',
    `resource "aws_iam_role" "app" {
  name = "app"
}

resource "aws_iam_role_policy" "app" {
  role   = aws_iam_role.app.id
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "*", Resource = "*" }] })
}
`
  )
  const report = appReport('sqs:DeleteQueue', 'app', {
    grantedFrom: iac.reading.roles[0]?.policies.map(p => p.location)
  })
  const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
  expect(edits).toEqual([])
  expect(notes).toEqual([
    expect.stringMatching(/not rewritten: narrowed, it is \d+ characters, more than IAM accepts \(10240\)/)
  ])
})

test("an AWS-managed policy is not replaced when the role's inline policies and its part would exceed IAM's limit together", async () => {
  // The role's own inline policy: about 8,000 of the 10,240 characters all the inline policies of a role may hold.
  const actions = Array.from({ length: 350 }, () => '"ec2:DescribeInstances"').join(', ')
  const role = (inline: boolean) => `resource "aws_iam_role" "app" {
  name                = "app"
  managed_policy_arns = ["${S3_ALL}"]
${inline ? `  inline_policy {\n    name   = "describe"\n    policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = [${actions}], Resource = "*" }] })\n  }\n` : ''}}
`
  const plan = async (inline: boolean) => {
    const iac = await readCode('iac-inline-total-', role(inline))
    const location = iac.reading.roles[0]?.location
    const report = s3FullAccessReport(location)
    return planIacEdits(report, iac, loadCatalog())
  }
  const alone = await plan(false)
  expect(alone.notes).toEqual([expect.stringMatching(/AmazonS3FullAccess: detached, and the 1 statement/)])
  const beside = await plan(true)
  expect(beside.edits).toEqual([])
  expect(beside.notes).toEqual([
    expect.stringMatching(
      /AmazonS3FullAccess: the part the role needs is \d+ characters, and with it the role's inline policies would be \d+, more than IAM accepts \(10240\); not replaced$/
    )
  ])
})

test('CloudFormation: a managed policy that also names Users is not narrowed for the role', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iac-shared-cfn-'))
  mkdirSync(join(root, 'infra'))
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
    writeFileSync(join(root, 'infra/template.yaml'), template(users))
    const iac = await readIacFolder(join(root, 'infra'), root)
    const report = appReport('sqs:DeleteQueue', 'Queue', {
      grantedFrom: iac.reading.roles[0]?.policies.map(p => p.location)
    })
    return planIacEdits(report, iac, loadCatalog())
  }
  expect((await plan('')).edits).toHaveLength(1)
  const shared = await plan('\n      Users: [bob]')
  expect(shared.edits).toEqual([])
  expect(shared.notes).toEqual([expect.stringContaining('also granted to Users; not rewritten')])
})

describe('a used action the catalog does not know (newer than it) survives the narrowing of a wildcard', () => {
  test('sqs:* narrowed keeps the used sqs action the catalog lacks, beside the catalogued one', async () => {
    const text = `resource "aws_iam_role" "app" {\n  name = "app"\n}\n\nresource "aws_iam_role_policy" "app" {\n  role   = aws_iam_role.app.id\n  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sqs:*", Resource = "*" }] })\n}\n`
    const iac = await readCode('iac-uncatalogued-', text)
    const policy = iac.reading.roles[0]?.policies[0]
    if (!policy) throw new Error('no policy read')
    const catalog = loadCatalog()
    expect(catalog.action('sqs:SendMessageToTheFuture')).toBeUndefined()
    const excess = catalog.expand('sqs:*').filter(a => a !== 'sqs:SendMessage')
    const report = {
      roles: [
        {
          arn: 'arn:aws:iam::111122223333:role/app',
          status: 'analyzed',
          used: ['sqs:SendMessage', 'sqs:SendMessageToTheFuture', 's3:GetObject'],
          excess: {
            count: excess.length,
            groups: [
              {
                service: 'sqs',
                accessLevel: 'Write',
                grantedBy: ['app'],
                count: excess.length,
                actions: excess
              }
            ]
          },
          grantedFrom: [policy.location]
        }
      ]
    } as unknown as ReportV1
    const { edits } = await planIacEdits(report, iac, catalog)
    expect(edits[0]?.after).toBe(
      text.replace('Action = "sqs:*"', 'Action = ["sqs:SendMessage", "sqs:SendMessageToTheFuture"]')
    )
  })
})

describe('a module holding a file no reader reads (Terraform merges it with the others) is never edited', () => {
  const POLICY = `resource "aws_iam_role" "app" {\n  name = "app"\n}\n\nresource "aws_iam_role_policy" "app" {\n  role   = aws_iam_role.app.id\n  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = ["sqs:SendMessage", "sqs:DeleteQueue"], Resource = "*" }] })\n}\n`
  test.each([
    ['an override file', 'infra/main_override.tf'],
    ['Terraform JSON syntax', 'infra/extra.tf.json']
  ])('%s beside the policy: not rewritten, and the note names it', async (_what, other) => {
    const root = mkdtempSync(join(tmpdir(), 'iac-unread-'))
    mkdirSync(join(root, 'infra'))
    writeFileSync(join(root, 'infra/main.tf'), POLICY)
    writeFileSync(
      join(root, other),
      other.endsWith('.json') ? '{}' : 'resource "aws_iam_role_policy" "app" {\n}\n'
    )
    const iac = await readIacFolder(join(root, 'infra'), root)
    const policy = iac.reading.roles[0]?.policies[0]
    if (!policy) throw new Error('no policy read')
    const { edits, notes } = await planIacEdits(
      appReport('sqs:DeleteQueue', 'app', { grantedFrom: [policy.location] }),
      iac,
      loadCatalog()
    )
    expect(edits).toEqual([])
    expect(notes).toEqual([
      `infra/main.tf:5 aws_iam_role_policy.app: not rewritten: ${other} in the same module is not read, and Terraform merges it with this file; edit by hand`
    ])
  })
})

test('an AWS-managed policy of a role whose module holds an override file is not detached', async () => {
  const root = mkdtempSync(join(tmpdir(), 'iac-unread-detach-'))
  mkdirSync(join(root, 'infra'))
  writeFileSync(
    join(root, 'infra/main.tf'),
    `resource "aws_iam_role" "app" {\n  name                = "app"\n  managed_policy_arns = ["${S3_ALL}"]\n}\n`
  )
  // Terraform merges it into the role: the ARN would stay attached whatever main.tf says.
  writeFileSync(
    join(root, 'infra/override.tf'),
    `resource "aws_iam_role" "app" {\n  managed_policy_arns = ["${S3_ALL}"]\n}\n`
  )
  const iac = await readIacFolder(join(root, 'infra'), root)
  const report = s3FullAccessReport(iac.reading.roles[0]?.location)
  const { edits, notes } = await planIacEdits(report, iac, loadCatalog())
  expect(edits).toEqual([])
  expect(notes).toEqual([
    `infra/main.tf:1 aws_iam_role.app: ${S3_ALL}: not detached: infra/override.tf in the same module is not read, and Terraform merges it with this file; edit by hand`
  ])
})
