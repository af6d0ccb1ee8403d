/**
 * Differential test of the policy engine against the independent reference evaluator (the generator and the four
 * properties are in __tests__/support/differential.ts). More seeds: npx tsx bench/differential.ts.
 */
import { describe, expect, test } from '@jest/globals'
import { checkCase, generateCase } from '../support/differential.js'

const SEEDS = 150
/** Catalog actions checked per seed besides those the policies name; and per class of the analysis. */
const CATALOG_SPREAD = 10
const PER_CLASS = 10

describe('policy engine versus the reference evaluator', () => {
  test(`${SEEDS} random policy sets: no property failure`, () => {
    const failures: string[] = []
    let checked = 0
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = checkCase(generateCase(seed), CATALOG_SPREAD, PER_CLASS)
      checked += result.checkedActions
      for (const f of result.failures) failures.push(`seed ${seed}: ${f}`)
    }
    expect(failures.slice(0, 20)).toEqual([])
    expect(checked).toBeGreaterThan(SEEDS * CATALOG_SPREAD)
  })
})
