/**
 * The gate on a pull request that deletes or renames infrastructure code, through the action's entry in process: the
 * files it takes away are listed through the GitHub API (pulls/list-files on the emulator), read as the base commit
 * has them, and judged with the rest of their module.
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { runActionInProcess } from '../support/action-in-process.js'
import { awsInputs, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import type { EmulatedPullFile } from '../support/github-emulator.js'
import { outputFile } from '../support/run-action.js'

const TERRAFORM = readFileSync('examples/iac/terraform/main.tf', 'utf8')
const WITH_IAM = TERRAFORM.replace('Action   = "ec2:Describe*" #', 'Action   = ["ec2:Describe*", "iam:*"] #')

const rolePolicy = (
  name: string,
  effect: 'Allow' | 'Deny',
  action: string
) => `resource "aws_iam_role_policy" "${name}" {
  name = "${name}"
  role = aws_iam_role.steal_credentials.name
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "${effect}", Action = "${action}", Resource = "*" }]
  })
}
`
const GUARD = rolePolicy('guard', 'Deny', 'iam:*')
const ADMIN = rolePolicy('admin', 'Allow', 'iam:*')

interface Report {
  roles: { status: string; reason?: string; change?: { newFile: boolean; added: { action: string }[] } }[]
}

const errors = (stdout: string) => stdout.split('\n').filter(line => line.startsWith('::error::'))

describe('the gate on a pull request that deletes or renames infrastructure code', () => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(() => stopWorld(world))

  async function gate(
    base: Record<string, string>,
    head: Record<string, string>,
    files: EmulatedPullFile[],
    changedFiles?: number
  ) {
    const baseSha = world.github.pushFiles('main', base, 'Terraform of the roles')
    const number = world.github.addIssue()
    world.github.setPullRequestFiles(number, files)
    const run = await runActionInProcess({
      eventName: 'pull_request',
      payload: {
        number,
        pull_request: {
          number,
          ...(changedFiles === undefined ? {} : { changed_files: changedFiles }),
          head: { ref: 'change', sha: 'f'.repeat(40), repo: { full_name: 'octo-org/infra' } },
          base: { ref: 'main', sha: baseSha, repo: { full_name: 'octo-org/infra' } }
        }
      },
      inputs: {
        ...awsInputs(world, [STRATUS_ROLES.stealCredentials]),
        mode: 'comment',
        'fail-on': 'high',
        'granted-source': 'iac',
        'iac-path': 'infra'
      },
      env: world.env,
      workspace: head
    })
    const report = JSON.parse(readFileSync(outputFile(run, 'report'), 'utf8')) as Report
    return { run, role: report.roles[0] }
  }

  it('fails when the pull request deletes the file holding a Deny, which widens the role', async () => {
    const { run, role } = await gate(
      { 'infra/main.tf': WITH_IAM, 'infra/guard.tf': GUARD },
      { 'infra/main.tf': WITH_IAM },
      [{ filename: 'infra/guard.tf', status: 'removed' }]
    )
    expect(run.code).toBe(1)
    expect(errors(run.stdout)).toHaveLength(1)
    expect(role?.change?.newFile).toBe(false)
    expect(role?.change?.added.length).toBeGreaterThan(0)
    expect(role?.change?.added.filter(a => !a.action.startsWith('iam:'))).toEqual([])
    expect(world.github.validationFailures).toEqual([])
  })

  it('passes when the pull request renames a file without changing it', async () => {
    const { run, role } = await gate(
      { 'infra/main.tf': TERRAFORM, 'infra/admin.tf': ADMIN },
      { 'infra/main.tf': TERRAFORM, 'infra/iam.tf': ADMIN },
      [{ filename: 'infra/iam.tf', status: 'renamed', previous_filename: 'infra/admin.tf' }]
    )
    expect(errors(run.stdout)).toEqual([])
    expect(run.code).toBe(0)
    expect(role?.change).toMatchObject({ newFile: false, added: [] })
  })

  it('fails closed, naming the limit, when the pull request changes more files than GitHub lists', async () => {
    const many = Array.from({ length: 3001 }, (_, i): EmulatedPullFile => ({
      filename: `docs/page-${i}.md`,
      status: 'modified'
    }))
    const reason =
      /changes 3001 files, and GitHub lists at most 3000: the gate cannot see which infrastructure code it deletes or renames; split the pull request/
    const told = await gate({ 'infra/main.tf': TERRAFORM }, { 'infra/main.tf': TERRAFORM }, many, 3001)
    expect(told.run.code).toBe(1)
    expect(told.role).toMatchObject({ status: 'failed', reason: expect.stringMatching(reason) })
    // Without changed_files in the event, the list itself (cut at 3,000) says it may be incomplete.
    const listed = await gate({ 'infra/main.tf': TERRAFORM }, { 'infra/main.tf': TERRAFORM }, many)
    expect(listed.run.code).toBe(1)
    expect(listed.role).toMatchObject({
      status: 'failed',
      reason: expect.stringMatching(/changes 3000 files, and GitHub lists at most 3000/)
    })
  })
})
