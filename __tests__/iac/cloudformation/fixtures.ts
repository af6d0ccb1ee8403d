/**
 * The CloudFormation fixtures (real templates, copied unchanged with their LICENSE and SOURCE), and an independent
 * decoder for the rewritten templates: js-yaml with the CloudFormation short-form tags as long-form objects.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import jsYaml from 'js-yaml'
import { SHORT_FORM_TAGS } from '../../../src/iac/cloudformation/template.js'
import type { IacSourceFile } from '../../../src/iac/model.js'

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '../../fixtures/iac/cloudformation')
const ADF = 'aws-deployment-framework/src/lambda_codebase/initial_commit/bootstrap_repository/adf-bootstrap'

export const TEMPLATES = [
  'aws-cloudformation-templates/Config/Config.yaml',
  'aws-cloudformation-templates/Config/Config.json',
  'aws-cloudformation-templates/NeptuneDB/Neptune.yaml',
  'aws-cloudformation-templates/NeptuneDB/Neptune.json',
  `${ADF}/global.yml`,
  `${ADF}/example-global-iam.yml`,
  'aws-deployment-framework/samples/sample-iam/template.yml'
]

export function template(path: string): IacSourceFile {
  return { path, text: readFileSync(join(ROOT, path), 'utf8') }
}

export const ADF_GLOBAL = `${ADF}/global.yml`
export const ADF_EXAMPLE = `${ADF}/example-global-iam.yml`

const schema = jsYaml.DEFAULT_SCHEMA.extend(
  SHORT_FORM_TAGS.flatMap(name =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      kind =>
        new jsYaml.Type(`!${name}`, {
          kind,
          construct: (data: unknown) => ({
            [name === 'Ref' || name === 'Condition' ? name : `Fn::${name}`]: data
          })
        })
    )
  )
)

/** The template as js-yaml reads it, intrinsics in long form (JSON templates parse the same way). */
export function decodeIndependently(text: string): unknown {
  return jsYaml.load(text, { schema })
}

const PSEUDO = /\$\{AWS::(AccountId|Partition|Region|URLSuffix|StackName|StackId)\}/g

/** A long-form value read the way the tool documents it: `Fn::Sub` of pseudo parameters only is a `*` pattern. */
export function asPattern(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(asPattern)
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
    const [only] = entries
    if (entries.length === 1 && only?.[0] === 'Fn::Sub' && typeof only[1] === 'string')
      return only[1].replace(PSEUDO, '*')
    return Object.fromEntries(entries.map(([k, v]) => [k, asPattern(v)]))
  }
  return value
}
