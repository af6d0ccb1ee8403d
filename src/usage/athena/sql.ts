/**
 * SQL text from values that are hostile until proven otherwise (role ARNs and names from configuration): every value
 * is validated for its kind, then quoted, so nothing a user writes can end a literal or an identifier.
 */

/** A string literal: single quotes doubled (Trino and ANSI SQL have no backslash escapes). */
export function sqlString(value: string): string {
  // Control characters and non-ASCII text have no place in an ARN, a Region or a date; refusing them keeps the
  // literal printable in logs and the query console.
  if (/[^\x20-\x7e]/.test(value)) throw new Error(`not a printable ASCII value: ${JSON.stringify(value)}`)
  return `'${value.replaceAll("'", "''")}'`
}

/** A list of string literals for IN (...). */
export function sqlList(values: readonly string[]): string {
  return values.map(sqlString).join(', ')
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/

/** A quoted identifier (catalog, database, table) of the characters Athena and Glue allow in names. */
export function sqlIdentifier(name: string, what: string): string {
  if (!NAME.test(name))
    throw new Error(`${what}: "${name}" is not a valid name; use letters, digits, _ and -`)
  return `"${name}"`
}
