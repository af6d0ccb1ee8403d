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

/**
 * True when every string matched by `inner` is also matched by `outer` (glob language inclusion).
 * Sound: `true` is a proof; a `false` can only err on the safe side (it never claims a coverage that does not hold).
 */
export function globCovers(outer: string, inner: string): boolean {
  const memo = new Map<number, boolean>()
  const width = inner.length + 1
  const go = (i: number, j: number): boolean => {
    const key = i * width + j
    const known = memo.get(key)
    if (known !== undefined) return known
    let result: boolean
    if (i === outer.length) {
      result = j === inner.length
    } else {
      const o = outer[i]
      if (o === '*') {
        // outer `*` absorbs nothing, or one more token of inner (a literal, `?` or `*`).
        result = go(i + 1, j) || (j < inner.length && go(i, j + 1))
      } else if (j === inner.length) {
        result = false
      } else {
        const n = inner[j]
        if (o === '?') result = n !== '*' && go(i + 1, j + 1)
        else result = n === o && go(i + 1, j + 1)
      }
    }
    memo.set(key, result)
    return result
  }
  return go(0, 0)
}
