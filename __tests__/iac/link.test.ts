import { describe, expect, test } from '@jest/globals'
import { linkRole } from '../../src/iac/link.js'
import { parseIacMapping } from '../../src/iac/mapping.js'
import { cloudFormationReader } from '../../src/iac/cloudformation/reader.js'
import { terraformReader } from '../../src/iac/terraform/reader.js'
import { parseTerraformState } from '../../src/iac/terraform/state.js'

const ARN = 'arn:aws:iam::111122223333:role/app-7f3a'
const role = (name: string, attribute = 'name_prefix') =>
  `resource "aws_iam_role" "${name}" {\n  ${attribute} = "app-"\n  assume_role_policy = "{}"\n}\n`

const state = (address: string, module?: string) =>
  parseTerraformState(
    JSON.stringify({
      format_version: '1.0',
      values: {
        root_module: module
          ? {
              child_modules: [
                {
                  address: module,
                  resources: [
                    {
                      address: `${module}.${address}`,
                      mode: 'managed',
                      type: 'aws_iam_role',
                      name: address.split('.')[1],
                      values: { arn: ARN, name: 'app-7f3a' }
                    }
                  ]
                }
              ]
            }
          : {
              resources: [
                {
                  address,
                  mode: 'managed',
                  type: 'aws_iam_role',
                  name: address.split('.')[1],
                  values: { arn: ARN, name: 'app-7f3a' }
                }
              ]
            }
      }
    })
  )

