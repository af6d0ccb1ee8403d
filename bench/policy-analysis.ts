/**
 * Policy analysis benchmark: analysis time per role against a naive baseline (every pattern turned into a RegExp
 * and tested on every catalog action), and the cold catalog load. Run: npx tsx bench/policy-analysis.ts
 */
import { readFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import type { RoleGrants, RoleUsage } from '../src/model.js'
import { ACCESS_LEVELS } from '../src/model.js'
import { at } from '../src/policy/at.js'

function managedDocument(name: string): { Statement: Record<string, unknown>[] } {
  const file = new URL(`../examples/data/managed-policies/${name}.json`, import.meta.url)
  return (
    JSON.parse(readFileSync(file, 'utf8')) as {
      PolicyVersion: { Document: { Statement: Record<string, unknown>[] } }
    }
  ).PolicyVersion.Document
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return at(sorted, Math.floor(sorted.length / 2))
}

function time(runs: number, fn: () => unknown): number {
  const samples: number[] = []
  for (let i = 0; i < runs; i++) {
    const start = performance.now()
    fn()
    samples.push(performance.now() - start)
  }
  return median(samples)
}

const coldStart = performance.now()
const { loadCatalogIndex } = await import('../src/policy/catalog.js')
const importMs = performance.now() - coldStart
const decodeStart = performance.now()
const catalog = loadCatalogIndex()
const decodeMs = performance.now() - decodeStart
const { analyzeRole } = await import('../src/policy/analyze.js')

const usage: RoleUsage = {
  roleArn: 'arn:aws:iam::111122223333:role/bench',
  source: 'cloudtrail',
  window: { start: '2023-07-10T12:00:00Z', end: '2023-07-10T12:20:00Z' },
  complete: true,
  actions: ['ec2:DescribeInstances', 'ssm:UpdateInstanceInformation', 's3:ListAllMyBuckets'].map(action => ({
    action,
    resources: ['*']
  })),
  serviceLevelOnly: [],
  evidence: { notes: [] }
}

/** The baseline: RegExp per pattern over every catalog action, then the same classification and ranking. */
function naiveExcess(document: {
  Statement: Record<string, unknown>[]
}): { action: string; accessLevel: string }[] {
  const toRegExp = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i'
    )
  const all = catalog.names
  const granted = new Set<string>()
  for (const statement of document.Statement) {
    if (statement.Effect !== 'Allow') continue
    const list = (value: unknown) =>
      typeof value === 'string' ? [value] : ((value as string[] | undefined) ?? [])
    const include = list(statement.Action).map(toRegExp)
    const exclude = list(statement.NotAction).map(toRegExp)
    for (const name of all) {
      const listed = (statement.NotAction ? exclude : include).some(re => re.test(name))
      if (statement.NotAction ? !listed : listed) granted.add(name)
    }
  }
  const used = new Set(usage.actions.map(a => a.action.toLowerCase()))
  const excess = [...granted]
    .filter(name => !used.has(name.toLowerCase()))
    .map(action => ({ action, accessLevel: catalog.action(action)!.accessLevel }))
  return excess.sort(
    (a, b) =>
      ACCESS_LEVELS.indexOf(a.accessLevel) - ACCESS_LEVELS.indexOf(b.accessLevel) ||
      (a.action < b.action ? -1 : 1)
  )
}

console.log(`catalog ${catalog.dataVersion}: ${catalog.size} actions, ${catalog.services().length} services`)
console.log(`cold catalog load: import ${importMs.toFixed(1)} ms + decode ${decodeMs.toFixed(1)} ms`)
console.log('')
console.log('policy                 granted   analysis (warm, median)   naive baseline   ratio')
for (const name of ['AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess']) {
  const document = managedDocument(name)
  const grants: RoleGrants = {
    arn: `arn:aws:iam::111122223333:role/${name}`,
    name,
    path: '/',
    accountId: '111122223333',
    editable: true,
    policies: [{ name, kind: 'managed', awsManaged: true, document, origin: 'bench' }]
  }
  const options = { keepActions: [], keepSidPrefix: 'Keep' }
  const ours = analyzeRole(grants, usage, options)
  const baseline = naiveExcess(document)
  const sameGranted = ours.grantedCount
  const ourMs = time(50, () => analyzeRole(grants, usage, options))
  const naiveMs = time(name === 'ReadOnlyAccess' ? 3 : 10, () => naiveExcess(document))
  console.log(
    `${name.padEnd(22)} ${String(sameGranted).padStart(7)}   ${ourMs.toFixed(2).padStart(10)} ms              ` +
      `${naiveMs.toFixed(1).padStart(9)} ms   ${(naiveMs / ourMs).toFixed(0).padStart(4)}x` +
      `   (excess: ours ${ours.excess.length + ours.unobservable.length}, naive ${baseline.length})`
  )
}
console.log('')
console.log(
  'targets: < 5 ms per role warm, >= 10x faster than naive. Naive counts unobservable actions as excess.'
)
