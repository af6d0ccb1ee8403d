import { describe, expect, it } from '@jest/globals'
import { parseRoleSelector } from '../../src/config.js'
import { selectRoles } from '../../src/roles.js'

const seen = [
  { arn: 'arn:aws:iam::111122223333:role/service-role/app', name: 'app' },
  { arn: 'arn:aws:iam::111122223333:role/App-Worker', name: 'App-Worker' },
  { arn: 'arn:aws:iam::444455556666:role/app', name: 'app' }
]

describe('selectRoles', () => {
  it('matches an ARN written without the role path, in its account only', () => {
    const selected = selectRoles(
      [parseRoleSelector('arn:aws:iam::111122223333:role/app')],
      seen,
      'the records'
    )
    expect(selected.roles.map(r => r.arn)).toEqual(['arn:aws:iam::111122223333:role/service-role/app'])
  })

  it('matches names and patterns regardless of case, once each, and names what matched nothing', () => {
    const selected = selectRoles(
      ['app-*', 'APP-WORKER', 'missing'].map(parseRoleSelector),
      seen,
      'the records'
    )
    expect(selected.roles.map(r => r.arn)).toEqual(['arn:aws:iam::111122223333:role/App-Worker'])
    expect(selected.unmatched).toEqual([{ input: 'missing', reason: 'role "missing" is not in the records' }])
  })
})

describe('role name patterns from user input', () => {
  // With a backtracking regular expression this pattern took minutes against a 64-character name.
  const name = 'a'.repeat(64)
  const known = [{ arn: `arn:aws:iam::111122223333:role/${name}`, name }]

  it('match without backtracking: many stars that cannot match fail at once, and still match when they can', () => {
    const hostile = parseRoleSelector(`${'*a'.repeat(8)}*b`)
    expect(selectRoles([hostile], known, 'the export').roles).toEqual([])
    const fits = parseRoleSelector(`${'*a'.repeat(8)}*`)
    expect(selectRoles([fits], known, 'the export').roles).toEqual(known)
    expect(selectRoles([parseRoleSelector('A*A')], known, 'the export').roles).toEqual(known)
  })
})
