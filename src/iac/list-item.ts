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

/** Applies deletions and insertions given in offsets of the same original text. */
export function spliceAll(text: string, edits: readonly (Span & { text: string })[]): string {
  let out = text
  for (const e of [...edits].sort((a, b) => b.start - a.start))
    out = out.slice(0, e.start) + e.text + out.slice(e.end)
  return out
}
