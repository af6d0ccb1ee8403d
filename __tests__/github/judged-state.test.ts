/**
 * The judged-roles state file: its parser (hostile and corrupt files only change the order of analysis) and its
 * reading and writing on the proposals branch through the GitHub emulator.
 */
import { afterAll, beforeEach, describe, expect, it } from '@jest/globals'
import { createGitHubClient } from '../../src/github/client.js'
import { readJudgedState, writeJudgedState } from '../../src/github/judged-state-file.js'
import { publishPullRequest } from '../../src/github/pull-request.js'
import { MemoryLogger } from '../../src/logger.js'
import {
  JUDGED_STATE_MAX_BYTES,
  JUDGED_STATE_PATH,
  JudgedStateError,
  mergeJudgedStates,
  parseJudgedState,
  serializeJudgedState
} from '../../src/usage/judged-state.js'
import type { JudgedEntry, JudgedState } from '../../src/usage/judged-state.js'
import { GitHubEmulator } from '../support/github-emulator.js'
import { mixedReport } from '../support/sample-reports.js'

const NOW = new Date('2026-12-10T02:00:00Z')
const BRANCH = 'iam-least-privilege/proposals'
const REPO = { owner: 'octo-org', repo: 'infra' }
const arn = (name: string) => `arn:aws:iam::111122223333:role/${name}`
const entry = (usageEnd: string, jobId = 'job-1') => ({ usageEnd, jobId })
const fileOf = (roles: unknown) => JSON.stringify({ version: 1, roles })

describe('parseJudgedState', () => {
  it('reads back what serializeJudgedState writes, one role a line in ARN order', () => {
    const state: JudgedState = new Map<string, JudgedEntry>([
      [arn('b'), entry('2026-12-02T02:00:00.000Z', 'job-b')],
      [arn('a'), { usageEnd: '2026-12-01T02:00:00.000Z' }]
    ])
    const { text, dropped } = serializeJudgedState(state)
    expect(dropped).toBe(0)
    expect(text.split('\n').filter(line => line.includes('arn:aws'))).toEqual([
      `    "${arn('a')}": {"usageEnd":"2026-12-01T02:00:00.000Z"},`,
      `    "${arn('b')}": {"usageEnd":"2026-12-02T02:00:00.000Z","jobId":"job-b"}`
    ])
    expect(parseJudgedState(text, NOW)).toEqual({ state, ignored: 0 })
    expect(parseJudgedState(serializeJudgedState(new Map()).text, NOW)).toEqual({
      state: new Map(),
      ignored: 0
    })
  })

  it('ignores entries that cannot be true: a date after the run started, a key that is not a role ARN', () => {
    const { state, ignored } = parseJudgedState(
      `{"version":1,"roles":{"__proto__":{"usageEnd":"2026-12-01T02:00:00.000Z"},${fileOf({
        [arn('future')]: entry('2099-01-01T00:00:00.000Z'),
        [arn('ok')]: entry('2026-12-01T02:00:00.000Z', 'bad job id with spaces'),
        'arn:aws:iam::111122223333:user/alice': entry('2026-12-01T02:00:00.000Z'),
        [arn('no-date')]: { jobId: 'x' },
        [arn('not-iso')]: entry('December 1, 2026'),
        [arn('null')]: null
      }).slice('{"version":1,"roles":{'.length)}`,
      NOW
    )
    // A job id that is not one is dropped, the date kept.
    expect(state).toEqual(new Map([[arn('ok'), { usageEnd: '2026-12-01T02:00:00.000Z' }]]))
    expect(ignored).toBe(6)
  })

  it.each([
    ['not JSON', '{"version": 1, "roles": {', /not valid JSON/],
    ['another version', '{"version":2,"roles":{}}', /not a version 1 state file/],
    ['an array', '[]', /not a version 1 state file/],
    ['without roles', '{"version":1,"roles":[]}', /"roles" is not an object/],
    ['too large', ' '.repeat(JUDGED_STATE_MAX_BYTES + 1), /larger than/]
  ])('refuses a file that is %s, in one line', (_what, text, message) => {
    expect(() => parseJudgedState(text, NOW)).toThrow(JudgedStateError)
    expect(() => parseJudgedState(text, NOW)).toThrow(message)
  })
})

