/**
 * `list[index]` where the caller's construction guarantees the index exists (dense catalog ids, parallel arrays):
 * a broken invariant throws here instead of spreading `undefined`.
 */
export function at<T>(list: ArrayLike<T>, index: number): T {
  const value = list[index]
  if (value === undefined) throw new RangeError(`Index ${index} is out of range (length ${list.length}).`)
  return value
}
