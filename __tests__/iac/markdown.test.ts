import { describe, expect, test } from '@jest/globals'
import { iacMarkdown } from '../../src/iac/output.js'

const lines = (n: number, mark: string) =>
  Array.from({ length: n }, (_, i) => `${mark}${i}`).join('\n') + '\n'
const edit = (file: string, n: number) => ({ file, before: lines(n, 'a'), after: lines(n, 'b') })

describe('the infrastructure-code section of a pull request body or job summary', () => {
  test('a short diff is shown fenced; a fence in the code never closes it; notes are escaped', () => {
    const md = iacMarkdown(
      [{ file: 'infra/main.tf', before: 'x = 1\n', after: 'x = "```"\n' }],
      ['policy <img src=x> is `shared`'],
      'This pull request edits 1 file(s):',
      { collapse: true }
    )
    expect(md).toContain('This pull request edits 1 file(s):\n\n````diff\n')
    expect(md).toContain('+x = "```"\n````\n')
    expect(md).not.toContain('<details>')
    expect(md).toContain('- policy \\<img src=x\\> is \\`shared\\`')
  })

  test('a long diff is collapsed; one past the length limit names the files instead', () => {
    const collapsed = iacMarkdown([edit('a.tf', 30)], [], 'Edits:', { collapse: true })
    expect(collapsed).toMatch(/<details><summary>The diff \(\d+ lines\)<\/summary>\n\n````?diff\n/)
    expect(collapsed).toContain('\n\n</details>\n')
    const named = iacMarkdown([edit('a.tf', 30), edit('b`\n.tf', 30)], [], 'Edits:', {
      collapse: true,
      maxLength: 500
    })
    expect(named).toMatch(
      /The diff \(\d+ lines\) is too long to show here; the files it edits:\n\n- `a\.tf`\n- `b\.tf`\n$/
    )
    expect(named.length).toBeLessThan(500)
  })
})
