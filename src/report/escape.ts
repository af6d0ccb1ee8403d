/**
 * Escaping for text that came from AWS or a user (role names, policy names, Sids, reasons, file names)
 * before it goes into GitHub-flavoured Markdown, which also renders inline HTML.
 */

/** A zero-width space after `@` and `#` stops GitHub from turning `@team` or `#12` into a mention or a link. */
const ZERO_WIDTH_SPACE = '&#8203;'

const HTML_REPLACEMENTS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '@': `@${ZERO_WIDTH_SPACE}`,
  '#': `#${ZERO_WIDTH_SPACE}`
}

const HTML_SPECIAL = /[&<>"'@#]/g
/** Markdown punctuation that can start emphasis, links, code, lists, tables, autolinks or footnotes. */
const MARKDOWN_SPECIAL = /[&<>"'@#\\`*_{}[\]()+\-.!|~=:^$]/g
const LINE_BREAK = /\r\n|\r|\n|\u2028|\u2029/g

/**
 * Plain text, safe in a Markdown paragraph, list item or table cell: HTML is neutralized, Markdown
 * punctuation is backslash-escaped, mentions and issue references cannot fire, and a line break cannot end a
 * table row.
 */
export function escapeText(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(MARKDOWN_SPECIAL, c => HTML_REPLACEMENTS[c] ?? `\\${c}`)
}

/** Plain text inside raw HTML (a `<summary>`), where GitHub does not process Markdown escapes. */
export function escapeHtml(text: string): string {
  return text.replace(LINE_BREAK, ' ').replace(HTML_SPECIAL, c => HTML_REPLACEMENTS[c] ?? c)
}

/** Action names and similar identifiers that need no escaping inside a code span. */
const PLAIN_IDENTIFIER = /^[A-Za-z0-9:*?/_.#+=,@-]+$/

/**
 * An identifier as inline code when it is plain (an IAM action, a Sid of word characters), otherwise as
 * escaped text: a code span cannot be escaped safely inside a GFM table cell.
 */
export function code(text: string): string {
  return PLAIN_IDENTIFIER.test(text) ? `\`${text}\`` : escapeText(text)
}

/** The same for raw HTML. */
export function htmlCode(text: string): string {
  return PLAIN_IDENTIFIER.test(text) ? `<code>${text}</code>` : escapeHtml(text)
}

/** A fenced code block that content cannot close early: the fence is longer than any backtick run inside. */
export function codeBlock(content: string, language = ''): string {
  const longestRun = Math.max(0, ...(content.match(/`+/g) ?? []).map(run => run.length))
  const fence = '`'.repeat(Math.max(3, longestRun + 1))
  const body = content.endsWith('\n') ? content : `${content}\n`
  return `${fence}${language}\n${body}${fence}`
}

/** Text for an HTML comment: `--` and `>` would end it early. */
export function htmlCommentText(text: string): string {
  return text.replace(/-{2,}/g, '-').replace(/[<>]/g, '')
}
