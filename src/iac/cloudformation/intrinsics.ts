/**
 * CloudFormation values read statically from the YAML/JSON syntax tree: literals, and the few intrinsic functions
 * whose value is known without a stack (`Fn::Sub` / `Ref` of pseudo parameters, `Fn::Join` of known parts). Anything
 * else (parameters, `Fn::If`, `Fn::ImportValue`, `Fn::GetAtt` ...) becomes an `Unresolved` naming the expression as
 * written: it is never guessed.
 */
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml'
import type { Node } from 'yaml'

/** A value that cannot be known without deploying the template. */
export class Unresolved {
  constructor(readonly expression: string) {}
}

/** What a node evaluates to: JSON-like values, with `Unresolved` where an expression cannot be evaluated. */
export type StaticValue =
  string | number | boolean | null | Unresolved | StaticValue[] | { [key: string]: StaticValue }

/**
 * Pseudo parameters stand for `*`: the deployed value (one partition, account, Region) is always inside the pattern,
 * so the document read never grants less than the stack does. A value built from them is kept as written when a
 * proposal keeps it.
 */
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::Partition',
  'AWS::Region',
  'AWS::URLSuffix',
  'AWS::StackName',
  'AWS::StackId'
])

/** The short-form tag (`!Sub`) or long-form key (`Fn::Sub`) of an intrinsic function, as its long-form name. */
function intrinsicName(node: Node): { name: string; argument: unknown } | undefined {
  const tag = node.tag
  if (tag?.startsWith('!') && !tag.startsWith('!!')) {
    const short = tag.slice(1)
    const name = short === 'Ref' || short === 'Condition' ? short : `Fn::${short}`
    return { name, argument: node }
  }
  if (isMap(node) && node.items.length === 1) {
    const pair = node.items[0]
    const key = pair && isScalar(pair.key) ? pair.key.value : undefined
    if (typeof key === 'string' && (key === 'Ref' || key.startsWith('Fn::') || key === 'Condition'))
      return { name: key, argument: pair?.value }
  }
  return undefined
}

/** Whether a node is an intrinsic function call (short or long form). */
export function isIntrinsic(node: unknown): boolean {
  return isNodeLike(node) && intrinsicName(node) !== undefined
}

function isNodeLike(value: unknown): value is Node {
  return isScalar(value) || isMap(value) || isSeq(value)
}

/** The expression as written, on one line and short enough for a report. */
export function expressionText(node: Node, text: string): string {
  const range = node.range
  const raw = range ? text.slice(range[0], range[1]) : String(node)
  const written = `${node.tag && range && !raw.startsWith('!') ? `${node.tag} ` : ''}${raw}`
    .replace(/\s+/g, ' ')
    .trim()
  return written.length > 120 ? `${written.slice(0, 117)}...` : written
}

/** The static value of a node of `text`'s syntax tree. */
export function evaluate(node: unknown, text: string): StaticValue {
  if (node === null || node === undefined) return null
  // CloudFormation does not resolve YAML aliases: a template holding one is not read as if it did.
  if (isAlias(node)) return new Unresolved(`*${node.source}`)
  if (!isNodeLike(node)) return null
  const call = intrinsicName(node)
  if (call) return evaluateIntrinsic(call.name, call.argument, node, text)
  if (isScalar(node)) {
    const v = node.value
    return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v === null
      ? v
      : typeof v === 'bigint'
        ? v.toString()
        : new Unresolved(expressionText(node, text))
  }
  if (isSeq(node)) return node.items.map(item => evaluate(item, text))
  if (!isMap(node)) return null
  const out: Record<string, StaticValue> = {}
  for (const pair of node.items) {
    if (!isPair(pair)) continue
    const key = isScalar(pair.key) ? pair.key.value : undefined
    if (typeof key !== 'string' && typeof key !== 'number') continue
    out[String(key)] = evaluate(pair.value, text)
  }
  return out
}

function argumentValue(argument: unknown, self: Node, text: string): StaticValue {
  if (argument === self) {
    // Short form: the tagged node itself, read without its tag.
    if (isScalar(self)) return typeof self.value === 'string' ? self.value : String(self.value)
    if (isSeq(self)) return self.items.map(item => evaluate(item, text))
    return null
  }
  return evaluate(argument, text)
}

function evaluateIntrinsic(name: string, argument: unknown, node: Node, text: string): StaticValue {
  const unresolved = new Unresolved(expressionText(node, text))
  const arg = argumentValue(argument, node, text)
  if (name === 'Ref') return typeof arg === 'string' && PSEUDO_PARAMETERS.has(arg) ? '*' : unresolved
  if (name === 'Fn::Sub') return typeof arg === 'string' ? (substitute(arg) ?? unresolved) : unresolved
  if (name === 'Fn::Join') {
    if (!Array.isArray(arg) || arg.length !== 2) return unresolved
    const [delimiter, parts] = arg
    if (typeof delimiter !== 'string' || !Array.isArray(parts)) return unresolved
    if (!parts.every(p => typeof p === 'string')) return unresolved
    return parts.join(delimiter)
  }
  return unresolved
}

/** `Fn::Sub` of a string naming only pseudo parameters (and `${!Literal}` escapes); undefined for any other variable. */
function substitute(template: string): string | undefined {
  let known = true
  const value = template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`
    if (PSEUDO_PARAMETERS.has(name.trim())) return '*'
    known = false
    return ''
  })
  return known ? value : undefined
}

/** Every expression a value could not be read through, in order. */
export function unresolvedIn(value: StaticValue): string[] {
  if (value instanceof Unresolved) return [value.expression]
  if (Array.isArray(value)) return value.flatMap(unresolvedIn)
  if (value && typeof value === 'object') return Object.values(value).flatMap(unresolvedIn)
  return []
}
