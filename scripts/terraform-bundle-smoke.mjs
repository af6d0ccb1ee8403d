// Smoke check of the Terraform reader bundled the way dist/ is (ncc, then the web-tree-sitter fixes of
// bundle.mjs): runs the bundle on a fixture with this Node and with Node 24 (the action's runtime).
// `node scripts/terraform-bundle-smoke.mjs` exits non-zero when either run fails or reads the wrong roles.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { isTreeSitterRuntimeCopy, restoreTreeSitterModuleImport } from './tree-sitter-bundle.mjs'

const ncc = join('node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')
const fixture = resolve(
  '__tests__/fixtures/iac/terraform/stratus-red-team/v2/internal/attacktechniques/aws/defense-evasion/organizations-leave/main.tf'
)
const expected =
  '[["aws_iam_role.role",[{"Version":"2012-10-17","Statement":[{"Action":["ec2:Describe*"],"Effect":"Allow","Resource":"*"}]}]]]'

const out = mkdtempSync(join(tmpdir(), 'terraform-smoke-'))
try {
  execFileSync(
    process.execPath,
    [ncc, 'build', 'scripts/terraform-smoke-entry.ts', '-o', out, '--target', 'es2022', '-q'],
    {
      stdio: 'inherit'
    }
  )
  for (const f of readdirSync(out)) if (isTreeSitterRuntimeCopy(out, f)) rmSync(join(out, f))
  writeFileSync(
    join(out, 'index.js'),
    restoreTreeSitterModuleImport(readFileSync(join(out, 'index.js'), 'utf8'))
  )
  const runs = [
    ['node', process.execPath, [join(out, 'index.js'), fixture]],
    ['node 24', 'npx', ['-y', '-p', 'node@24', 'node', join(out, 'index.js'), fixture]]
  ]
  for (const [name, command, args] of runs) {
    const printed = execFileSync(command, args, { cwd: out, encoding: 'utf8' }).trim()
    if (printed !== expected) throw new Error(`${name}: the bundled reader printed ${printed}`)
    console.log(`${name}: the bundled Terraform reader parsed ${fixture.split('/').slice(-3).join('/')}`)
  }
} finally {
  rmSync(out, { recursive: true, force: true })
}
