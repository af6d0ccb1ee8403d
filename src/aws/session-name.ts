/**
 * The STS role session name: the configured name plus the repository and run that assumed the role, so that each
 * call in CloudTrail leads back to one workflow run. STS allows 2 to 64 of letters, digits and +=,.@_-.
 */
const MAX = 64
const DISALLOWED = /[^\w+=,.@-]/g

export function sessionName(base: string, repository: string | undefined, runId: string | undefined): string {
  const run = (runId ?? '').replace(DISALLOWED, '')
  const repo = (repository ?? '').replace('/', '+').replace(DISALLOWED, '-')
  if (!repo && !run) return base.slice(0, MAX)
  // The run id is kept whole; the repository, then the configured name, give way when it is too long.
  const tail = run ? `@${run}` : ''
  const room = MAX - tail.length
  const head = repo ? `${base}@${repo}` : base
  return `${head.slice(0, Math.max(2, room))}${tail}`.slice(0, MAX)
}
