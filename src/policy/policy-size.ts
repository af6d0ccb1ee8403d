/** IAM's size limits on managed policies: characters as IAM counts them, splitting and packing statements. */
import type { PolicyDocumentJson, ProposedPolicy } from '../model.js'

export type Statement = Record<string, unknown>

/** Managed policy size limit: characters excluding white space. */
export const MAX_POLICY_CHARACTERS = 6144
const MAX_POLICY_NAME = 128
/** The Version of every proposed document. */
export const VERSION = '2012-10-17'

export function policyCharacters(value: unknown): number {
  return JSON.stringify(value).replace(/\s/g, '').length
}

/** Characters one statement may take in a policy of its own. */
export const STATEMENT_ROOM = MAX_POLICY_CHARACTERS - policyCharacters({ Version: VERSION, Statement: [] })

/** Splits a derived statement whose Action list alone exceeds the size limit. */
function splitOversized(statement: Statement, room: number): Statement[] {
  if (policyCharacters(statement) <= room || !Array.isArray(statement.Action)) return [statement]
  const parts: Statement[] = []
  let actions: string[] = []
  const withActions = (list: string[]) => ({ ...statement, Action: list })
  // Counted incrementally (linear, not quadratic in the list): an Action list adds its items and the commas between.
  const empty = policyCharacters(withActions([]))
  let size = empty
  for (const action of statement.Action as string[]) {
    const item = policyCharacters(action)
    if (actions.length > 0 && size + 1 + item > room) {
      parts.push(withActions(actions))
      actions = []
      size = empty
    }
    size += (actions.length > 0 ? 1 : 0) + item
    actions.push(action)
  }
  if (actions.length > 0) parts.push(withActions(actions))
  return parts.map((part, i) => {
    if (i === 0 || typeof part.Sid !== 'string') return part
    return { ...part, Sid: `${part.Sid}${i + 1}` }
  })
}

/** First-fit packing into documents of at most MAX_POLICY_CHARACTERS, with unique Sids in each document. */
function pack(statements: Statement[]): Statement[][] {
  const empty = policyCharacters({ Version: VERSION, Statement: [] })
  const docs: { statements: Statement[]; size: number; sids: Set<string> }[] = []
  for (const statement of statements) {
    const size = policyCharacters(statement)
    const sid = typeof statement.Sid === 'string' ? statement.Sid : undefined
    let doc = docs.find(
      d =>
        d.size + size + (d.statements.length > 0 ? 1 : 0) <= MAX_POLICY_CHARACTERS &&
        !(sid && d.sids.has(sid))
    )
    if (!doc) {
      doc = { statements: [], size: empty, sids: new Set() }
      docs.push(doc)
    }
    doc.size += size + (doc.statements.length > 0 ? 1 : 0)
    doc.statements.push(statement)
    if (sid) doc.sids.add(sid)
  }
  return docs.map(d => d.statements)
}

function policyNames(roleName: string, count: number): string[] {
  const suffix = '-least-privilege'
  const base = roleName.slice(0, MAX_POLICY_NAME - suffix.length - 4)
  if (count === 1) return [`${base}${suffix}`]
  return Array.from({ length: count }, (_, i) => `${base}${suffix}-${i + 1}`)
}

/** The statements in managed policies within IAM's size and count limits, or why they cannot be. */
export function sizePolicies(
  roleName: string,
  statements: Statement[],
  maxPolicies: number,
  notes: string[]
): ProposedPolicy[] | undefined {
  const sized = statements.flatMap(s => splitOversized(s, STATEMENT_ROOM))
  if (sized.length > statements.length)
    notes.push('Split Action lists too long for one policy across statements.')
  if (sized.some(s => policyCharacters(s) > STATEMENT_ROOM)) {
    notes.push(
      `No proposal: a statement exceeds ${MAX_POLICY_CHARACTERS} characters on its own (its Resource and ` +
        'Condition are carried as they are, and only an Action list can be split).'
    )
    return undefined
  }
  const documents = pack(sized)
  if (documents.length > maxPolicies) {
    notes.push(
      `No proposal: it needs ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters, ` +
        `more than the ${maxPolicies} a role may have attached.`
    )
    return undefined
  }
  if (documents.length > 1) {
    notes.push(
      `Split into ${documents.length} managed policies of at most ${MAX_POLICY_CHARACTERS} characters.`
    )
  }
  const names = policyNames(roleName, documents.length)
  return documents.map((Statement, i) => {
    const document: PolicyDocumentJson = { Version: VERSION, Statement }
    return { name: names[i] ?? `${roleName}-${i + 1}`, document, characters: policyCharacters(document) }
  })
}
