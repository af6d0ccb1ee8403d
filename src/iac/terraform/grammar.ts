/**
 * The HCL parser: tree-sitter's HCL grammar (its Terraform dialect) on the WebAssembly tree-sitter runtime, both
 * embedded (wasm.generated.ts): nothing is read from disk and no native addon is built or loaded.
 */
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter'
import { RUNTIME_WASM, TERRAFORM_GRAMMAR_WASM } from './wasm.generated.js'

export type { Node as HclNode, Tree as HclTree }

let parser: Promise<Parser> | undefined

async function load(): Promise<Parser> {
  await Parser.init({ wasmBinary: Buffer.from(RUNTIME_WASM, 'base64') })
  const language = await Language.load(Buffer.from(TERRAFORM_GRAMMAR_WASM, 'base64'))
  const created = new Parser()
  created.setLanguage(language)
  return created
}

/** Parses HCL text. Node positions are UTF-8 byte offsets (`startIndex`) and 0-based rows. */
export async function parseHcl(text: string): Promise<Tree> {
  parser ??= load()
  const tree = (await parser).parse(text)
  if (!tree) throw new Error('the HCL parser returned no tree')
  return tree
}
