/**
 * The first object key that appears twice in one object of a JSON text. `JSON.parse` silently keeps the last
 * value, while other readers of the same file (IAM, infrastructure tools) may keep the first or reject it: a gate
 * that judges one reading while another is deployed can be talked out of its verdict, so such a file is refused.
 */

/** The position (in UTF-16 units) of the second occurrence of a duplicated key, or undefined. Input must be valid JSON. */
export function duplicateKeyPosition(text: string): number | undefined {
  const objects: (Set<string> | undefined)[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '{') objects.push(new Set())
    else if (c === '[') objects.push(undefined)
    else if (c === '}' || c === ']') objects.pop()
    else if (c === '"') {
      const start = i
      i++
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      const token = text.slice(start, i + 1)
      let j = i + 1
      while (j < text.length && /\s/.test(text[j] ?? '')) j++
      const keys = objects[objects.length - 1]
      if (text[j] === ':' && keys) {
        // Compared decoded: `"Action"` and `"\u0041ction"` are the same key.
        const key = JSON.parse(token) as string
        if (keys.has(key)) return start
        keys.add(key)
      }
    }
    i++
  }
  return undefined
}
