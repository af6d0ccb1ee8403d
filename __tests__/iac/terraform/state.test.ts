import { describe, expect, test } from '@jest/globals'
import { parseTerraformState } from '../../../src/iac/terraform/state.js'

// The shape `terraform show -json` prints (format 1.0): root resources, child modules nested with their addresses.
const STATE = {
  format_version: '1.0',
  terraform_version: '1.9.8',
  values: {
    root_module: {
      resources: [
        {
          address: 'aws_iam_role.scheduler_role',
          mode: 'managed',
          type: 'aws_iam_role',
          name: 'scheduler_role',
          provider_name: 'registry.terraform.io/hashicorp/aws',
          schema_version: 0,
          values: {
            arn: 'arn:aws:iam::123456789012:role/delayed-eb-events-SchedulerRole',
            name: 'delayed-eb-events-SchedulerRole',
            id: 'delayed-eb-events-SchedulerRole',
            path: '/'
          },
          sensitive_values: { inline_policy: [{}], managed_policy_arns: [], tags_all: {} }
        },
        {
          address: 'data.aws_iam_role.existing',
          mode: 'data',
          type: 'aws_iam_role',
          name: 'existing',
          values: { arn: 'arn:aws:iam::123456789012:role/existing', name: 'existing' }
        },
        {
          address: 'aws_iam_policy.scheduler_policy',
          mode: 'managed',
          type: 'aws_iam_policy',
          name: 'scheduler_policy',
          values: { arn: 'arn:aws:iam::123456789012:policy/scheduler_policy', name: 'scheduler_policy' }
        }
      ],
      child_modules: [
        {
          address: 'module.admin',
          resources: [
            {
              address: 'module.admin.aws_iam_role.this[0]',
              mode: 'managed',
              type: 'aws_iam_role',
              name: 'this',
              index: 0,
              values: { arn: 'arn:aws:iam::123456789012:role/admin-20261130', name: 'admin-20261130' }
            }
          ],
          child_modules: [
            {
              address: 'module.admin.module.irsa["ebs"]',
              resources: [
                {
                  address: 'module.admin.module.irsa["ebs"].aws_iam_role.this["ebs"]',
                  mode: 'managed',
                  type: 'aws_iam_role',
                  name: 'this',
                  index: 'ebs',
                  values: { arn: 'arn:aws:iam::123456789012:role/ebs-csi', name: 'ebs-csi' }
                }
              ]
            }
          ]
        }
      ]
    }
  }
}

describe('Terraform state (terraform show -json)', () => {
  test('managed aws_iam_role resources of the root and every child module, by address', () => {
    expect(parseTerraformState(JSON.stringify(STATE))).toEqual([
      {
        address: 'aws_iam_role.scheduler_role',
        module: '',
        resource: 'aws_iam_role.scheduler_role',
        arn: 'arn:aws:iam::123456789012:role/delayed-eb-events-SchedulerRole',
        name: 'delayed-eb-events-SchedulerRole'
      },
      {
        address: 'module.admin.aws_iam_role.this[0]',
        module: 'module.admin',
        resource: 'aws_iam_role.this',
        key: 0,
        arn: 'arn:aws:iam::123456789012:role/admin-20261130',
        name: 'admin-20261130'
      },
      {
        address: 'module.admin.module.irsa["ebs"].aws_iam_role.this["ebs"]',
        module: 'module.admin.module.irsa["ebs"]',
        resource: 'aws_iam_role.this',
        key: 'ebs',
        arn: 'arn:aws:iam::123456789012:role/ebs-csi',
        name: 'ebs-csi'
      }
    ])
  })

  test('an empty state has no values; other input is refused with a one-line reason', () => {
    expect(parseTerraformState('{"format_version":"1.0"}')).toEqual([])
    expect(() => parseTerraformState('not json', 'state.json')).toThrow(
      'state.json is not JSON: give the output of `terraform show -json`'
    )
    expect(() => parseTerraformState('{"version":4,"resources":[]}', 'terraform.tfstate')).toThrow(
      'terraform.tfstate is not `terraform show -json` output (no format_version)'
    )
  })
})
