// Runs every benchmark in bench/ one after the other, each in its own process (so peak RSS figures stay
// per benchmark). Each prints its own ratios against a baseline measured in the same run.
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const only = process.argv.slice(2)
const benches = readdirSync('bench')
  .filter(f => f.endsWith('.ts') && f !== 'run.ts')
  .filter(f => only.length === 0 || only.some(o => f.includes(o)))
  .sort()
let failed = 0
for (const file of benches) {
  console.log(`\n=== bench/${file}`)
  const result = spawnSync(process.execPath, ['--import', 'tsx', `bench/${file}`], { stdio: 'inherit' })
  if (result.status !== 0) failed++
}
process.exitCode = failed > 0 ? 1 : 0