describe('mergeJudgedStates and the size cap', () => {
  it('keeps the newest judgement of each role, whichever state it comes from', () => {
    const old = new Map([
      [arn('a'), entry('2026-12-05T02:00:00.000Z', 'new-a')],
      [arn('b'), entry('2026-12-01T02:00:00.000Z', 'old-b')]
    ])
    const run = new Map([
      [arn('a'), entry('2026-12-01T02:00:00.000Z', 'old-a')],
      [arn('b'), entry('2026-12-09T02:00:00.000Z', 'new-b')],
      [arn('c'), entry('2026-12-09T02:00:00.000Z', 'new-c')]
    ])
    expect([...mergeJudgedStates(old, run).values()].map(e => e.jobId).sort()).toEqual([
      'new-a',
      'new-b',
      'new-c'
    ])
  })

  it('leaves out the oldest judgements when the file would pass the cap, and the rest still parses', () => {
    const state: JudgedState = new Map()
    for (let i = 0; i < 12_000; i++)
      state.set(arn(`role-${i}`), entry(new Date(NOW.getTime() - i * 60_000).toISOString(), `job-${i}`))
    const { text, dropped } = serializeJudgedState(state)
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(JUDGED_STATE_MAX_BYTES)
    expect(dropped).toBeGreaterThan(0)
    const kept = parseJudgedState(text, NOW).state
    expect(kept.size).toBe(12_000 - dropped)
    expect(kept.has(arn('role-0'))).toBe(true)
    expect(kept.has(arn('role-11999'))).toBe(false)
  })
})

