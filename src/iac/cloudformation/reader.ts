/** CloudFormation templates (YAML or JSON) as an infrastructure-code reader. */
import type { IacReader } from '../model.js'
import { readTemplates } from './read.js'
import { detachCloudFormation } from './detach.js'
import { rewriteTemplate } from './rewrite.js'
import { parseTemplate } from './template.js'

const TEMPLATE_EXTENSION = /\.(ya?ml|json|template)$/i
/**
 * A template defines its resources with these types (nested stacks and SAM resources that create roles included);
 * other YAML/JSON files are not templates of interest.
 */
const IAM_RESOURCE =
  /AWS::(IAM::(Role|Policy|ManagedPolicy|RolePolicy)|Serverless::(Function|StateMachine|Application)|CloudFormation::Stack)\b/

/** A template CloudFormation rewrites (a macro, an included snippet, a loop) may create roles it does not spell. */
const REWRITES = /\bTransform\b|Fn::ForEach/

/** A type written with escapes (`"AWS::IAM::Rol\\u0065"`) is still the type: such a template is parsed to tell. */
function declaresIamResource(path: string, text: string): boolean {
  try {
    return parseTemplate(path, text).resources.some(r => IAM_RESOURCE.test(r.type))
  } catch {
    return false
  }
}

export const cloudFormationReader: IacReader = {
  kind: 'cloudformation',
  accepts: (path, text) =>
    TEMPLATE_EXTENSION.test(path) &&
    ((/\bResources\b/.test(text) && (IAM_RESOURCE.test(text) || REWRITES.test(text))) ||
      (text.includes('\\') && declaresIamResource(path, text))),
  read: files => new Promise(resolve => resolve(readTemplates(files))),
  // A refusal is a rejection, like any other reader's.
  rewrite: (file, policy, document) =>
    new Promise(resolve => resolve(rewriteTemplate(file, policy, document))),
  detach: (files, role, replacement) =>
    new Promise(resolve => {
      const file = files.find(f => f.path === role.location.file)
      if (!file) throw new Error(`${role.location.file}: not among the files read`)
      resolve(new Map([[file.path, detachCloudFormation(file, role, replacement)]]))
    })
}
