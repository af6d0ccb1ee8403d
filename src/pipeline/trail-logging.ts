import type { AwsSession } from '../aws/session.js'
import { readTrailLogging, trailRegion } from '../aws/trail.js'
import type { Config } from '../config.js'
import { errorMessage } from '../error-message.js'
import type { Logger } from '../logger.js'
import type { TrailLogging } from '../model.js'

/**
 * What the trail logs: read from CloudTrail when trail-arn names it, stated by the trail options, or undefined (the
 * records then decide). A trail that cannot be read is a warning, not a failure: the records decide instead.
 */
export async function trailLogging(
  config: Config,
  aws: AwsSession,
  log: Logger
): Promise<TrailLogging | undefined> {
  if (config.trailArn) {
    try {
      return await readTrailLogging(await aws.cloudtrail(trailRegion(config.trailArn)), config.trailArn)
    } catch (error) {
      log.warning(`${errorMessage(error)}; what the trail logs is judged from the records instead`)
      return undefined
    }
  }
  const stated = config.trailLogging
  if (!stated) return undefined
  return {
    origin: 'options',
    managementRead: stated.readWriteType !== 'WriteOnly',
    managementWrite: stated.readWriteType !== 'ReadOnly',
    excludedSources: [...stated.excludedSources]
  }
}
