/**
 * Parse and normalize IAM identity-policy documents. Accepts what IAM and the CLI hand out: a parsed object, a
 * JSON string, a URL-encoded JSON string (IAM's wire form), `Statement` as one object or an array, and string-or-array
 * values. Element names are matched case-insensitively; malformed input fails with the JSON path of the problem.
 */
import { inexactNumber } from './json-numbers.js'

export class PolicyDocumentError extends Error {
  constructor(
    readonly policy: string,
    readonly path: string,
    problem: string
  ) {
    super(`Policy "${policy}": ${path ? `${path}: ` : ''}${problem}`)
    this.name = 'PolicyDocumentError'
  }
}

export type Effect = 'Allow' | 'Deny'

export interface NormalizedStatement {
  /** `policy` or `policy#Sid`: how reports name the statement. */
  ref: string
  policy: string
  index: number
  sid?: string
  effect: Effect
  /** Exactly one of actions / notActions is set. */
  actions?: string[]
  notActions?: string[]
  /** Exactly one of resources / notResources is set. */
  resources?: string[]
  notResources?: string[]
  condition?: Record<string, unknown>
  /** Set for Version 2008-10-17, where `${...}` is literal text, not a policy variable. */
  literalDollar?: true
  /** The statement as written, with canonical element names: what keep markers and Deny carry over verbatim. */
  raw: Record<string, unknown>
}

export interface NormalizedPolicy {
  name: string
  version: string
  id?: string
  statements: NormalizedStatement[]
}

const STATEMENT_KEYS = [
  'Sid',
  'Effect',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition'
] as const
const FORBIDDEN_KEYS = ['Principal', 'NotPrincipal']

/** Why policy text does not decode, without quoting it: policy text may come from a pull request. */
export class PolicyTextError extends Error {
  constructor(readonly problem: string) {
    super(problem)
    this.name = 'PolicyTextError'
  }
}

/**
 * The one decoder of policy text, as IAM and the CLI hand it out: IAM's wire form (URL-encoded JSON; the SDK does not
 * decode it) or JSON. JSON text never starts with `%`, so only text that does is URL-decoded. Returns the document and
 * the JSON text it was parsed from; throws a PolicyTextError whose problem reads after "the document".
 */
export function decodePolicyText(text: string): { document: unknown; json: string } {
  let json = text.trimStart()
  if (json.startsWith('%')) {
    try {
      json = decodeURIComponent(json)
    } catch {
      throw new PolicyTextError('is not valid URL-encoded text')
    }
  }
  let document: unknown
  try {
    document = JSON.parse(json)
  } catch (error) {
    throw new PolicyTextError(`is not valid JSON (${jsonErrorPlace(error)})`)
  }
  const inexact = inexactNumber(json)
  if (inexact) throw new PolicyTextError(inexactNumberProblem(inexact))
  return { document, json }
}

/** Why a number is refused, reading after "the document" (or a file's name). */
export function inexactNumberProblem(inexact: { number: string; position: number }): string {
  return (
    `has the number ${inexact.number} (at position ${inexact.position}), which JSON readers do not keep as written; ` +
    `write it as a string ("${inexact.number}")`
  )
}

/**
 * Where JSON.parse failed, without the text around it: the parser's own message quotes the input, and a file from a
 * pull request may hold (or link to) anything.
 */
export function jsonErrorPlace(error: unknown): string {
  const message = error instanceof Error ? error.message : ''
  const position = /at position (\d+)/.exec(message)
  if (position) return `syntax error at position ${position[1] ?? ''}`
  if (/end of JSON input/i.test(message)) return 'the text ends early'
  return 'syntax error'
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Looks up element names case-insensitively; rejects the same element written twice in different case. */
function canonicalKeys(
  policy: string,
  path: string,
  value: Record<string, unknown>,
  known: readonly string[]
): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    const canonical = known.find(k => k.toLowerCase() === key.toLowerCase())
    if (!canonical) {
      if (FORBIDDEN_KEYS.some(k => k.toLowerCase() === key.toLowerCase())) {
        throw new PolicyDocumentError(
          policy,
          `${path}.${key}`,
          'is not allowed in an identity policy (resource policy?)'
        )
      }
      throw new PolicyDocumentError(
        policy,
        `${path}.${key}`,
        `is not a policy element (expected ${known.join(', ')})`
      )
    }
    if (canonical in out) throw new PolicyDocumentError(policy, `${path}.${key}`, `duplicates ${canonical}`)
    out[canonical] = v
  }
  return out
}

