// Audit of the event -> permission mapping: finds the AWS API operations whose reference documentation names an IAM
// permission other than the operation's own name, and says how the CloudTrail mapping handles each.
//
// Usage: npx tsx scripts/audit-permission-names.ts <folder of AWS service models (botocore's data folder)>
// Reads the newest <service>/<version>/service-2.json of each service, takes each operation's documentation text and
// collects the catalog actions its sentences about permissions name: `prefix:Action` tokens and "permission required for this operation is X"
// phrases. Each finding is printed with its status: `mapped` (the event maps to that action), `companion` (kept
// through the dependent-actions table), `never-logged`, `self` (the operation's own name) or `REVIEW`.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { loadCatalogIndex } from '../src/policy/catalog.js'
import { dependentPatterns } from '../src/policy/dependent-actions.js'
import { NEVER_LOGGED } from '../src/policy/never-logged.js'
import { actionsOfEvent } from '../src/usage/cloudtrail/map-event.js'

const root = process.argv[2]
if (!root || !existsSync(root)) {
  console.error('usage: npx tsx scripts/audit-permission-names.ts <folder of AWS service models>')
  process.exit(2)
}
const catalog = loadCatalogIndex()
const neverLogged = new Set(NEVER_LOGGED.flatMap(e => e.patterns.flatMap(p => catalog.expand(p))))

interface Model {
  metadata: { signingName?: string; endpointPrefix?: string }
  operations: Record<string, { name: string; documentation?: string }>
}

function newestModel(service: string): Model | undefined {
  if (!statSync(join(root, service)).isDirectory()) return undefined
  const versions = readdirSync(join(root, service)).sort()
  for (const v of versions.reverse()) {
    const file = join(root, service, v, 'service-2.json')
    if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as Model
  }
  return undefined
}

const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ')
let operations = 0
let findings = 0
const review: string[] = []
for (const dir of readdirSync(root).sort()) {
  const model = newestModel(dir)
  if (!model?.operations) continue
  const prefix = [model.metadata.signingName, model.metadata.endpointPrefix, dir].find(
    p => p && catalog.hasService(p)
  )
  if (!prefix) continue
  for (const op of Object.values(model.operations)) {
    operations++
    // Only sentences that speak of permissions: other mentions of actions (see also, related calls) are not claims
    // about what the operation is authorized as.
    const doc = text(op.documentation ?? '')
      .split(/(?<=\.)\s+/)
      .filter(sentence => /permission|must have|requires? /i.test(sentence))
      .join(' ')
    const named = new Set<string>()
    for (const m of doc.matchAll(/\b([a-z0-9-]+):([A-Z][A-Za-z0-9]+)\b/g)) {
      const info = catalog.action(`${m[1]}:${m[2]}`)
      if (info) named.add(info.name)
    }
    for (const m of doc.matchAll(/permission required for this operation is ([A-Za-z0-9]+)/g)) {
      const info = catalog.action(`${prefix}:${m[1]}`)
      if (info) named.add(info.name)
    }
    if (named.size === 0) continue
    const mapped = actionsOfEvent(catalog, prefix, op.name) ?? []
    const companions = new Set(
      [`${prefix}:${op.name}`, ...mapped].flatMap(a => dependentPatterns(a)).flatMap(p => catalog.expand(p))
    )
    for (const action of [...named].sort()) {
      findings++
      const status =
        action.toLowerCase() === `${prefix}:${op.name}`.toLowerCase()
          ? 'self'
          : mapped.includes(action)
            ? 'mapped'
            : companions.has(action)
              ? 'companion'
              : neverLogged.has(action)
                ? 'never-logged'
                : 'REVIEW'
      const line = `${status}\t${prefix}:${op.name}\t${action}`
      if (status === 'REVIEW') review.push(line)
      if (process.argv.includes('--all') || status === 'REVIEW') console.log(line)
    }
  }
}
console.log(`operations read: ${operations}; findings: ${findings}; to review: ${review.length}`)
