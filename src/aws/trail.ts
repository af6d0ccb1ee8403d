/** What a trail logs, read from CloudTrail: GetTrail (the trail exists, where it lives) and GetEventSelectors. */
import { errorMessage } from '../error-message.js'
import { GetEventSelectorsCommand, GetTrailCommand } from '@aws-sdk/client-cloudtrail'
import type {
  AdvancedEventSelector,
  CloudTrailClient,
  EventSelector,
  GetEventSelectorsCommandOutput
} from '@aws-sdk/client-cloudtrail'
import type { TrailLogging } from '../model.js'
import { EXCLUDABLE_SOURCES } from '../policy/trail-logging.js'

/** The Region of a trail ARN (arn:aws:cloudtrail:REGION:ACCOUNT:trail/NAME). */
export function trailRegion(trailArn: string): string {
  return trailArn.split(':')[3] ?? ''
}

interface ManagementSelector {
  read: boolean
  write: boolean
  excluded: string[]
}

function basicSelector(s: EventSelector): ManagementSelector | undefined {
  if (s.IncludeManagementEvents === false) return undefined
  const rw = s.ReadWriteType ?? 'All'
  return {
    read: rw !== 'WriteOnly',
    write: rw !== 'ReadOnly',
    excluded: s.ExcludeManagementEventSources ?? []
  }
}

function advancedSelector(s: AdvancedEventSelector): ManagementSelector | undefined {
  const fields = new Map((s.FieldSelectors ?? []).map(f => [f.Field ?? '', f]))
  const category = fields.get('eventCategory')
  if (!category?.Equals?.includes('Management')) return undefined
  const readOnly = fields.get('readOnly')?.Equals
  const source = fields.get('eventSource')
  // An eventSource Equals selector logs only the sources it names: every excludable source it leaves out is out.
  const excluded = source?.Equals
    ? EXCLUDABLE_SOURCES.map(e => e.source).filter(e => !source.Equals!.includes(e))
    : (source?.NotEquals ?? [])
  return {
    read: !readOnly || readOnly.includes('true'),
    write: !readOnly || readOnly.includes('false'),
    excluded
  }
}

/**
 * The management events a trail's selectors log. Selectors add up: a half is logged when any management selector
 * logs it. A source counts as left out when, for a half the trail logs, every selector of that half leaves it out
 * (reads of KMS logged but KMS writes excluded still leaves KMS writes unseen).
 */
function managementLogging(
  trailArn: string,
  selectors: Pick<GetEventSelectorsCommandOutput, 'EventSelectors' | 'AdvancedEventSelectors'>
): TrailLogging {
  const management = [
    ...(selectors.EventSelectors ?? []).map(basicSelector),
    ...(selectors.AdvancedEventSelectors ?? []).map(advancedSelector)
  ].filter((s): s is ManagementSelector => s !== undefined)
  const halves = [management.filter(s => s.read), management.filter(s => s.write)].filter(h => h.length > 0)
  const excludedSources = EXCLUDABLE_SOURCES.map(e => e.source).filter(source =>
    halves.some(half => half.every(s => s.excluded.includes(source)))
  )
  return {
    origin: 'trail',
    trail: trailArn,
    managementRead: management.some(s => s.read),
    managementWrite: management.some(s => s.write),
    excludedSources
  }
}

/** Reads the trail's configuration; throws with a message naming the trail and the permission it needs. */
export async function readTrailLogging(client: CloudTrailClient, trailArn: string): Promise<TrailLogging> {
  try {
    const trail = await client.send(new GetTrailCommand({ Name: trailArn }))
    const arn = trail.Trail?.TrailARN ?? trailArn
    const selectors = await client.send(new GetEventSelectorsCommand({ TrailName: arn }))
    return managementLogging(arn, selectors)
  } catch (error) {
    throw new Error(
      `trail-arn: cannot read the configuration of ${trailArn} (${errorMessage(error)}); the role needs cloudtrail:GetTrail and cloudtrail:GetEventSelectors`,
      { cause: error }
    )
  }
}
