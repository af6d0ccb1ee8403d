import { describe, expect, it } from '@jest/globals'
import { ACCESS_LEVELS, ROLE_STATUSES } from '../src/model.js'

describe('model', () => {
  it('ranks access levels from most to least dangerous', () => {
    expect(ACCESS_LEVELS[0]).toBe('Permissions management')
    expect(ACCESS_LEVELS.at(-1)).toBe('List')
    expect(ROLE_STATUSES).toContain('insufficient-evidence')
  })
})