function stringList(policy: string, path: string, value: unknown): string[] {
  const list = typeof value === 'string' ? [value] : value
  if (!Array.isArray(list) || list.length === 0) {
    throw new PolicyDocumentError(policy, path, 'expected a string or a non-empty array of strings')
  }
  return list.map((item, i) => {
    if (typeof item !== 'string' || item === '') {
      throw new PolicyDocumentError(policy, `${path}[${i}]`, 'expected a non-empty string')
    }
    return item
  })
}

function actionList(policy: string, path: string, value: unknown): string[] {
  const list = stringList(policy, path, value)
  list.forEach((action, i) => {
    if (action !== '*' && !/^[^:\s]+:[^:\s]+$/.test(action)) {
      throw new PolicyDocumentError(
        policy,
        typeof value === 'string' ? path : `${path}[${i}]`,
        `"${action}" is not an action (expected "service:Action" or "*")`
      )
    }
  })
  return list
}

function normalizeStatement(
  policy: string,
  path: string,
  index: number,
  value: unknown
): NormalizedStatement {
  if (!isObject(value)) throw new PolicyDocumentError(policy, path, 'expected a statement object')
  const raw = canonicalKeys(policy, path, value, STATEMENT_KEYS)
  const effectValue = raw.Effect
  if (typeof effectValue !== 'string' || !['allow', 'deny'].includes(effectValue.toLowerCase())) {
    throw new PolicyDocumentError(policy, `${path}.Effect`, 'expected "Allow" or "Deny"')
  }
  const effect: Effect = effectValue.toLowerCase() === 'allow' ? 'Allow' : 'Deny'
  raw.Effect = effect
  if (raw.Sid !== undefined && typeof raw.Sid !== 'string') {
    throw new PolicyDocumentError(policy, `${path}.Sid`, 'expected a string')
  }
  const sid = raw.Sid === undefined || raw.Sid === '' ? undefined : raw.Sid
  if ((raw.Action === undefined) === (raw.NotAction === undefined)) {
    throw new PolicyDocumentError(policy, path, 'needs exactly one of Action or NotAction')
  }
  if ((raw.Resource === undefined) === (raw.NotResource === undefined)) {
    throw new PolicyDocumentError(policy, path, 'needs exactly one of Resource or NotResource')
  }
  if (raw.Condition !== undefined && !isObject(raw.Condition)) {
    throw new PolicyDocumentError(policy, `${path}.Condition`, 'expected an object')
  }
  const statement: NormalizedStatement = {
    ref: sid ? `${policy}#${sid}` : policy,
    policy,
    index,
    effect,
    raw
  }
  if (sid) statement.sid = sid
  if (raw.Action !== undefined) statement.actions = actionList(policy, `${path}.Action`, raw.Action)
  else statement.notActions = actionList(policy, `${path}.NotAction`, raw.NotAction)
  if (raw.Resource !== undefined) statement.resources = stringList(policy, `${path}.Resource`, raw.Resource)
  else statement.notResources = stringList(policy, `${path}.NotResource`, raw.NotResource)
  const condition = raw.Condition
  if (condition && Object.keys(condition).length > 0) statement.condition = condition
  return statement
}

function decodeString(policy: string, text: string): unknown {
  try {
    return decodePolicyText(text).document
  } catch (error) {
    if (error instanceof PolicyTextError) throw new PolicyDocumentError(policy, '', error.problem)
    throw error
  }
}

/** Parses one policy document; `name` is used in every error message and in statement refs. */
export function normalizePolicy(name: string, document: unknown): NormalizedPolicy {
  const parsed = typeof document === 'string' ? decodeString(name, document) : document
  if (!isObject(parsed))
    throw new PolicyDocumentError(name, '', 'expected a JSON object with Version and Statement')
  const top = canonicalKeys(name, '', parsed, ['Version', 'Id', 'Statement'])
  const version = top.Version ?? '2008-10-17'
  if (version !== '2012-10-17' && version !== '2008-10-17') {
    throw new PolicyDocumentError(name, 'Version', 'expected "2012-10-17" (or "2008-10-17")')
  }
  if (top.Id !== undefined && typeof top.Id !== 'string')
    throw new PolicyDocumentError(name, 'Id', 'expected a string')
  if (top.Statement === undefined) throw new PolicyDocumentError(name, 'Statement', 'is missing')
  const single = !Array.isArray(top.Statement)
  const list = single ? [top.Statement] : (top.Statement as unknown[])
  const statements = list.map((s, i) => {
    const statement = normalizeStatement(name, single ? 'Statement' : `Statement[${i}]`, i, s)
    if (version !== '2012-10-17') statement.literalDollar = true
    return statement
  })
  const policy: NormalizedPolicy = { name, version: version, statements }
  if (top.Id !== undefined) policy.id = top.Id
  return policy
}
