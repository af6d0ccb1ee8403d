/** What the CloudTrail source cannot see, so it is never called excess. */
import { describe, expect, test } from '@jest/globals'
import { analyzeRole } from '../../src/policy/analyze.js'
import { OPTIONS, allowing, unobservableReason as reason, usageOf } from './builders.js'

describe('unobservable actions', () => {
  test('a versioned read is authorized as s3:GetObjectVersion but recorded as GetObject', () => {
    const grants = allowing(['s3:GetObject', 's3:GetObjectVersion', 's3:DeleteObject'])
    const usage = usageOf(['s3:GetObject', 's3:PutObject'], {
      evidence: { notes: [], dataEventsSeen: ['s3'] }
    })
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(reason(analysis, 's3:GetObjectVersion')).toMatch(/inside s3:GetObject calls/)
    expect(analysis.excess.map(e => e.action)).toEqual(['s3:DeleteObject'])
  })

  test('tags given at creation need ec2:CreateTags without a CreateTags event', () => {
    const grants = allowing(['ec2:RunInstances', 'ec2:CreateTags'])
    const analysis = analyzeRole(grants, usageOf(['ec2:RunInstances']), OPTIONS)
    expect(reason(analysis, 'ec2:CreateTags')).toMatch(
      /tags given when creating a resource \(as in ec2:RunInstances\)/
    )
    expect(analysis.excess).toEqual([])
  })

  test('calls that did not map to an action make their whole service unobservable', () => {
    const grants = allowing(['dynamodb:Query', 'dynamodb:CreateTable', 'ec2:DescribeVpcs'])
    const usage = usageOf(['dynamodb:Query'], {
      evidence: {
        notes: [],
        dataEventsSeen: ['dynamodb'],
        unmapped: [
          {
            eventSource: 'dynamodb.amazonaws.com',
            eventName: 'TransactWriteItems',
            count: 3,
            service: 'dynamodb'
          }
        ]
      }
    })
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(reason(analysis, 'dynamodb:CreateTable')).toMatch(
      /3 dynamodb call\(s\) \(TransactWriteItems\) did not map/
    )
    expect(analysis.excess.map(e => e.action)).toEqual(['ec2:DescribeVpcs'])
  })

  test('high-volume calls trails do not record (PutLogEvents, PutMetricData, PutTraceSegments) are kept', () => {
    const grants = allowing(['logs:PutLogEvents', 'cloudwatch:PutMetricData', 'xray:PutTraceSegments'])
    const analysis = analyzeRole(grants, usageOf(['ec2:DescribeInstances']), OPTIONS)
    expect(analysis.excess).toEqual([])
    expect(analysis.unobservable.map(u => u.action).sort()).toEqual([
      'cloudwatch:PutMetricData',
      'logs:PutLogEvents',
      'xray:PutTraceSegments'
    ])
  })
})

describe('services the source did not read', () => {
  test('are unobservable with the reason given', () => {
    const grants = allowing(['iam:ListRoles', 'ec2:DescribeVpcs'])
    const usage = usageOf(['ec2:DescribeInstances'], {
      unseenServices: [
        { service: 'iam', reason: 'iam records its events in us-east-1, which trail-regions leaves out' }
      ]
    })
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(reason(analysis, 'iam:ListRoles')).toMatch(/us-east-1/)
    expect(analysis.excess.map(e => e.action)).toEqual(['ec2:DescribeVpcs'])
  })
})

describe('permissions checked inside another call', () => {
  test('headers of an upload and tags of a new role are authorized as their own actions, never logged', () => {
    const grants = allowing([
      's3:PutObject',
      's3:PutObjectAcl',
      'iam:CreateRole',
      'iam:TagRole',
      'iam:PutRolePermissionsBoundary',
      'iam:UntagRole'
    ])
    const usage = usageOf(['s3:PutObject', 'iam:CreateRole'], {
      evidence: { notes: [], dataEventsSeen: ['s3'] }
    })
    const analysis = analyzeRole(grants, usage, OPTIONS)
    expect(reason(analysis, 's3:PutObjectAcl')).toMatch(/inside s3:PutObject calls/)
    expect(reason(analysis, 'iam:TagRole')).toMatch(
      /tags given when creating a resource \(as in iam:CreateRole\)/
    )
    expect(reason(analysis, 'iam:PutRolePermissionsBoundary')).toMatch(/inside iam:CreateRole calls/)
    // Removing tags is never part of creating something: still judged.
    expect(analysis.excess.map(e => e.action)).toEqual(['iam:UntagRole'])
  })
})
