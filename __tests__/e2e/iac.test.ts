/**
 * End to end through the committed dist/index.js: pull-request mode on a workspace whose roles are defined in a
 * CloudFormation template edits that template (and writes no policy file for them).
 */
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { readFileSync } from 'node:fs'
import { awsInputs, startWorld, stopWorld } from '../support/action-world.js'
import type { World } from '../support/action-world.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'
import { runAction } from '../support/run-action.js'
import type { NodeVersion } from '../support/run-action.js'

const TEMPLATE = readFileSync('examples/iac/cloudformation/stratus-roles.yaml', 'utf8')

describe.each<NodeVersion>(['node20', 'node24'])('dist/index.js with infrastructure code on %s', node => {
  let world: World
  beforeAll(async () => {
    world = await startWorld()
  })
  afterAll(() => stopWorld(world))

  it('pull-request mode edits the CloudFormation template the role is granted from', async () => {
    const run = await runAction({
      node,
      inputs: {
        ...awsInputs(world, [STRATUS_ROLES.stealCredentials]),
        mode: 'pull-request',
        'granted-source': 'iac',
        'iac-path': 'infra'
      },
      env: world.env,
      workspace: { 'infra/stratus-roles.yaml': TEMPLATE }
    })
    expect(run.stdout.split('\n').filter(line => line.startsWith('::error::'))).toEqual([])
    expect(run.code).toBe(0)
    expect(run.outputs['pull-request-url']).toMatch(/\/pull\/\d+$/)
    const branch = 'iam-least-privilege/proposals'
    const edited = world.github.readFile(branch, 'infra/stratus-roles.yaml')
    expect(edited).toBe(TEMPLATE.replace('Action: ec2:Describe* #', 'Action: ec2:DescribeInstances #'))
    const account = world.aws.accountId
    expect(
      world.github.readFile(branch, `iam/least-privilege/${account}/${STRATUS_ROLES.stealCredentials}.json`)
    ).toBeUndefined()
    expect(world.github.validationFailures).toEqual([])
  })
})
