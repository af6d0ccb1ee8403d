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
 * Control characters (ANSI escape sequences start with U+001B), bidirectional overrides and isolates (U+202E
 * makes text read backwards), and line separators: data shows them as `\uXXXX`, never acts on them.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g
const CONTROL_EXCEPT_LINES =
  // eslint-disable-next-line no-control-regex -- as above, line breaks and tabs left alone
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

function visible(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/**
 * Text for a log line, an annotation or a terminal: every control character (line breaks included, so that a
 * `::workflow-command::` cannot start a line) shown as `\uXXXX`.
 */
export function escapeControl(text: string): string {
  return text.replace(CONTROL, visible)
}

/**
 * Plain text, safe in a Markdown paragraph, list item or table cell: HTML is neutralized, Markdown
 * punctuation is backslash-escaped, mentions and issue references cannot fire, and a line break cannot end a
 * table row.
 */
export function escapeText(text: string): string {
  return text
    .replace(LINE_BREAK, ' ')
    .replace(CONTROL, visible)
    .replace(MARKDOWN_SPECIAL, c => HTML_REPLACEMENTS[c] ?? `\\${c}`)
}

/** Plain text inside raw HTML (a `<summary>`), where GitHub does not process Markdown escapes. */
function escapeHtml(text: string): string {
  return text
    .replace(LINE_BREAK, ' ')
    .replace(CONTROL, visible)
    .replace(HTML_SPECIAL, c => HTML_REPLACEMENTS[c] ?? c)
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
  const safe = content.replace(CONTROL_EXCEPT_LINES, visible)
  const body = safe.endsWith('\n') ? safe : `${safe}\n`
  return `${fence}${language}\n${body}${fence}`
}

/** Text for an HTML comment: `--` and `>` would end it early. */
export function htmlCommentText(text: string): string {
  return text.replace(/-{2,}/g, '-').replace(/[<>]/g, '')
}
