/**
 * The differential check of the policy engine on many more seeds than the test runs, with the time per role
 * against a baseline measured in the same run (analyzing a role granted AdministratorAccess-like `*`).
 * Run: npx tsx bench/differential.ts [first-seed] [seeds]
 */
import { performance } from 'node:perf_hooks'
import { analyzeRole } from '../src/policy/analyze.js'
import { checkCase, generateCase } from '../__tests__/support/differential.js'

const first = Number(process.argv[2] ?? 1)
const seeds = Number(process.argv[3] ?? 1000)

const admin = {
  arn: 'arn:aws:iam::111122223333:role/admin',
  name: 'admin',
  path: '/',
  accountId: '111122223333',
  editable: true,
  policies: [
    {
      name: 'admin',
      kind: 'inline' as const,
      awsManaged: false,
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
      origin: 'bench'
    }
  ]
}
const usage = {
  roleArn: admin.arn,
  source: 'access-analyzer' as const,
  window: { start: '2026-01-01T00:00:00Z', end: '2026-03-01T00:00:00Z' },
  complete: true,
  actions: [],
  serviceLevelOnly: [],
  evidence: { notes: [] }
}
analyzeRole({ ...admin }, usage, { keepActions: [], keepSidPrefix: 'Keep' })
const baselineStart = performance.now()
for (let i = 0; i < 5; i++) analyzeRole({ ...admin }, usage, { keepActions: [], keepSidPrefix: 'Keep' })
const baseline = (performance.now() - baselineStart) / 5

let failures = 0
let checked = 0
const outcomes: Record<string, number> = {}
const start = performance.now()
for (let seed = first; seed < first + seeds; seed++) {
  const result = checkCase(generateCase(seed), 40, 60)
  checked += result.checkedActions
  outcomes[result.outcome] = (outcomes[result.outcome] ?? 0) + 1
  for (const f of result.failures) {
    failures++
    console.log(`seed ${seed}: ${f}`)
  }
}
const perSeed = (performance.now() - start) / seeds
console.log(`random trials: ${seeds} (seeds ${first}..${first + seeds - 1}); actions checked: ${checked}`)
console.log(`outcomes: ${JSON.stringify(outcomes)}`)
console.log(`property failures: ${failures}`)
console.log(`time per trial: ${(perSeed / baseline).toFixed(1)}x the analysis of a role granted "*"`)
process.exitCode = failures > 0 ? 1 : 0
