import { describe, expect, it } from '@jest/globals'
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sessionName } from '../../src/aws/session-name.js'
import { parseAuthorizationDetails, parsePolicyFile } from '../../src/granted/policy-file.js'
import { jsonErrorPlace } from '../../src/policy/document.js'
import {
  discoverPolicyFiles,
  isSafePathSegment,
  POLICY_FILE_MAX_BYTES,
  readWorkspaceFile
} from '../../src/granted/workspace-file.js'
import { escapeControl, escapeText } from '../../src/report/escape.js'

function workspace(): { root: string; outside: string } {
  const dir = mkdtempSync(join(tmpdir(), 'workspace-file-'))
  const root = join(dir, 'workspace')
  const outside = join(dir, 'outside')
  mkdirSync(join(root, 'iam', '111122223333'), { recursive: true })
  mkdirSync(outside)
  writeFileSync(join(outside, 'secret.json'), '{"Statement":[]}')
  return { root, outside }
}

describe('readWorkspaceFile', () => {
  it('reads a regular file, and says absent for a missing one', () => {
    const { root } = workspace()
    writeFileSync(join(root, 'iam/111122223333/app.json'), '{}')
    expect(readWorkspaceFile(root, 'iam/111122223333/app.json')).toEqual({ status: 'read', text: '{}' })
    expect(readWorkspaceFile(root, 'iam/111122223333/none.json')).toEqual({ status: 'absent' })
  })

  it('refuses links, linked folders, paths that leave the workspace, folders and large files', () => {
    const { root, outside } = workspace()
    symlinkSync(join(outside, 'secret.json'), join(root, 'iam/111122223333/link.json'))
    symlinkSync(outside, join(root, 'iam/linked'))
    mkdirSync(join(root, 'iam/111122223333/dir.json'))
    writeFileSync(join(root, 'iam/111122223333/big.json'), ' '.repeat(POLICY_FILE_MAX_BYTES + 1))
    const reason = (path: string) => {
      const file = readWorkspaceFile(root, path)
      return file.status === 'refused' ? file.reason : file.status
    }
    expect(reason('iam/111122223333/link.json')).toMatch(/symbolic link/)
    expect(reason('iam/linked/secret.json')).toMatch(/outside the workspace/)
    expect(reason('../outside/secret.json')).toMatch(/not a path inside the workspace/)
    expect(reason('iam/111122223333/dir.json')).toMatch(/not a regular file/)
    expect(reason('iam/111122223333/big.json')).toMatch(/more than/)
  })

  it('discovers the files policy-path names, never through a link, and never . or .. as a role', () => {
    const { root, outside } = workspace()
    writeFileSync(join(root, 'iam/111122223333/app-new.json'), '{}')
    writeFileSync(join(root, 'iam/111122223333/...json'), '{}')
    writeFileSync(join(root, 'iam/111122223333/notes.txt'), '')
    symlinkSync(outside, join(root, 'iam/222233334444'))
    expect(discoverPolicyFiles(root, 'iam/{account}/{role}.json')).toEqual([
      { path: 'iam/111122223333/app-new.json', accountId: '111122223333', roleName: 'app-new' }
    ])
    expect(isSafePathSegment('..')).toBe(false)
    expect(isSafePathSegment('a/b')).toBe(false)
  })
})

