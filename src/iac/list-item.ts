/**
 * The text to delete to take one item out of a written list (HCL tuple, YAML sequence, JSON array): the item's
 * whole line when it stands on a line of its own (a YAML `- ` marker and a trailing comma included), else the item
 * and the separator next to it. Pure.
 */
export interface Span {
  start: number
  end: number
}

export function listItemRemoval(
  text: string,
  items: readonly Span[],
  index: number,
  trailingComma = true
): Span {
  const item = items[index]
  if (!item) throw new Error(`internal: no list item ${index}`)
  const lineStart = text.lastIndexOf('\n', item.start - 1) + 1
  const newline = text.indexOf('\n', item.end)
  const lineEnd = newline === -1 ? text.length : newline + 1
  const before = text.slice(lineStart, item.start)
  const after = text.slice(item.end, lineEnd)
  const next = items[index + 1]
  const ownLine =
    /^[ \t]*(-[ \t]+)?(![A-Za-z]+[ \t]+)?$/.test(before) && /^[ \t]*,?[ \t]*(#[^\n]*)?\r?\n?$/.test(after)
  // JSON allows no trailing comma: the last item takes the comma before it along.
  if (ownLine && (trailingComma || next || !items[index - 1])) return { start: lineStart, end: lineEnd }
  if (next) return { start: item.start, end: next.start }
  const previous = items[index - 1]
  if (previous) return { start: previous.end, end: item.end }
  const comma = /^[ \t]*,/.exec(text.slice(item.end))
  return { start: item.start, end: item.end + (comma ? comma[0].length : 0) }
}

/**
 * Several items taken out of one written list (an ARN listed twice), as one edit of the original text: each removed
 * as `listItemRemoval` removes it alone, the last first.
 */
export function listItemsRemoval(
  text: string,
  items: readonly Span[],
  indices: readonly number[],
  trailingComma = true
): Span & { text: string } {
  let out = text
  let spans = [...items]
  for (const index of [...new Set(indices)].sort((a, b) => b - a)) {
    const cut = listItemRemoval(out, spans, index, trailingComma)
    const removed = cut.end - cut.start
    out = out.slice(0, cut.start) + out.slice(cut.end)
    spans = spans
      .filter((_, i) => i !== index)
      .map(s => (s.start >= cut.end ? { start: s.start - removed, end: s.end - removed } : s))
  }
  let start = 0
  while (start < out.length && out[start] === text[start]) start++
  let end = 0
  while (end < out.length - start && out[out.length - 1 - end] === text[text.length - 1 - end]) end++
  return { start, end: text.length - end, text: out.slice(start, out.length - end) }
}

/** Applies deletions and insertions given in offsets of the same original text. */
export function spliceAll(text: string, edits: readonly (Span & { text: string })[]): string {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return out
}
