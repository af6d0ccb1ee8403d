import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from '@jest/globals'
import { createTwoFilesPatch, structuredPatch } from 'diff'
import fc from 'fast-check'
import { cloudFormationReader } from '../../../src/iac/cloudformation/reader.js'
import { canonical } from '../../../src/iac/cloudformation/rewrite.js'
import type { IacPolicy, IacSourceFile } from '../../../src/iac/model.js'
import type { PolicyDocumentJson } from '../../../src/model.js'
import { ADF_GLOBAL, TEMPLATES, asPattern, decodeIndependently, template } from './fixtures.js'

const GOLDEN = join(fileURLToPath(new URL('.', import.meta.url)), 'golden')

/** Every policy of a template that is written in it and can be rewritten. */
async function rewritable(file: IacSourceFile): Promise<IacPolicy[]> {
  const { roles } = await cloudFormationReader.read([file])
  const all = roles.flatMap(r => r.policies).filter(p => p.location.file === file.path && !p.notRewritable)
  return [...new Set(all)]
}

async function policyAt(file: IacSourceFile, address: string): Promise<IacPolicy> {
  const policy = (await rewritable(file)).find(p => p.location.address === address)
  if (!policy) throw new Error(`no rewritable policy ${address} in ${file.path}`)
  return policy
}

function withStatements(
  policy: IacPolicy,
  edit: (s: Record<string, unknown>[]) => Record<string, unknown>[]
) {
  return { ...policy.document, Statement: edit(policy.document.Statement.map(s => ({ ...s }))) }
}

function diffOf(file: IacSourceFile, after: string): string {
  return createTwoFilesPatch(`a/${file.path}`, `b/${file.path}`, file.text, after, '', '', { context: 2 })
}

function golden(name: string): string {
  return readFileSync(join(GOLDEN, name), 'utf8')
}

/** The policy document js-yaml decodes at `address`, with pseudo-parameter Subs read as patterns. */
function decodedPolicy(text: string, address: string): unknown {
  const root = decodeIndependently(text) as {
    Resources: Record<string, { Properties: Record<string, unknown> }>
  }
  const m = /^(.+)\.Policies\[(\d+)\]$/.exec(address)
  const resource = root.Resources[m?.[1] ?? address]
  const document = m
    ? (resource?.Properties.Policies as { PolicyDocument: unknown }[])[Number(m[2])]?.PolicyDocument
    : resource?.Properties.PolicyDocument
  return asPattern(document)
}

describe('round trip', () => {
  it('leaves every fixture byte-identical when the proposal is the current document', async () => {
    let policies = 0
    for (const path of TEMPLATES) {
      const file = template(path)
      for (const policy of await rewritable(file)) {
        policies++
        expect(await cloudFormationReader.rewrite(file, policy, policy.document)).toBe(file.text)
      }
    }
    expect(policies).toBeGreaterThanOrEqual(10)
  })
})

