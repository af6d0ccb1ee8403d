/**
 * Access advisor as a prefilter for policy generation (50 a day per account and Region): a role whose every granted
 * service went unused over the whole window needs no action-level data, since every action it is granted is then
 * observable and unused. Only the other roles are worth a generation.
 */
import type { RoleGrants, RoleUsage } from '../model.js'
import { NOT_GRANTED, buildGrantModel } from './grants.js'

/** The granted services IAM last-accessed data shows used in the window or does not report: they need more. */
export function servicesNeedingActionData(grants: RoleGrants, advisor: RoleUsage): string[] {
  const model = buildGrantModel(grants)
  const start = Date.parse(advisor.window.start)
  const unused = new Set(
    (advisor.lastAccess ?? [])
      .filter(e => e.level === 'service' && !(e.lastUsed && Date.parse(e.lastUsed) >= start))
      .map(e => e.key.toLowerCase())
  )
  const needing = new Set<string>()
  for (let id = 0; id < model.granted.length; id++) {
    if (model.granted[id] === NOT_GRANTED) continue
    const service = model.catalog.serviceOf(id)
    if (!unused.has(service.toLowerCase())) needing.add(service)
  }
  return [...needing].sort()
}
