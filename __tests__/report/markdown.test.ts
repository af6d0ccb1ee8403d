import { describe, expect, it } from '@jest/globals'
import { compactConditional, compactUnobservable } from '../../src/policy/action-groups.js'
import { loadCatalog } from '../../src/policy/catalog.js'
import { compactExcess, excessActions } from '../../src/policy/excess.js'
import fc from 'fast-check'
import type { RoleResult } from '../../src/model.js'
import { codeBlock, escapeText } from '../../src/report/escape.js'
import { buildReport } from '../../src/report/json.js'
import { renderMarkdown } from '../../src/report/markdown.js'
import { mixedReport, stealCredentialsRole } from '../support/sample-reports.js'

const catalog = loadCatalog()

const GITHUB_LIMIT = 65_536

/** Pipes that GFM reads as cell separators: not escaped, not inside a code span. */
function cellSeparators(line: string): number {
  const withoutCode = line.replace(/(`+)[^`]*?\1/g, '')
  return (withoutCode.match(/(?<!\\)\|/g) ?? []).length
}

function tableLines(markdown: string): string[] {
  return markdown.split('\n').filter(line => line.startsWith('| '))
}

function hostileRole(): RoleResult {
  const role = stealCredentialsRole()
  return {
    ...role,
    arn: 'arn:aws:iam::111122223333:role/deploy+ci@corp=x,y',
    reason: 'ignored for analyzed roles',
    excess: compactExcess([
      {
        action: 'iam:PassRole',
        accessLevel: 'Write',
        grantedBy: [
          'evil|policy#Sid`with`ticks',
          '</details><script>alert(1)</script>',
          '@octocat please look #1'
        ],
        risk: 'privilege-escalation'
      }
    ]),
    unobservable: compactUnobservable([
      { action: 's3:GetObject', reason: 'data events | not logged\n| injected | row |' }
    ]),
    conditional: compactConditional([{ action: 'kms:Decrypt', grantedBy: ['[click](javascript:alert(1))'] }]),
    unknownActions: ['foo:Bar|<b>'],
    proposalNotes: ['<!-- hidden --> ***bold*** ~~strike~~ $x$'],
    evidence: {
      filesRead: 2,
      filesSkipped: [{ file: 'logs/```evil```.json.gz', reason: 'not gzip: <img src=x onerror=alert(1)>' }],
      unmapped: [{ eventSource: 'evil|source.amazonaws.com', eventName: 'Do<It>', count: 3 }],
      notes: ['@admins #42 see https://evil.example']
    },
    proposed: [
      {
        name: 'name with <tags> & `ticks`',
        characters: 42,
        document: {
          Version: '2012-10-17',
          Statement: [{ Sid: 'Keep`````Five', Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]
        }
      }
    ],
    diff: '+ "Sid": "Keep`````Five"\n```\n</details>\n'
  }
}

describe('renderMarkdown', () => {
  it('shows the overview, the excess by service, the evidence, the checks and the collapsible proposal', () => {
    const markdown = renderMarkdown(mixedReport(), {
      maxLength: GITHUB_LIMIT,
      marker: '<!-- iam-least-privilege:ci:analyze -->'
    })

    expect(markdown.split('\n')[0]).toBe('<!-- iam-least-privilege:ci:analyze -->')
    expect(markdown).toContain(
      '| Role | Account | Status | Used | Excess | High-risk unused | Unobservable | Proposal |'
    )
    expect(markdown).toContain(
      '| `stratus-red-team-ec2-steal-credentials-role` | 111122223333 | ✅ analyzed | 7 | **21** | **12**: `ec2messages:AcknowledgeMessage`, `ec2messages:DeleteMessage`, `ec2messages:FailMessage` +9 | 0 | 1 policy, 300 chars |'
    )
    expect(markdown).toContain(
      '| `stratus-red-team-leave-org-role` | 111122223333 | ❌ failed | — | — | — | — | — |'
    )
    // The verdict, the high-risk actions, the proposal and the diff come before the lists and the evidence.
    const section = markdown.slice(markdown.indexOf('### ✅ stratus'))
    const order = [
      '**High-risk unused access: 12 actions**',
      'Proposed policy',
      '```diff',
      '**Excess: 21',
      'Used: 7',
      '**Evidence:**'
    ]
    const positions = order.map(text => section.indexOf(text))
    expect(positions.every(p => p >= 0)).toBe(true)
    expect([...positions].sort((a, b) => a - b)).toEqual(positions)
    expect(markdown).toContain('⚠️ not enough evidence')
    expect(markdown).toMatch(
      /\| `ssmmessages` \| Write \| `ssmmessages:CreateControlChannel`, .*\| `AmazonSSMManagedInstanceCore` \|/
    )
    expect(markdown).toContain('`iam:PassRole` ⚠️')
    expect(markdown).toContain(
      '**Privilege escalation paths granted and unused:** `iam:CreateAccessKey`, `iam:PassRole`, `iam:PutRolePolicy`'
    )
    expect(markdown).toContain('4 denied calls (not usage)')
    expect(markdown).toContain('CheckNoNewAccess: PASS')
    expect(markdown).toContain('This role cannot be edited')
    expect(markdown).toContain(
      '<details><summary>Proposed policy <code>stratus-red-team-ec2-steal-credentials-role-least-privilege</code>'
    )
    expect(markdown).toContain('```diff\n--- current')
    expect(markdown).toContain('- [ ] Decide whether each unobservable action is still needed (1).')
    // Tables keep their column count on every row.
    for (const line of tableLines(markdown)) {
      const header = markdown
        .split('\n')
        .find(l => l.startsWith('| ') && cellSeparators(l) === cellSeparators(line))
      expect(header).toBeDefined()
    }
  })

  it('says Access Analyzer counts denied calls when it is the source', () => {
    const report = buildReport([stealCredentialsRole()], 'access-analyzer', '2026-11-27T00:00:00Z')
    expect(renderMarkdown(report, { maxLength: GITHUB_LIMIT })).toContain(
      'Access Analyzer counts denied calls as usage'
    )
  })

  it('escapes hostile names, reasons and file names for Markdown and HTML', () => {
    const markdown = renderMarkdown(buildReport([hostileRole()], 'cloudtrail', '2026-11-27T00:00:00Z'), {
      maxLength: GITHUB_LIMIT,
      title: '<b>nightly</b> @everyone'
    })

    expect(markdown).not.toMatch(/<(script|img|b|tags)\b/i)
    expect(markdown).not.toContain('<!-- hidden')
    expect(markdown).not.toMatch(/@(octocat|admins|everyone)/)
    expect(markdown).toContain('@&#8203;octocat')
    expect(markdown).not.toMatch(/(?<!&)#(1|42)\b/)
    expect(markdown).not.toContain('](javascript:')
    expect(markdown).toContain('`deploy+ci@corp=x,y`')
    // Every table row has as many cell separators as its header: injected pipes and newlines did not split it.
    const expected: Record<string, number> = {}
    let current = 0
    for (const line of markdown.split('\n')) {
      if (!line.startsWith('| ')) {
        current = 0
        continue
      }
      if (current === 0) current = cellSeparators(line)
      expected[line] = current
      expect(cellSeparators(line)).toBe(current)
    }
    expect(Object.keys(expected).length).toBeGreaterThan(6)
    // The proposed JSON holds a run of five backticks: its fence is longer, so it cannot be closed early.
    const fences = markdown.split('\n').filter(line => /^`{3,}/.test(line))
    expect(fences).toContain('``````json')
    expect(fences).toContain('``````diff')
    expect(fences.filter(f => f === '``````')).toHaveLength(2)
  })

  it('escapeText never lets text open HTML, break a table row or mention anyone', () => {
    fc.assert(
      fc.property(
        fc.string({
          unit: fc.oneof(
            fc.constantFrom(
              '|',
              '<',
              '>',
              '@',
              '#',
              '`',
              '*',
              '_',
              '[',
              ']',
              '\n',
              '\r',
              '&',
              '\\',
              'a',
              ' '
            ),
            fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })
          ),
          maxLength: 60
        }),
        text => {
          const escaped = escapeText(text)
          expect(escaped).not.toMatch(/[<>\n\r]/)
          expect(cellSeparators(escaped)).toBe(0)
          expect(escaped).not.toMatch(/@(?!&#8203;)/)
          expect(escaped).not.toMatch(/(?<!\\)[`*_[\]]/)
        }
      )
    )
  })

  it('codeBlock picks a fence no content line can close', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('`', 'a', '\n', '~', ' '), { maxLength: 80 }), chars => {
        const content = chars.join('')
        const block = codeBlock(content, 'json').split('\n')
        const fence = (block[0] as string).replace('json', '')
        expect(block[block.length - 1]).toBe(fence)
        for (const line of block.slice(1, -1)) expect(line.trim().startsWith(fence)).toBe(false)
      })
    )
  })

  describe('size limits', () => {
    const manyRoles = (count: number, patch: (role: RoleResult, i: number) => RoleResult = r => r) =>
      buildReport(
        Array.from({ length: count }, (_, i) => {
          const role = stealCredentialsRole()
          return patch(
            { ...role, arn: `arn:aws:iam::111122223333:role/app-${String(i).padStart(4, '0')}` },
            i
          )
        }),
        'cloudtrail',
        '2026-11-27T00:00:00Z'
      )

    it('summarises long action lists first, then drops the diffs', () => {
      const report = manyRoles(2, role => ({ ...role, diff: `${'-'.repeat(70)}\n`.repeat(600) }))
      const markdown = renderMarkdown(report, { maxLength: GITHUB_LIMIT, fullReportHint: 'the job summary' })
      expect(markdown.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      expect(markdown).not.toContain('```diff')
      expect(markdown).toContain('```json')
      expect(markdown).toContain(
        "Shortened to fit GitHub's size limit: long action lists are summarised by access level and service; left out: diffs. " +
          'Every action is in the JSON report (the `report` output; upload it as an artifact to keep it); the full report is in the job summary.'
      )
      expect(markdown).toContain('| Access level | Actions | Services | Most actions in |')
    })

    it('then the evidence, then whole role sections, the least severe first, keeping the overview', () => {
      const report = manyRoles(60)
      const markdown = renderMarkdown(report, {
        maxLength: GITHUB_LIMIT,
        fullReportHint: 'https://github.com/o/r/actions/runs/1'
      })
      expect(markdown.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      expect(markdown).not.toContain('**Evidence:**')
      expect(markdown).toContain('```json')
      expect(tableLines(markdown).filter(l => l.includes('`app-'))).toHaveLength(60)
      expect(markdown).toContain('(https://github.com/o/r/actions/runs/1)')

      const huge = manyRoles(400)
      const shortened = renderMarkdown(huge, { maxLength: GITHUB_LIMIT, fullReportHint: 'the job summary' })
      expect(shortened.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      expect(tableLines(shortened).filter(l => l.startsWith('| `app-'))).toHaveLength(400)
      const sections = shortened.split('\n').filter(l => l.startsWith('### '))
      expect(sections.length).toBeGreaterThan(0)
      expect(sections.length).toBeLessThan(400)
      expect(shortened).toContain(`the sections of ${400 - sections.length} less severe roles`)
    })

    it('keeps the worst role\'s proposal within 65,536 characters next to an Action "*" role\'s lists', () => {
      const everything = Array.from({ length: 20_000 }, (_, i) => ({
        action: `svc${i % 400}:Action${i}`,
        accessLevel:
          (['Write', 'Read', 'List', 'Permissions management', 'Tagging'] as const)[i % 5] ?? 'Write',
        grantedBy: ['admin#Everything']
      }))
      const worst = {
        ...stealCredentialsRole(),
        arn: 'arn:aws:iam::111122223333:role/zz-admin',
        excess: compactExcess(everything),
        used: Array.from({ length: 3000 }, (_, i) => `svc${i % 400}:Used${i}`),
        diff: `${'-'.repeat(70)}\n`.repeat(3000)
      }
      const others = Array.from({ length: 40 }, (_, i) => ({
        ...stealCredentialsRole(),
        arn: `arn:aws:iam::111122223333:role/app-${String(i).padStart(2, '0')}`,
        excess: compactExcess(excessActions(stealCredentialsRole().excess).slice(0, 2))
      }))
      const report = buildReport([...others, worst], 'access-analyzer', '2026-11-27T00:00:00Z')
      const comment = renderMarkdown(report, { maxLength: GITHUB_LIMIT, fullReportHint: 'the job summary' })
      expect(comment.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      const section = comment.slice(comment.indexOf('### ✅ zz\\-admin'))
      expect(comment.indexOf('### ✅ zz\\-admin')).toBeGreaterThan(0)
      expect(section).toContain(
        '<summary>Proposed policy <code>stratus-red-team-ec2-steal-credentials-role-least-privilege</code>'
      )
      expect(section).toContain('"Sid": "Used"')
      expect(section).toContain('**High-risk unused access: 8,000 actions**')
      expect(section).toMatch(/\| Write \| 4,000 \| 80 \|/)
      expect(comment).not.toContain('svc1:Action1\n')
    })

    it("keeps the worst role's verdict when its proposal alone is larger than the comment: compact, then named", () => {
      const base = stealCredentialsRole()
      const withProposal = (count: number): RoleResult => {
        const actions = Array.from({ length: count }, (_, i) => `svc${i % 300}:UsedAction${i}`)
        return {
          ...base,
          arn: 'arn:aws:iam::111122223333:role/zz-admin',
          used: actions,
          excess: compactExcess([
            ...excessActions(base.excess),
            ...excessActions(base.excess).map(e => ({ ...e, action: `${e.action}Extra` }))
          ]),
          // Three managed policies: 80,000 characters once indented, 56,000 without.
          proposed: [0, 1, 2].map(k => ({
            name: `zz-admin-least-privilege-${k}`,
            characters: 6000,
            document: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'Used',
                  Effect: 'Allow',
                  Action: actions.slice((k * count) / 3, ((k + 1) * count) / 3),
                  Resource: '*'
                }
              ]
            }
          }))
        }
      }
      const others = Array.from({ length: 5 }, (_, i) => ({
        ...base,
        arn: `arn:aws:iam::111122223333:role/app-${i}`
      }))
      const render = (worst: RoleResult) =>
        renderMarkdown(buildReport([...others, worst], 'cloudtrail', '2026-11-27T00:00:00Z'), {
          maxLength: GITHUB_LIMIT
        })

      const compact = render(withProposal(2400))
      expect(compact.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      const section = compact.slice(compact.indexOf('### ✅ zz\\-admin'))
      expect(compact.indexOf('### ✅ zz\\-admin')).toBeGreaterThan(0)
      expect(section).toContain('**High-risk unused access: 24 actions**')
      expect(section).toContain('"Action":["svc0:UsedAction0","svc1:UsedAction1"')
      expect(compact).toContain(
        'left out: diffs, evidence details and checklists, the indentation of the proposed policy'
      )

      const named = render(withProposal(6000))
      expect(named.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      expect(named).toContain('### ✅ zz\\-admin')
      expect(named).toContain('**High-risk unused access: 24 actions**')
      expect(named).toContain(
        '**Proposed policy `zz-admin-least-privilege-2`** · 6,000 characters: too large to show here; it is in the JSON report; ' +
          'pull-request mode writes it to `iam/least-privilege/111122223333/stratus-red-team-ec2-steal-credentials-role.json`.'
      )
      expect(named.split('\n').filter(line => /^`{3,}/.test(line)).length % 2).toBe(0)
    })

    it('truncates the overview itself when nothing else is left, and counts bytes for the step summary', () => {
      const report = manyRoles(3000, role => ({ ...role, reason: 'é€😀'.repeat(100) }))
      const comment = renderMarkdown(report, { maxLength: GITHUB_LIMIT })
      expect(comment.length).toBeLessThanOrEqual(GITHUB_LIMIT)
      expect(comment).toMatch(/\| … \| \d[\d,]* more roles in the full report \|/)

      const multibyte = manyRoles(50, (role, i) => ({
        ...role,
        arn: `arn:aws:iam::111122223333:role/app-${i}`,
        unobservable: compactUnobservable([
          { action: 's3:GetObject', reason: 'données non journalisées 😀'.repeat(200) }
        ])
      }))
      const bytes = renderMarkdown(multibyte, { maxLength: 100_000, lengthUnit: 'utf8-bytes' })
      expect(Buffer.byteLength(bytes)).toBeLessThanOrEqual(100_000)
      expect(Buffer.byteLength(bytes)).toBeGreaterThan(50_000)

      expect(renderMarkdown(report, { maxLength: 300 }).length).toBeLessThanOrEqual(300)
    })
  })

  it('keeps a long group of excess actions readable and still lists every action', () => {
    const excess = Array.from({ length: 30 }, (_, i) => ({
      action: `ec2:DescribeThing${String(i).padStart(2, '0')}`,
      accessLevel: 'List' as const,
      grantedBy: ['ec2-describe']
    }))
    const markdown = renderMarkdown(
      buildReport(
        [{ ...stealCredentialsRole(), excess: compactExcess(excess) }],
        'cloudtrail',
        '2026-11-27T00:00:00Z'
      ),
      {
        maxLength: GITHUB_LIMIT
      }
    )
    const row = tableLines(markdown).find(line => line.includes('ec2:DescribeThing00'))
    expect(row).toContain('… and 22 more')
    expect(row).not.toContain('ec2:DescribeThing08')
    expect(markdown).toContain('<summary>All 30 excess actions</summary>')
    for (const item of excess) expect(markdown).toContain(item.action)
  })

  it('groups unobservable actions by reason and counts them per service, so a wide grant stays readable', () => {
    const reason = 'unknown whether logged: the records hold no kms or s3 event from any principal'
    const [kms, s3] = [catalog.expand('kms:*'), catalog.expand('s3:*')]
    const unobservable = [
      ...[...kms, ...s3].map(action => ({ action, reason })),
      { action: 'iam:PassRole', reason: 'iam:PassRole is never recorded in CloudTrail' }
    ]
    const compact = compactUnobservable(unobservable)
    // Every action of a service at a level is one group with nothing excepted.
    expect(compact.groups.find(g => g.service === 'kms' && g.accessLevel === 'Write')).toMatchObject({
      allExcept: []
    })
    const markdown = renderMarkdown(
      buildReport(
        [{ ...stealCredentialsRole(), unobservable: compact }],
        'access-analyzer',
        '2026-11-27T00:00:00Z'
      ),
      { maxLength: GITHUB_LIMIT }
    )
    const total = kms.length + s3.length
    expect(markdown).toContain(
      `- unknown whether logged\\: the records hold no kms or s3 event from any principal: ${total} actions (\`s3\` ${s3.length}, \`kms\` ${kms.length})`
    )
    expect(markdown).toMatch(/^- iam\\:PassRole is never recorded in CloudTrail: `iam:PassRole`$/m)
    expect(markdown).toContain(`**Unobservable: ${total + 1} actions**`)
  })

  it('lists what each role used, collapsed', () => {
    const markdown = renderMarkdown(
      buildReport([stealCredentialsRole()], 'cloudtrail', '2026-11-27T00:00:00Z'),
      {
        maxLength: GITHUB_LIMIT
      }
    )
    const used = stealCredentialsRole().used
    expect(markdown).toContain(`<summary>Used: ${used.length} actions observed in the window</summary>`)
    for (const action of used) expect(markdown).toContain(action)
  })
})

describe('what a pull request adds', () => {
  it('comes before the overview and survives shortening, conditional grants included', () => {
    const role: RoleResult = {
      ...stealCredentialsRole(),
      change: {
        baseSha: 'a'.repeat(40),
        newFile: false,
        added: [
          {
            action: 'iam:PassRole',
            accessLevel: 'Write',
            resources: ['*'],
            conditional: true,
            grantedBy: ['p#Added'],
            judgement: 'unobservable',
            risk: 'privilege-escalation'
          }
        ],
        nonRestrictingConditions: ['p#Tls: {"Bool":{"aws:SecureTransport":"true"}}']
      }
    }
    const report = buildReport([role], 'cloudtrail', '2026-11-27T00:00:00Z')
    const full = renderMarkdown(report, { maxLength: GITHUB_LIMIT })
    const short = renderMarkdown(report, { maxLength: 3_000 })
    for (const text of [full, short]) {
      expect(text.indexOf('### What this pull request adds')).toBeLessThan(text.indexOf('| Role |'))
      expect(text).toContain('`iam:PassRole` | `*` (conditional)')
      expect(text).toContain('aws:SecureTransport')
    }
    expect(short.length).toBeLessThanOrEqual(3_000)
  })
})