describe('golden edits (the whole diff)', () => {
  it('YAML block list: drops the unused actions line by line, comments and quoting kept', async () => {
    const file = template(ADF_GLOBAL)
    const policy = await policyAt(file, 'ReadOnlyAutomationRolePolicy')
    const proposal = withStatements(policy, ([s]) => [
      { ...s, Action: ['ssm:GetParameter', 'cloudformation:DescribeStacks'] }
    ])
    const after = await cloudFormationReader.rewrite(file, policy, proposal)
    expect(diffOf(file, after)).toBe(golden('adf-readonly-drop.diff'))
  })

  it.each([
    ['YAML: a wildcard replaced by the used actions and a narrowed Resource, the !Sub values kept', 'yaml'],
    ['JSON: the same edit keeps the file indentation and the Fn::Sub object', 'json']
  ])('%s', async (_title, format) => {
    const file = template(`aws-cloudformation-templates/NeptuneDB/Neptune.${format}`)
    const policy = await policyAt(file, 'NeptuneS3Policy')
    const proposal = withStatements(policy, ([s]) => [
      {
        ...s,
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:*:s3:::*', 'arn:aws:s3:::data-sets/*']
      }
    ])
    const after = await cloudFormationReader.rewrite(file, policy, proposal)
    expect(diffOf(file, after)).toBe(golden(`neptune-${format}-narrow.diff`))
  })

  it('a scalar Action that becomes a list, and a statement split in two (YAML block style)', async () => {
    const file = template(ADF_GLOBAL)
    const policy = await policyAt(file, 'BootstrapTestRole.Policies[0]')
    const scalar = await cloudFormationReader.rewrite(
      file,
      policy,
      withStatements(policy, ([s]) => [{ ...s, Action: ['s3:DeleteObject', 's3:PutObject'] }])
    )
    const split = await cloudFormationReader.rewrite(
      file,
      policy,
      withStatements(policy, ([s]) => [
        { ...s, Action: 'iam:*' },
        { Sid: 'KeepReads', Effect: 'Deny', Action: ['s3:GetObject'], Resource: 'arn:aws:s3:::x/*' }
      ])
    )
    expect(`${diffOf(file, scalar)}${diffOf(file, split)}`).toBe(
      golden('adf-test-role-scalar-and-split.diff')
    )
  })

  it('JSON: a statement removed and one added keep the untouched statements as written', async () => {
    const file = template('aws-cloudformation-templates/Config/Config.json')
    const policy = await policyAt(file, 'LambdaExecutionRole.Policies[0]')
    const proposal = withStatements(policy, ([s]) => [
      { ...s, Action: ['logs:CreateLogStream', 'logs:PutLogEvents'] },
      { Effect: 'Allow', Action: 'config:PutEvaluations', Resource: '*' }
    ])
    const after = await cloudFormationReader.rewrite(file, policy, proposal)
    expect(diffOf(file, after)).toBe(golden('config-json-split.diff'))
  })

  it('keeps the statements holding an expression as written and rewrites the literal one', async () => {
    const file = template('aws-cloudformation-templates/Config/Config.yaml')
    const policy = await policyAt(file, 'ConfigRole.Policies[0]')
    expect(policy.keptStatements?.map(k => [k.statement, k.index])).toEqual([
      [0, 0],
      [1, 1]
    ])
    const proposal = withStatements(policy, ([a, b, c]) =>
      [a, b, { ...c, Action: 'config:PutEvaluations' }].flatMap(x => (x ? [x] : []))
    )
    const after = await cloudFormationReader.rewrite(file, policy, proposal)
    expect(diffOf(file, after)).toBe(golden('config-kept-statements.diff'))
    // A kept statement is never edited, and dropping a statement beside it is refused, naming the expression.
    await expect(
      cloudFormationReader.rewrite(
        file,
        policy,
        withStatements(policy, ([a, ...rest]) => [{ ...a, Action: 's3:GetObject' }, ...rest])
      )
    ).rejects.toThrow(
      /ConfigRole\.Policies\[0\]: not rewritten: statement 1 holds !Join .*!Ref ConfigBucket.*, which is kept as written/
    )
    await expect(
      cloudFormationReader.rewrite(
        file,
        policy,
        withStatements(policy, ([a, b]) => [a, b].flatMap(x => (x ? [x] : [])))
      )
    ).rejects.toThrow(/the proposal removes or reshapes statements, and statement 1 holds !Join/)
  })
})

const ACTIONS = [
  's3:Get #x',
  's3:GetObject',
  's3:PutObject',
  'logs:PutLogEvents',
  'kms:Decrypt',
  "x:It's*",
  'ec2:Describe*'
]
const RESOURCES = [
  '*',
  'arn:aws:s3:::b/*',
  'arn:aws:logs:eu-west-1:111122223333:log-group:/a:*',
  'arn:aws:s3:::a b'
]

/** A proposal derived from a policy: subsets of its lists, new values, statements dropped, added or split. */
function proposalFor(policy: IacPolicy): fc.Arbitrary<PolicyDocumentJson> {
  const list = (values: unknown, pool: string[]) => {
    const current = (Array.isArray(values) ? values : [values]).map(String)
    return fc
      .tuple(fc.subarray(current), fc.subarray(pool), fc.boolean())
      .filter(([kept, added]) => kept.length + added.length > 0)
      .map(([kept, added, scalar]) => {
        const all = [...new Set([...kept, ...added])]
        return scalar && all.length === 1 ? all[0] : all
      })
  }
  const statement = (s: Record<string, unknown>) => {
    const edits: Record<string, fc.Arbitrary<unknown>> = {}
    for (const field of ['Action', 'NotAction'] as const)
      if (field in s) edits[field] = list(s[field], ACTIONS)
    for (const field of ['Resource', 'NotResource'] as const)
      if (field in s) edits[field] = list(s[field], RESOURCES)
    return fc.record(edits).map(e => ({ ...s, ...e }))
  }
  const kept = new Set((policy.keptStatements ?? []).flatMap(k => (k.index === undefined ? [] : [k.index])))
  if (kept.size > 0 || (policy.keptStatements ?? []).length > 0)
    // Statements kept as written stay as they are; the others change their lists, none goes or comes.
    return fc
      .tuple(...policy.document.Statement.map((s, i) => (kept.has(i) ? fc.constant(s) : statement(s))))
      .map(statements => ({ ...policy.document, Statement: statements }))
  const extra = fc.record({
    Effect: fc.constant('Allow'),
    Action: fc.subarray(ACTIONS, { minLength: 1 }),
    Resource: fc.constantFrom(...RESOURCES)
  })
  return fc
    .tuple(
      fc.tuple(...policy.document.Statement.map(s => fc.option(statement(s), { nil: undefined, freq: 6 }))),
      fc.array(extra, { maxLength: 2 })
    )
    .map(([kept, added]) => ({
      ...policy.document,
      Statement: [...kept.filter((s): s is Record<string, unknown> => s !== undefined), ...added]
    }))
    .filter(d => d.Statement.length > 0)
}

/**
 * What an independent decoder reads once the proposal is written: the proposal, except that statements kept as
 * written still read as written (intrinsics and all).
 */
function asWritten(policy: IacPolicy, original: unknown, proposal: PolicyDocumentJson): unknown {
  const kept = policy.keptStatements ?? []
  if (kept.length === 0) return proposal
  const written = (original as { Statement: unknown[] }).Statement
  let index = 0
  const Statement = written.map((s, i) => {
    const k = kept.find(x => x.statement === i)
    if (k && k.index === undefined) return s
    const proposed = proposal.Statement[index++]
    return k ? s : proposed
  })
  return { ...proposal, Statement }
}

describe('property: rewriting then reading yields the proposal', () => {
  it('for every rewritable fixture policy, read back by the reader and by js-yaml, edits inside the policy only', async () => {
    const cases: { file: IacSourceFile; policy: IacPolicy }[] = []
    for (const path of TEMPLATES) {
      const file = template(path)
      for (const policy of await rewritable(file)) cases.push({ file, policy })
    }
    for (const { file, policy } of cases) {
      await fc.assert(
        fc.asyncProperty(proposalFor(policy), async proposal => {
          const after = await cloudFormationReader.rewrite(file, policy, proposal)
          const reread = await cloudFormationReader.read([{ path: file.path, text: after }])
          const again = reread.roles
            .flatMap(r => r.policies)
            .find(p => p.location.address === policy.location.address)
          expect(canonical(again?.document)).toBe(canonical(proposal))
          expect(canonical(decodedPolicy(after, policy.location.address))).toBe(
            canonical(asWritten(policy, decodedPolicy(file.text, policy.location.address), proposal))
          )
          for (const hunk of structuredPatch('a', 'b', file.text, after, '', '', { context: 0 }).hunks) {
            // An insertion is reported at the line after which it goes.
            const first = hunk.oldLines === 0 ? hunk.oldStart - 1 : hunk.oldStart
            expect(first).toBeGreaterThanOrEqual(policy.location.startLine)
            expect(first + Math.max(hunk.oldLines, 1) - 1).toBeLessThanOrEqual(policy.location.endLine)
          }
        }),
        { numRuns: 25, seed: 16 }
      )
    }
  })
})