describe('data never echoed or acted on', () => {
  it('a JSON error names the position, never the text', () => {
    expect(() => parsePolicyFile('AWS_SECRET=hunter2', 'f.json')).toThrow(
      /^f\.json: not valid JSON \(syntax error/
    )
    expect(() => parsePolicyFile('AWS_SECRET=hunter2', 'f.json')).not.toThrow(/AWS_SECRET/)
    let error: unknown
    try {
      JSON.parse('{"a":1,}')
    } catch (e) {
      error = e
    }
    expect(jsonErrorPlace(error)).toMatch(/^syntax error at position \d+$/)
  })

  it('a key written twice in one object is refused: other readers of the file may keep the other value', () => {
    const statement = (actions: string) =>
      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",${actions},"Resource":"*"}]}`
    for (const actions of [
      '"Action":"*","Action":"s3:GetObject"',
      '"Action":"*","\u0041ction":"s3:GetObject"'
    ])
      expect(() => parsePolicyFile(statement(actions), 'f.json')).toThrow(
        /^f\.json: a key appears twice in one object \(at position \d+\)/
      )
    const wrapped = JSON.stringify({
      PolicyName: 'p',
      PolicyDocument: statement('"Action":"*","Action":"s3:X"')
    })
    expect(() => parsePolicyFile(wrapped, 'f.json')).toThrow(/a key appears twice/)
    // The same key in sibling objects, a key-like value, and escaped quotes are fine.
    const fine = `{"Version":"2012-10-17","Statement":[{"Sid":"a\\":","Effect":"Allow","Action":"s3:GetObject","Resource":"*"},{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}`
    expect(parsePolicyFile(fine, 'f.json')).toHaveLength(1)
  })

  it('a file saved with a byte-order mark (Windows editors, PowerShell) reads like the same file without one', () => {
    const document =
      '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    expect(parsePolicyFile(`\uFEFF${document}`, 'f.json')).toEqual(parsePolicyFile(document, 'f.json'))
    const details = JSON.stringify({
      RoleDetailList: [{ RoleName: 'app', Arn: 'arn:aws:iam::111122223333:role/app' }],
      Policies: []
    })
    expect(parseAuthorizationDetails(`\uFEFF${details}`, 'e.json')).toEqual(
      parseAuthorizationDetails(details, 'e.json')
    )
  })

  it('a file with a number JSON readers round is refused, whether the document is an object or a string', () => {
    const document =
      '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":1e999}}}}'
    expect(() => parsePolicyFile(document, 'f.json')).toThrow(
      'f.json: has the number 1e999 (at position 140), which JSON readers do not keep as written; write it as a string ("1e999")'
    )
    const wrapped = JSON.stringify({ PolicyName: 'p', PolicyDocument: document })
    expect(() => parsePolicyFile(wrapped, 'f.json')).toThrow(
      'f.json (p): the policy document has the number 1e999'
    )
  })

  it('a number JSON readers round in one role of an export fails that role alone, and a managed policy the roles attaching it', () => {
    const rounded =
      '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThan":{"s3:max-keys":12345678901234567890}}}}'
    const clean =
      '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}'
    const arn = (name: string) => `arn:aws:iam::111122223333:role/${name}`
    const inline = (name: string, document: string) =>
      `{"RoleName":"${name}","Arn":"${arn(name)}","RolePolicyList":[{"PolicyName":"p","PolicyDocument":${document}}]}`
    const attaching = (name: string, policy: string) =>
      `{"RoleName":"${name}","Arn":"${arn(name)}","AttachedManagedPolicies":[{"PolicyName":"m","PolicyArn":"${policy}"}]}`
    const managed = (policy: string, document: string) =>
      `{"PolicyName":"m","Arn":"${policy}","DefaultVersionId":"v1","PolicyVersionList":[{"VersionId":"v1","IsDefaultVersion":true,"Document":${document}}]}`
    const [bad, good] = ['arn:aws:iam::111122223333:policy/bad', 'arn:aws:iam::111122223333:policy/good']
    const details =
      `{"UserDetailList":[{"n":1e999}],"RoleDetailList":[${inline('before', clean)},${inline('app', rounded)},` +
      `${inline('after', clean)},${attaching('attaches-bad', bad)},${attaching('attaches-good', good)}],` +
      `"Policies":[${managed(bad, rounded)},${managed(good, clean)}]}`
    const roles = parseAuthorizationDetails(details, 'e.json')
    expect(roles.map(r => [r.name, r.error ?? 'read'])).toEqual([
      ['before', 'read'],
      [
        'app',
        `e.json: role app has the number 12345678901234567890 (at position ${details.indexOf('12345678901234567890')}), which JSON readers do not keep as written; write it as a string ("12345678901234567890")`
      ],
      ['after', 'read'],
      [
        'attaches-bad',
        `e.json: managed policy ${bad} has the number 12345678901234567890 (at position ${details.lastIndexOf('12345678901234567890')}), which JSON readers do not keep as written; write it as a string ("12345678901234567890")`
      ],
      ['attaches-good', 'read']
    ])
  })

  it('control characters, bidirectional overrides and line breaks are shown, never acted on', () => {
    expect(escapeControl('a\u001b[31mb\u202ec\n::error::x')).toBe('a\\u001b[31mb\\u202ec\\u000a::error::x')
    expect(escapeText('a\u001bb\u202e')).toBe('a\\\\u001bb\\\\u202e')
  })

  it('the STS session name carries the repository and run id within 64 allowed characters', () => {
    expect(sessionName('iam-least-privilege', 'octo-org/infra', '4242')).toBe(
      'iam-least-privilege@octo-org+infra@4242'
    )
    const long = sessionName('iam-least-privilege', `octo-org/${'r'.repeat(90)}`, '123456789012')
    expect(long).toHaveLength(64)
    expect(long).toMatch(/^[\w+=,.@-]+@123456789012$/)
    expect(sessionName('ci', undefined, undefined)).toBe('ci')
  })
})
