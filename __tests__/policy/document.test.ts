import { describe, expect, test } from '@jest/globals'
import { PolicyDocumentError, normalizePolicy } from '../../src/policy/document.js'
import { managedPolicyDocument } from './builders.js'

function errorOf(document: unknown): string {
  try {
    normalizePolicy('app', document)
  } catch (error) {
    expect(error).toBeInstanceOf(PolicyDocumentError)
    return (error as Error).message
  }
  throw new Error('expected a PolicyDocumentError')
}

describe('normalizePolicy', () => {
  test('single statement object, string values, case-insensitive element names', () => {
    const policy = normalizePolicy('app', {
      version: '2012-10-17',
      statement: { sid: 'One', effect: 'allow', action: 's3:GetObject', resource: 'arn:aws:s3:::b/*' }
    })
    expect(policy.statements).toHaveLength(1)
    expect(policy.statements[0]).toMatchObject({
      ref: 'app#One',
      sid: 'One',
      effect: 'Allow',
      actions: ['s3:GetObject'],
      resources: ['arn:aws:s3:::b/*']
    })
    expect(policy.statements[0]?.raw).toEqual({
      Sid: 'One',
      Effect: 'Allow',
      Action: 's3:GetObject',
      Resource: 'arn:aws:s3:::b/*'
    })
  })

  test('JSON string and URL-encoded JSON (IAM wire form)', () => {
    const json = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', NotAction: ['iam:*'], NotResource: '*' }]
    })
    for (const input of [json, encodeURIComponent(json)]) {
      const [statement] = normalizePolicy('p', input).statements
      expect(statement).toMatchObject({
        effect: 'Deny',
        notActions: ['iam:*'],
        notResources: ['*'],
        ref: 'p'
      })
    }
  })

  test('a number JSON readers do not keep as written is refused, naming it; numbers read as written are fine', () => {
    const withNumber = (n: string) =>
      `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*",` +
      `"Condition":{"NumericEquals":{"s3:max-keys":${n}},"StringEquals":{"aws:ResourceTag/n":"${n} %"}}}}`
    // Read as 12345678901234567000 and Infinity (written back as null): a carried Condition would change.
    expect(errorOf(withNumber('12345678901234567890'))).toBe(
      'Policy "app": has the number 12345678901234567890 (at position 137), which JSON readers do not keep as ' +
        'written; write it as a string ("12345678901234567890")'
    )
    expect(errorOf(encodeURIComponent(withNumber('1e999')))).toMatch(
      /has the number 1e999 \(at position \d+\)/
    )
    expect(errorOf(withNumber('0.10000000000000000001'))).toMatch(/has the number 0\.10000000000000000001/)
    for (const n of ['3600', '-1', '1.5', '1.50', '1e3', '0', '-0', '25e-1', '1E+21'])
      expect(normalizePolicy('app', withNumber(n)).statements).toHaveLength(1)
  })

  test('real AWS managed policies parse', () => {
    for (const name of [
      'AdministratorAccess',
      'PowerUserAccess',
      'ReadOnlyAccess',
      'AmazonSSMManagedInstanceCore'
    ]) {
      expect(normalizePolicy(name, managedPolicyDocument(name)).statements.length).toBeGreaterThan(0)
    }
  })

  test('malformed input names the policy and the JSON path', () => {
    const ok = { Effect: 'Allow', Action: '*', Resource: '*' }
    expect(errorOf('{not json')).toMatch(/^Policy "app": is not valid JSON/)
    expect(errorOf([])).toBe('Policy "app": expected a JSON object with Version and Statement')
    expect(errorOf({ Version: '2012-10-17' })).toBe('Policy "app": Statement: is missing')
    expect(errorOf({ Version: '2020-01-01', Statement: [ok] })).toMatch(/^Policy "app": Version:/)
    expect(errorOf({ Version: '2012-10-17', Statement: [ok, ok, { ...ok, Action: 5 }] })).toBe(
      'Policy "app": Statement[2].Action: expected a string or a non-empty array of strings'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, Action: ['s3:GetObject', 's3'] }] })).toBe(
      'Policy "app": Statement[0].Action[1]: "s3" is not an action (expected "service:Action" or "*")'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, Effect: 'Permit' }] })).toBe(
      'Policy "app": Statement[0].Effect: expected "Allow" or "Deny"'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, NotAction: 'iam:*' }] })).toBe(
      'Policy "app": Statement[0]: needs exactly one of Action or NotAction'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*' }] })).toBe(
      'Policy "app": Statement[0]: needs exactly one of Resource or NotResource'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, Principal: '*' }] })).toMatch(
      /Statement\[0\]\.Principal: is not allowed in an identity policy/
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, Condition: 'x' }] })).toBe(
      'Policy "app": Statement[0].Condition: expected an object'
    )
    expect(errorOf({ Version: '2012-10-17', Statement: [{ ...ok, action: 's3:*' }] })).toMatch(
      /Statement\[0\]\.action: duplicates Action/
    )
  })
})
