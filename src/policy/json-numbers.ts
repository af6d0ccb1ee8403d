/**
 * Numbers in JSON text that do not survive being read: JSON.parse turns 12345678901234567890 into
 * 12345678901234567000 and 1e999 into Infinity (written back as null). A policy carried over with such a number in
 * its Condition would compare against another value than the one written, so such text is refused. Pure.
 */

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/

/** A decimal's value as sign, significant digits and exponent: `1.50`, `15e-1` and `1.5` read the same. */
function decimalValue(text: string): string {
  const m = DECIMAL.exec(text)
  if (!m) return text
  const [, sign = '', whole = '', fraction = '', exponent = '0'] = m
  let digits = (whole + fraction).replace(/^0+/, '')
  let scale = Number(exponent) - fraction.length
  if (digits === '') return '0'
  while (digits.endsWith('0')) {
    digits = digits.slice(0, -1)
    scale++
  }
  return `${sign}${digits}e${scale}`
}

/** The first number in a JSON text that JSON.parse does not read as written, with its position; input is valid JSON. */
export function inexactNumber(text: string): { number: string; position: number } | undefined {
  let i = 0
  while (i < text.length) {
    const c = text[i]
    if (c === '"') {
      i++
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      i++
      continue
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const token = NUMBER.exec(text)?.[0] ?? c
      const read = Number(token)
      if (!Number.isFinite(read) || decimalValue(String(read)) !== decimalValue(token))
        return { number: token, position: i }
      i += token.length
      continue
    }
    i++
  }
  return undefined
}

/** An inexact number and the entry of a top-level list that holds it (`RoleDetailList`, 3). */
export interface InexactEntryNumber {
  number: string
  position: number
  /** The key of the top-level object the number is under, and the index in that key's array (if it is one). */
  key: string
  index?: number
}

interface Frame {
  array: boolean
  /** Object: the key being read or last read. Array: the index of the current item. */
  key?: string
  index: number
  expectKey: boolean
}

/**
 * Every number of a JSON text (valid JSON) that JSON.parse does not read as written, each with the top-level key
 * and array index it sits under, so a list of independent entries (an export's roles) can refuse only the entry
 * that holds it. A key is compared as written between its quotes.
 */
export function inexactNumbersByEntry(text: string): InexactEntryNumber[] {
  const found: InexactEntryNumber[] = []
  const stack: Frame[] = []
  let i = 0
  while (i < text.length) {
    const c = text[i]
    const top = stack[stack.length - 1]
    if (c === '"') {
      const start = ++i
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1
      if (top && !top.array && top.expectKey) top.key = text.slice(start, i)
      i++
      continue
    }
    if (c === '{' || c === '[') stack.push({ array: c === '[', index: 0, expectKey: c === '{' })
    else if (c === '}' || c === ']') stack.pop()
    else if (c === ':' && top) top.expectKey = false
    else if (c === ',' && top) {
      if (top.array) top.index++
      else top.expectKey = true
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i
      const token = NUMBER.exec(text)?.[0] ?? c
      const read = Number(token)
      if (!Number.isFinite(read) || decimalValue(String(read)) !== decimalValue(token)) {
        const [root, list] = stack
        found.push({
          number: token,
          position: i,
          key: root && !root.array ? (root.key ?? '') : '',
          ...(list?.array ? { index: list.index } : {})
        })
      }
      i += token.length
      continue
    }
    i++
  }
  return found
}