describe('the state file on GitHub', () => {
  let github: GitHubEmulator
  const emulators: GitHubEmulator[] = []
  beforeEach(async () => {
    github = await GitHubEmulator.start(REPO)
    emulators.push(github)
  })
  afterAll(async () => {
    await Promise.all(emulators.map(e => e.close()))
  })
  const client = () => createGitHubClient('ghs_test', { baseUrl: github.url })

  it('creates the branch with the state, then adds a run to it without dropping other roles', async () => {
    const log = new MemoryLogger()
    const first = new Map([[arn('a'), entry('2026-12-01T02:00:00.000Z')]])
    expect(await writeJudgedState(client(), REPO, BRANCH, first, log, NOW)).toBe(true)
    const second = new Map([
      [arn('a'), entry('2026-11-01T02:00:00.000Z', 'older')],
      [arn('b'), entry('2026-12-02T02:00:00.000Z')]
    ])
    expect(await writeJudgedState(client(), REPO, BRANCH, second, log, NOW)).toBe(true)
    // Nothing new: no commit.
    expect(await writeJudgedState(client(), REPO, BRANCH, second, log, NOW)).toBe(false)
    expect(github.history(BRANCH)).toHaveLength(3)
    const read = await readJudgedState(client(), REPO, BRANCH, log, NOW)
    expect(read).toEqual(
      new Map([
        [arn('a'), entry('2026-12-01T02:00:00.000Z')],
        [arn('b'), entry('2026-12-02T02:00:00.000Z')]
      ])
    )
    expect(log.lines.filter(line => line.startsWith('warning'))).toEqual([])
  })

  it('reads the newest judgement per role over the proposals branch and the default branch', async () => {
    github.pushFiles('main', {
      [JUDGED_STATE_PATH]: fileOf({
        [arn('a')]: entry('2026-12-05T02:00:00.000Z', 'main-a'),
        [arn('b')]: entry('2026-12-01T02:00:00.000Z', 'main-b')
      })
    })
    github.pushFiles(BRANCH, {
      [JUDGED_STATE_PATH]: fileOf({ [arn('b')]: entry('2026-12-03T02:00:00.000Z', 'branch-b') })
    })
    const read = await readJudgedState(client(), REPO, BRANCH, new MemoryLogger(), NOW)
    expect(new Map([...read].map(([k, v]) => [k, v.jobId]))).toEqual(
      new Map([
        [arn('a'), 'main-a'],
        [arn('b'), 'branch-b']
      ])
    )
  })

  it('warns in one line on a corrupt copy and uses the other; the corrupt copy is rewritten whole', async () => {
    github.pushFiles('main', {
      [JUDGED_STATE_PATH]: fileOf({ [arn('a')]: entry('2026-12-05T02:00:00.000Z') })
    })
    github.pushFiles(BRANCH, { [JUDGED_STATE_PATH]: '{"version": 1, "roles": {' })
    const log = new MemoryLogger()
    const read = await readJudgedState(client(), REPO, BRANCH, log, NOW)
    expect([...read.keys()]).toEqual([arn('a')])
    const warnings = log.lines.filter(line => line.startsWith('warning'))
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(
      /^warning: \.iam-least-privilege\/judged\.json on iam-least-privilege\/proposals was not used \(it is not valid JSON .*\): roles are ordered on the policy generations AWS lists/
    )
    expect(await writeJudgedState(client(), REPO, BRANCH, read, log, NOW)).toBe(true)
    expect(parseJudgedState(github.readFile(BRANCH, JUDGED_STATE_PATH) ?? '', NOW).state).toEqual(read)
  })

  it('past the size cap, entries pushed for other roles cannot crowd out the roles this run selects', async () => {
    // Anyone who can push to the branch adds thousands of entries for roles of no run, each dated just before it.
    const junk: JudgedState = new Map()
    for (let i = 0; i < 5_000; i++)
      junk.set(
        `arn:aws:iam::999999999999:role/${'x'.repeat(56)}-${String(i).padStart(4, '0')}`,
        entry(new Date(NOW.getTime() - 60_000).toISOString(), 'j'.repeat(128))
      )
    // This run's roles were judged days ago (older than every junk entry) and one of them again now.
    const ours: JudgedState = new Map()
    for (let i = 0; i < 100; i++) ours.set(arn(`app-${i}`), entry('2026-12-01T02:00:00.000Z'))
    ours.set(arn('app-0'), entry(NOW.toISOString(), 'job-now'))
    const log = new MemoryLogger()
    const state = mergeJudgedStates(junk, ours)
    expect(await writeJudgedState(client(), REPO, BRANCH, state, log, NOW, new Set(ours.keys()))).toBe(true)
    const text = github.readFile(BRANCH, JUDGED_STATE_PATH) ?? ''
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(JUDGED_STATE_MAX_BYTES)
    const written = parseJudgedState(text, NOW).state
    for (const [role, judged] of ours) expect(written.get(role)).toEqual(judged)
    expect(written.size).toBeLessThan(state.size)
    expect(log.lines).toContainEqual(expect.stringMatching(/^warning: .*left out the \d+ oldest judgement/))
  })

  it('refuses a pr-branch that is the default branch: neither the proposal nor the state is committed to it', async () => {
    const head = github.branchHead('main')
    const report = mixedReport()
    const files = report.roles
      .filter(role => role.policyFile && role.proposed.length > 0)
      .map(role => ({ path: role.policyFile ?? '', content: JSON.stringify(role.proposed[0]?.document) }))
    const state = new Map([[arn('a'), entry('2026-12-01T02:00:00.000Z')]])
    const alongside = { path: JUDGED_STATE_PATH, content: serializeJudgedState(state).text }
    await expect(
      publishPullRequest(client(), { ...REPO, branch: 'main', files, alongside }, report)
    ).rejects.toThrow(/pr-branch "main" is the default branch/)
    await expect(writeJudgedState(client(), REPO, 'main', state, new MemoryLogger(), NOW)).rejects.toThrow(
      /pr-branch "main" is the default branch/
    )
    expect(github.branchHead('main')).toBe(head)
    expect(github.pullRequests()).toEqual([])
  })

  it('never moves a branch another run moved meanwhile (a fast-forward only)', async () => {
    const log = new MemoryLogger()
    const first = new Map([[arn('a'), entry('2026-12-01T02:00:00.000Z')]])
    await writeJudgedState(client(), REPO, BRANCH, first, log, NOW)
    const racing = client()
    let moved: string | undefined
    // Another run pushes to the branch between our read of its head and our update.
    racing.hook.before('request', options => {
      if (options.method === 'POST' && String(options.url).endsWith('/git/commits'))
        moved = github.pushFiles(BRANCH, { 'elsewhere.txt': 'x' })
    })
    const second = new Map([[arn('b'), entry('2026-12-02T02:00:00.000Z')]])
    await expect(writeJudgedState(racing, REPO, BRANCH, second, log, NOW)).rejects.toThrow(/fast forward/)
    expect(moved).toBeDefined()
    expect(github.branchHead(BRANCH)).toBe(moved)
  })

  it('goes into the proposal commit, and a rerun with the same proposal and state leaves the branch as it is', async () => {
    const report = mixedReport()
    const files = report.roles
      .filter(role => role.policyFile && role.proposed.length > 0)
      .map(role => ({ path: role.policyFile ?? '', content: JSON.stringify(role.proposed[0]?.document) }))
    const state = serializeJudgedState(new Map([[arn('a'), entry('2026-12-01T02:00:00.000Z')]])).text
    const publish = (content: string) =>
      publishPullRequest(
        client(),
        { ...REPO, files, alongside: { path: JUDGED_STATE_PATH, content } },
        report
      )
    expect(await publish(state)).toMatchObject({ operation: 'created', committed: true })
    expect(github.readFile(BRANCH, JUDGED_STATE_PATH)).toBe(state)
    expect(github.history(BRANCH)).toHaveLength(2)
    expect(await publish(state)).toMatchObject({ operation: 'unchanged', committed: false })
    // The state changed: one new proposal commit on the base, no second pull request.
    const newer = serializeJudgedState(new Map([[arn('a'), entry('2026-12-02T02:00:00.000Z')]])).text
    expect(await publish(newer)).toMatchObject({ operation: 'updated', committed: true })
    expect(github.readFile(BRANCH, JUDGED_STATE_PATH)).toBe(newer)
    expect(github.pullRequests()).toHaveLength(1)
    // The proposal was merged: the state alone opens no pull request.
    github.pushFiles('main', Object.fromEntries(files.map(f => [f.path, f.content])))
    github.closePullRequest(1)
    const later = serializeJudgedState(new Map([[arn('a'), entry('2026-12-03T02:00:00.000Z')]])).text
    expect((await publish(later)).operation).not.toBe('created')
    expect(github.pullRequests().filter(pr => pr.state === 'open')).toEqual([])
  })
})
