import { describe, expect, it } from '@jest/globals'
import { parseRoleSelector } from '../../src/config.js'
import { parseAuthorizationDetails } from '../../src/granted/policy-file.js'
import { roleName } from '../../src/report/role-facts.js'
import { parseRoleArn, requireRoleArn, roleKey, selectRoles } from '../../src/roles.js'

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

describe('parseRoleArn', () => {
  it('reads partition, account, path and name', () => {
    expect(parseRoleArn('arn:aws-us-gov:iam::111122223333:role/service/app/worker')).toEqual({
      partition: 'aws-us-gov',
      accountId: '111122223333',
      path: '/service/app/',
      name: 'worker'
    })
    expect(parseRoleArn('arn:aws:iam::111122223333:role/app')).toMatchObject({ path: '/', name: 'app' })
  })

  it.each([
    ['an assumed-role session', 'arn:aws:sts::111122223333:assumed-role/app/session'],
    ['a user', 'arn:aws:iam::111122223333:user/app'],
    ['a short account', 'arn:aws:iam::1111:role/app'],
    ['an unknown partition', 'arn:evil:iam::111122223333:role/app'],
    ['an ISO partition AWS does not have', 'arn:aws-iso-c:iam::111122223333:role/app'],
    ['another ISO partition AWS does not have', 'arn:aws-iso-a:iam::111122223333:role/app'],
    ['a name IAM refuses', 'arn:aws:iam::111122223333:role/app name'],
    ['no name', 'arn:aws:iam::111122223333:role/'],
    ['a bare name', 'app']
  ])('refuses %s', (_what, value) => {
    expect(parseRoleArn(value)).toBeUndefined()
  })

  it.each(['aws', 'aws-cn', 'aws-us-gov', 'aws-iso', 'aws-iso-b', 'aws-iso-e', 'aws-iso-f', 'aws-eusc'])(
    'reads a role of the %s partition',
    partition => {
      expect(parseRoleArn(`arn:${partition}:iam::111122223333:role/app`)?.partition).toBe(partition)
    }
  )

  it('says what is wrong and what is expected', () => {
    expect(() => requireRoleArn('arn:aws:iam::1111:role/app', 'export.json: role app: Arn')).toThrow(
      'export.json: role app: Arn: "arn:aws:iam::1111:role/app" is not a role ARN; expected arn:aws:iam::<12-digit account>:role/<optional path/><name>'
    )
  })

  it('identifies a role by account and name, whatever the path and case', () => {
    expect(roleKey('arn:aws:iam::111122223333:role/service-role/App')).toBe(
      roleKey('arn:aws:iam::111122223333:role/app')
    )
    expect(roleKey('arn:aws:iam::111122223333:role/app')).not.toBe(
      roleKey('arn:aws:iam::444455556666:role/app')
    )
    expect(roleKey('not-an-arn')).toBe('not-an-arn')
  })

  it('names roles in reports the same way', () => {
    expect(roleName('arn:aws:iam::111122223333:role/a/b/app')).toEqual({
      accountId: '111122223333',
      name: 'app'
    })
    expect(roleName('missing-role')).toEqual({ name: 'missing-role' })
  })
})

describe('parseAuthorizationDetails', () => {
  it('fails only the role whose Arn is not a role ARN, saying so', () => {
    const text = JSON.stringify({
      RoleDetailList: [
        { RoleName: 'odd', Arn: 'arn:aws:iam::1111:role/odd' },
        { RoleName: 'app', Arn: 'arn:aws:iam::111122223333:role/team/app' }
      ],
      Policies: []
    })
    const [odd, app] = parseAuthorizationDetails(text, 'export.json')
    expect(odd?.error).toBe(
      'export.json: role odd: Arn: "arn:aws:iam::1111:role/odd" is not a role ARN; expected arn:aws:iam::<12-digit account>:role/<optional path/><name>'
    )
    expect(app?.grants).toMatchObject({ accountId: '111122223333', path: '/team/', name: 'app' })
  })

  it('fails an entry that is not a role object, and reads the others', () => {
    const text = JSON.stringify({
      RoleDetailList: [null, { RoleName: 'app', Arn: 'arn:aws:iam::111122223333:role/app' }],
      Policies: []
    })
    const [broken, app] = parseAuthorizationDetails(text, 'export.json')
    expect(broken?.error).toBe('export.json: RoleDetailList[0] is not a role object; export again')
    expect(app?.grants?.name).toBe('app')
  })

  const role = (fields: Record<string, unknown>) =>
    JSON.stringify({
      RoleDetailList: [
        { RoleName: 'app', Arn: 'arn:aws:iam::111122223333:role/app', Path: '/', ...fields },
        { RoleName: 'other', Arn: 'arn:aws:iam::111122223333:role/other' }
      ],
      Policies: []
    })

  it.each([
    [
      'a RoleName that is not the name in its Arn',
      { RoleName: 'prod-admin' },
      'export.json: role prod-admin: RoleName is not the name in its Arn (app); export again'
    ],
    [
      'a Path that is not the path in its Arn (a service-linked role would pass as editable)',
      { Arn: 'arn:aws:iam::111122223333:role/aws-service-role/x.amazonaws.com/app' },
      'export.json: role app: Path is not the path in its Arn (/aws-service-role/x.amazonaws.com/); export again'
    ],
    [
      'a RolePolicyList entry that is not an object',
      { RolePolicyList: [null] },
      'export.json: role app: RolePolicyList is not a list of objects; export again'
    ],
    [
      'a RolePolicyList that is not a list',
      { RolePolicyList: { PolicyName: 'p' } },
      'export.json: role app: RolePolicyList is not a list of objects; export again'
    ],
    [
      'an inline policy without a name',
      { RolePolicyList: [{ PolicyDocument: {} }] },
      'export.json: role app: an entry of RolePolicyList has no PolicyName; export again'
    ],
    [
      'an attached policy without an ARN',
      { AttachedManagedPolicies: [{ PolicyName: 'x' }] },
      'export.json: role app: an entry of AttachedManagedPolicies has no PolicyArn; export again'
    ],
    [
      'a boundary without an ARN',
      { PermissionsBoundary: { PermissionsBoundaryArn: 5 } },
      'export.json: role app: PermissionsBoundary has no PermissionsBoundaryArn; export again'
    ],
    [
      'a CreateDate that is not a date',
      { CreateDate: 5 },
      'export.json: role app: CreateDate is not a date; export again'
    ]
  ])('fails only the role with %s, saying so', (_what, fields, error) => {
    const [odd, other] = parseAuthorizationDetails(role(fields), 'export.json')
    expect(odd?.error).toBe(error)
    expect(odd?.grants).toBeUndefined()
    expect(other?.grants?.name).toBe('other')
  })
})
