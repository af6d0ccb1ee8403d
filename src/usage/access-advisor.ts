/**
 * IAM last-accessed data as usage. One ACTION_LEVEL report holds both levels: every service the role's policies
 * allow, with its last use, and for services AWS tracks at action level, each tracked action with its last use.
 * Which actions are tracked is read from the report itself (the tracked actions AWS lists per service), never
 * guessed: an action AWS does not list is judged only when its whole service went unused (policy/last-access.ts).
 */
import type { LastAccessedReport } from '../aws/last-accessed.js'
import type { LastAccess, ObservedAction, RoleUsage, TimeWindow } from '../model.js'
import { compare } from '../model.js'

/** How far back IAM keeps last-accessed data. */
export const ACCESS_ADVISOR_MAX_DAYS = 400

export function accessAdvisorUsage(
  roleArn: string,
  report: LastAccessedReport,
  window: TimeWindow
): RoleUsage {
  const start = Date.parse(window.start)
  const lastAccess: LastAccess[] = []
  const actions: ObservedAction[] = []
  let tracked = 0
  for (const service of report.services) {
    if (!service.namespace) continue
    const lastUsed = service.lastAuthenticated?.toISOString()
    lastAccess.push({ key: service.namespace, level: 'service', ...(lastUsed ? { lastUsed } : {}) })
    for (const t of service.trackedActions ?? []) {
      tracked++
      const when = t.lastAccessed?.toISOString()
      lastAccess.push({ key: t.action, level: 'action', ...(when ? { lastUsed: when } : {}) })
      if (when && Date.parse(when) >= start)
        actions.push({ action: t.action, resources: ['*'], lastSeen: when })
    }
  }
  const services = lastAccess.filter(e => e.level === 'service')
  const usedServices = services.filter(e => e.lastUsed && Date.parse(e.lastUsed) >= start).length
  return {
    roleArn,
    source: 'access-advisor',
    window,
    complete: true,
    actions: actions.sort((a, b) => compare(a.action, b.action)),
    serviceLevelOnly: [],
    lastAccess,
    evidence: {
      notes: [
        `IAM last-accessed report ${report.jobId}: ${services.length} service(s) the role's policies allow, ${usedServices} used in the window; ${tracked} action(s) tracked at action level`,
        'IAM records attempts, denied ones included, so a denied call keeps an action or a service as used; recent activity may take up to 4 hours to appear'
      ]
    }
  }
}
