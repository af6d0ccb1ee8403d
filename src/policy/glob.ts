/**
 * IAM wildcard matching: `*` matches any run of characters (including none), `?` exactly one.
 * Callers lower-case both sides first where IAM is case-insensitive (actions); ARNs are compared as given.
 */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0
  let t = 0
  let starP = -1
  let starT = 0
  while (t < text.length) {
    const c = pattern.charCodeAt(p)
    if (p < pattern.length && (c === 63 /* ? */ || c === text.charCodeAt(t))) {
      p++
      t++
    } else if (p < pattern.length && c === 42 /* * */) {
      starP = p++
      starT = t
    } else if (starP >= 0) {
      p = starP + 1
      t = ++starT
    } else {
      return false
    }
  }
  while (p < pattern.length && pattern.charCodeAt(p) === 42) p++
  return p === pattern.length
}

export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?')
}

const STAR = 42
const QUESTION = 63

/**
 * True when every string matched by `inner` is also matched by `outer` (glob language inclusion).
 * Sound: `true` is a proof; a `false` can only err on the safe side (it never claims a coverage that does not hold).
 * A table of outer positions by inner positions filled row by row: time |outer| x |inner| whatever the stars, and
 * no recursion, so policy patterns from a hostile file can neither backtrack nor overflow the stack.
 */
export function globCovers(outer: string, inner: string): boolean {
  // The common outer shapes answer without the table: a literal covers only itself; `prefix*` covers exactly the
  // patterns that start with that literal prefix (a wildcard of inner inside the prefix matches other characters).
  const star = outer.indexOf('*')
  if (!outer.includes('?') && (star < 0 || star === outer.length - 1)) {
    return star < 0 ? outer === inner : inner.startsWith(outer.slice(0, -1))
  }
  const m = inner.length
  // next[j]: does outer[i + 1..] cover inner[j..]? Row i = outer.length covers only the empty rest.
  let next = new Uint8Array(m + 1)
  let row = new Uint8Array(m + 1)
  next[m] = 1
  for (let i = outer.length - 1; i >= 0; i--) {
    const o = outer.charCodeAt(i)
    if (o === STAR) {
      // outer `*` absorbs nothing, or one more token of inner (a literal, `?` or `*`).
      row[m] = next[m] ?? 0
      for (let j = m - 1; j >= 0; j--) row[j] = (next[j] ?? 0) | (row[j + 1] ?? 0)
    } else {
      row[m] = 0
      for (let j = m - 1; j >= 0; j--) {
        const n = inner.charCodeAt(j)
        row[j] = (o === QUESTION ? n !== STAR : n === o) ? (next[j + 1] ?? 0) : 0
      }
    }
    ;[row, next] = [next, row]
  }
  return next[0] === 1
}