describe('linking a deployed role to the code that defines it', () => {
  test('by the Terraform state: the address of the root module whose ARN it is', async () => {
    const { roles } = await terraformReader.read([
      { path: 'infra/main.tf', text: role('app') + role('other') }
    ])
    expect(linkRole('app-7f3a', roles)).toMatchObject({
      why: expect.stringMatching(/^no role named app-7f3a/)
    })
    const linked = linkRole('app-7f3a', roles, { arn: ARN, state: state('aws_iam_role.app') })
    expect(linked.role?.location.address).toBe('aws_iam_role.app')
    expect(linked).toMatchObject({
      how: 'Terraform state (aws_iam_role.app): infra/main.tf:1 (aws_iam_role.app)'
    })
  })

  test('the Terraform state says why not: a module whose code is not read, an address the code lacks, several folders', async () => {
    const one = await terraformReader.read([{ path: 'infra/main.tf', text: role('app') }])
    expect(
      linkRole('app-7f3a', one.roles, { arn: ARN, state: state('aws_iam_role.app', 'module.svc') })
    ).toEqual({
      why: 'the Terraform state has it at module.svc.aws_iam_role.app, inside module.svc, whose code is not read; map it in iac-mapping'
    })
    expect(linkRole('app-7f3a', one.roles, { arn: ARN, state: state('aws_iam_role.gone') })).toEqual({
      why: 'the Terraform state has it at aws_iam_role.gone, which the code under iac-path does not define'
    })
    const two = await terraformReader.read([
      { path: 'a/main.tf', text: role('app') },
      { path: 'b/main.tf', text: role('app') }
    ])
    expect(linkRole('app-7f3a', two.roles, { arn: ARN, state: state('aws_iam_role.app') })).toMatchObject({
      why: expect.stringMatching(
        /defined in several folders \(a\/main\.tf:1 .*, b\/main\.tf:1 .*\); map it in iac-mapping$/
      )
    })
  })

  test('by the mapping file, by ARN or by name, before anything else; a target that defines no role says so', async () => {
    const tf = await terraformReader.read([
      { path: 'a/main.tf', text: role('app') },
      { path: 'b/main.tf', text: role('app') }
    ])
    const cfn = await cloudFormationReader.read([
      {
        path: 'stack.yaml',
        text: 'Resources:\n  AppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: app-7f3a\n'
      }
    ])
    const roles = [...tf.roles, ...cfn.roles]
    const byArn = parseIacMapping(
      JSON.stringify({ [ARN]: { file: './b/main.tf', address: 'aws_iam_role.app' } }),
      'm'
    )
    expect(linkRole('app-7f3a', roles, { arn: ARN, mapping: byArn })).toMatchObject({
      how: 'iac-mapping: b/main.tf:1 (aws_iam_role.app)'
    })
    const byName = parseIacMapping(
      JSON.stringify({ 'app-7f3a': { file: 'a/main.tf', address: 'aws_iam_role.nope' } }),
      'm'
    )
    expect(linkRole('app-7f3a', roles, { arn: ARN, mapping: byName })).toEqual({
      why: 'iac-mapping maps it to aws_iam_role.nope in a/main.tf, which defines no role there'
    })
    // Without the mapping the literal RoleName links it.
    expect(linkRole('app-7f3a', roles)).toMatchObject({
      how: 'role name app-7f3a written in stack.yaml:2 (AppRole)'
    })
  })

  test("by CloudFormation's stack and logical id: the only template, the one named after the stack, or not linked", async () => {
    const template =
      'Resources:\n  AppRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument: {}\n'
    const read = (...paths: string[]) =>
      cloudFormationReader.read(paths.map(path => ({ path, text: template })))
    const tags = { 'aws:cloudformation:stack-name': 'app-prod', 'aws:cloudformation:logical-id': 'AppRole' }
    const hints = { arn: ARN, tags }
    const one = await read('infra/any.yaml')
    expect(linkRole('anything', one.roles, hints)).toMatchObject({
      how: 'tags aws:cloudformation:stack-name=app-prod, aws:cloudformation:logical-id=AppRole: infra/any.yaml:2 (AppRole)'
    })
    const two = await read('infra/app-staging.yaml', 'infra/app-prod.template.json')
    expect(linkRole('anything', two.roles, hints).role?.location.file).toBe('infra/app-prod.template.json')
    const neither = await read('a/stack.yaml', 'b/stack.yaml')
    expect(linkRole('anything', neither.roles, hints)).toEqual({
      why: 'tags aws:cloudformation:stack-name=app-prod, aws:cloudformation:logical-id=AppRole: 2 templates define the logical id (a/stack.yaml:2 (AppRole), b/stack.yaml:2 (AppRole)) and none is named after stack app-prod; name the template app-prod.yaml or map the role in iac-mapping'
    })
    const both = await read('a/app-prod.yaml', 'b/app-prod.yml')
    expect(linkRole('anything', both.roles, hints)).toMatchObject({
      why: expect.stringContaining('and several are named after stack app-prod')
    })
    // The generated name carries the stack too: it picks the template the same way.
    expect(linkRole('app-prod-AppRole-1A2B3C4D5E6F', two.roles).role?.location.file).toBe(
      'infra/app-prod.template.json'
    )
    expect(linkRole('app-prod-AppRole-1A2B3C4D5E6F', neither.roles)).toMatchObject({
      why: expect.stringMatching(/^CloudFormation generated name \(app-prod-AppRole-suffix\): 2 templates/)
    })
    // Tags naming a logical id no template defines leave the other rules to link it.
    expect(
      linkRole('anything', one.roles, {
        arn: ARN,
        tags: { ...tags, 'aws:cloudformation:logical-id': 'Other' }
      })
    ).toMatchObject({ why: expect.stringMatching(/^no role named anything/) })
  })

  test('a mapping file that is not an object of { file, address } is refused with a one-line reason', () => {
    expect(() => parseIacMapping('[', 'map.json')).toThrow(/^map.json is not JSON/)
    expect(() => parseIacMapping('[]', 'map.json')).toThrow(/^map.json must be a JSON object/)
    expect(() => parseIacMapping('{"app": {"file": "a.tf"}}', 'map.json')).toThrow(
      'map.json: "app" must map to { "file": "path", "address": "resource address" }'
    )
  })
})
