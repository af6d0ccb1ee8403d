// What an ncc bundle that contains web-tree-sitter needs (used by bundle.mjs and terraform-bundle-smoke.mjs).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

// web-tree-sitter names its runtime as `new URL('web-tree-sitter.wasm', import.meta.url)`, so ncc copies that file
// (as text: the copy is corrupt). It is never read: src/iac/terraform/grammar.ts passes the embedded bytes.
export function isTreeSitterRuntimeCopy(dir, file) {
  return (
    file.endsWith('.wasm') &&
    readFileSync(join(dir, 'index.js'), 'utf8').includes('locateFile("web-tree-sitter.wasm")')
  )
}

// web-tree-sitter starts with `const { createRequire } = await import("module")`. ncc turns that import into a copy
// of the module's own properties, and `createRequire` is a static member of the function `module` exports, so it is
// lost and the runtime fails to start. The native dynamic import works in the ESM bundle.
export function restoreTreeSitterModuleImport(code) {
  if (!code.includes('locateFile("web-tree-sitter.wasm")')) return code
  const lost =
    /const \{ createRequire \} = await Promise\.resolve\(\/\* import\(\) \*\/\)\.then\(__nccwpck_require__\.t\.bind\(__nccwpck_require__, \d+, \d+\)\);/g
  const found = code.match(lost)?.length ?? 0
  if (found !== 1) throw new Error(`web-tree-sitter: expected one bundled import of "module", found ${found}`)
  return code.replace(lost, 'const { createRequire } = await import("module");')
}
