import type { UsageSource } from '../model.js'
import { accessAdvisorSource } from './access-advisor-source.js'
import { accessAnalyzerSource } from './access-analyzer-source.js'
import { athenaSource } from './athena-source.js'
import { cloudTrailSource } from './cloudtrail-source.js'
import type { UsageProvider } from './source.js'
import { unusedAccessSource } from './unused-access-source.js'

/** Every usage source, by the name the `source` input takes. */
export const USAGE_PROVIDERS: Readonly<Record<UsageSource, UsageProvider>> = {
  'access-analyzer': accessAnalyzerSource,
  cloudtrail: cloudTrailSource,
  'access-advisor': accessAdvisorSource,
  'unused-access': unusedAccessSource,
  athena: athenaSource
}
