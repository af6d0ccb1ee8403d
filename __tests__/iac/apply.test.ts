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

describe('applying proposals to infrastructure code', () => {
  test('a statement holding an expression is kept and named; the literal statement beside it is narrowed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'iac-apply-'))
    mkdirSync(join(root, 'infra'))
    writeFileSync(join(root, 'infra/main.tf'), MAIN)
    const iac = await readIacFolder(join(root, 'infra'), root)
    const policy = iac.reading.roles[0]?.policies[0]
    if (!policy) throw new Error('no policy read')
    const report = {
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
                grantedBy: ['app'],
                count: 1,
                actions: ['sqs:DeleteQueue']
              }
            ]
          },
          grantedFrom: [policy.location]
        }
      ]
    } as unknown as ReportV1
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
