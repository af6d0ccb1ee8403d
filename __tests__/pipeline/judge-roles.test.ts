/**
 * What a streamed run keeps of its roles: each role's facts are exact, and the groups that roles granted the same
 * policies have in common (every service none of them used) are held once, not once per role. The judging loop
 * lets a signal in and says how far it got.
 */
import { describe, expect, it } from '@jest/globals'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MemoryLogger } from '../../src/logger.js'
import type { RoleResult } from '../../src/model.js'
import { judgeRoles, roleFacts } from '../../src/pipeline/judge-roles.js'
import type { RoleCase } from '../../src/pipeline/role-case.js'
import { runAnalysis } from '../../src/run.js'
import { role, usageOf } from '../policy/builders.js'
import { configOf, everyRoleInputs, offlineDeps } from '../support/analysis-in-process.js'
import { writeRolesAndTrail } from '../support/roles-and-trail.js'

const ACCOUNT = '111122223333'
const USED = ['ListKeys', 'ListAliases', 'DescribeKey']

describe('a streamed run', () => {
  it('keeps exact facts of each role and one copy of the groups roles have in common', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'judge-roles-'))
    try {
      // Three roles granted `*`, each using a different KMS action.
      const config = configOf({
        ...everyRoleInputs(
          writeRolesAndTrail(
            dir,
            ACCOUNT,
            USED.map((eventName, i) => ({
              name: `wide-${i}`,
              granted: '*',
              call: { eventSource: 'kms.amazonaws.com', eventName }
            }))
          )
        ),
        validate: 'false'
      })
      const streamed: RoleResult[] = []
      const report = await runAnalysis(config, {
        ...offlineDeps(config),
        sink: { begin: () => {}, role: r => void streamed.push(r) }
      })
      expect(report.roles).toHaveLength(USED.length)
      // The facts equal, by value, the facts of the full results handed to the sink.
      expect(report.roles).toEqual(streamed.map(roleFacts))

      const [first, second] = report.roles
      if (!first || !second) throw new Error('roles missing')
      // Each role holds hundreds of groups (a role granted `*`); those of services neither used are one object.
      expect(first.excess.groups.length).toBeGreaterThan(300)
      const s3List = (r: RoleResult) =>
        r.excess.groups.find(g => g.service === 's3' && g.accessLevel === 'List')
      expect(s3List(first)).toBeDefined()
      expect(s3List(second)).toBe(s3List(first))
      const unobservable = (r: RoleResult) => new Set(r.unobservable.groups)
      const shared = [...unobservable(second)].filter(g => unobservable(first).has(g))
      expect(shared.length).toBe(second.unobservable.groups.length)
      // Where the roles differ, each keeps its own group.
      const kmsList = (r: RoleResult) =>
        r.excess.groups.find(g => g.service === 'kms' && g.accessLevel === 'List')
      expect(kmsList(first)?.allExcept).toEqual(['kms:ListKeys'])
      expect(kmsList(second)?.allExcept).toEqual(['kms:ListAliases'])
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 120_000)
})

describe('judging the cases', () => {
  const cases = (): RoleCase[] =>
    ['b', 'a'].map(name => ({
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      name,
      accountId: ACCOUNT,
      grants: role(name, []),
      usage: usageOf([])
    }))
  const judge = (c: RoleCase) => {
    if (!c.grants || !c.usage) throw new Error(`${c.name} judged without its grants or usage`)
    const none = { count: 0, groups: [] }
    const result = {
      arn: c.arn,
      status: 'skipped',
      used: [],
      excess: none,
      unobservable: none,
      conditional: none
    }
    return Promise.resolve(result as unknown as RoleResult)
  }

  it('releases what a case was judged on once it is streamed, in report order', async () => {
    const all = cases()
    const order: string[] = []
    const kept = await judgeRoles(all, judge, {
      sink: { begin: () => {}, role: r => void order.push(r.arn) },
      head: { generatedAt: '2023-06-01T00:00:00.000Z', source: 'cloudtrail' }
    })
    expect(order).toEqual([`arn:aws:iam::${ACCOUNT}:role/a`, `arn:aws:iam::${ACCOUNT}:role/b`])
    expect(kept).toHaveLength(2)
    for (const c of all) expect([c.grants, c.usage]).toEqual([undefined, undefined])
  })

  it('keeps the cases whole without a sink', async () => {
    const all = cases()
    await judgeRoles(all, judge)
    for (const c of all) expect(c.grants && c.usage).toBeDefined()
  })

  it('hands the event loop a turn while it judges: a signal stops it, and the roles left end as failed', async () => {
    const names = ['a', 'b', 'c', 'd', 'e', 'f']
    const all: RoleCase[] = names.map(name => ({
      arn: `arn:aws:iam::${ACCOUNT}:role/${name}`,
      name,
      accountId: ACCOUNT
    }))
    // Each role takes 150 ms of CPU on the loop's clock; the signal arrives as soon as the loop lets it in.
    let now = 0
    const controller = new AbortController()
    setImmediate(() => controller.abort())
    const log = new MemoryLogger()
    const kept = await judgeRoles(
      all,
      c => {
        now += 150
        const none = { count: 0, groups: [] }
        const ended = c.outcome
          ? { status: c.outcome.status, reason: c.outcome.reason }
          : { status: 'analyzed' }
        return Promise.resolve({
          arn: c.arn,
          ...ended,
          used: [],
          excess: none,
          unobservable: none,
          conditional: none
        } as unknown as RoleResult)
      },
      undefined,
      { log, signal: controller.signal, clock: () => now }
    )
    expect(kept.map(r => r.status)).toEqual(['analyzed', 'failed', 'failed', 'failed', 'failed', 'failed'])
    expect(kept[1]?.reason).toBe('not judged: the run was cancelled before this role')
  })

  it('says how far it got on a long run', async () => {
    let now = 0
    const log = new MemoryLogger()
    const all = cases()
    await judgeRoles(
      [...all, ...cases(), ...cases()],
      c => {
        now += 20_000
        return judge(c)
      },
      undefined,
      { log, clock: () => now }
    )
    expect(log.lines.filter(line => line.includes('judged'))).toEqual([
      'info: judged 2 of 6 roles',
      'info: judged 4 of 6 roles'
    ])
  })
})
