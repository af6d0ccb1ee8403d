/** The real sample: its CloudTrail logs and its authorization-details export. */
export const SAMPLE_FILES = {
  trail: 'examples/data/cloudtrail/invictus-aws-dataset',
  details: 'examples/authorization-details.json'
}
/** CLI arguments for the real sample. */
export const SAMPLE = ['--source', 'cloudtrail', '--cloudtrail-path', SAMPLE_FILES.trail]
export const GRANTS = ['--authorization-details', SAMPLE_FILES.details]
/** The account of the sample's roles. */
export const ACCOUNT = '123837392027'

/** Arguments that analyze `roles` with no minimum of observed days and print the JSON report. */
export function jsonReportOf(roles: string): string[] {
  return ['--roles', roles, '--min-observation-days', '0', '--format', 'json']
}
