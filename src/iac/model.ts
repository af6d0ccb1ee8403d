/**
 * What infrastructure code (Terraform, CloudFormation) says about IAM roles, read without running anything: the
 * roles it defines, the policy documents it grants them, where each one is written, and whether it can be rewritten
 * in place. The Terraform and CloudFormation readers produce this; linking, the gate and pull-request mode use it.
 */
import type { PolicyDocumentJson } from '../model.js'

export type IacKind = 'terraform' | 'cloudformation'

/** Where something is written: a repository-relative path and 1-based inclusive lines. */
export interface IacLocation {
  kind: IacKind
  file: string
  startLine: number
  endLine: number
  /** `aws_iam_role_policy.deploy`, `data.aws_iam_policy_document.read`, or a CloudFormation logical id (`AppRole`). */
  address: string
}

/** A policy document written in infrastructure code and attached to one or more roles. */
export interface IacPolicy {
  location: IacLocation
  /** `inline` (a role's inline policy) or `managed` (a customer-managed policy attached by an attachment). */
  attachment: 'inline' | 'managed'
  /** The policy's name when written literally (inline policy name, managed policy name). */
  name?: string
  /**
   * The document as far as it can be known statically. Parts that cannot be evaluated (variables, `!Sub` with
   * parameters, `for` expressions) are replaced conservatively: an unknown action or resource becomes `*` in an
   * Allow, and the whole statement is dropped from a Deny (so the document never grants less than the code may).
   */
  document: PolicyDocumentJson
  /** Set when the document cannot be rewritten in place at all: the expression that blocked it, as written. */
  notRewritable?: string
  /**
   * Statements a rewrite keeps exactly as written, each with the expression that keeps it from being edited; the
   * policy's other statements are still rewritten. `statement` is its 0-based place among the written statements,
   * `index` its place in `document.Statement` (absent for a Deny the conservative reading drops).
   */
  keptStatements?: KeptStatement[]
  /**
   * What else the code grants this policy to besides the roles read here (users, groups, a role that cannot be
   * linked, an output or module that hands it on), as written: narrowing it for one role would narrow it for them.
   */
  alsoGrantedTo?: string[]
}

/** A statement that holds an expression which cannot be read statically: never rewritten. */
export interface KeptStatement {
  statement: number
  index?: number
  expression: string
}

/** A role defined in infrastructure code. */
export interface IacRole {
  location: IacLocation
  /** The literal role name (`name` / `RoleName`), when written. */
  name?: string
  /** Terraform `name_prefix`. */
  namePrefix?: string
  /** CloudFormation: the logical id (the generated name is `Stack-LogicalId-SUFFIX`). */
  logicalId?: string
  /** Inline and customer-managed policies written in the code (their documents). */
  policies: IacPolicy[]
  /** Managed policy ARNs attached by literal ARN (AWS-managed or not defined in the code). */
  managedPolicyArns: string[]
  /** Expressions that kept part of the role's grants from being read (reported, never guessed). */
  unresolved: string[]
  /**
   * Who may assume the role (its trust policy) as written, comments and layout left out: compared with the base
   * commit's, never evaluated. Absent when the code writes none.
   */
  trust?: string
}

/**
 * What a set of files says (Terraform reads a module directory as one: a role and its policies may be in different
 * files). `problems` names each file or expression that could not be read, with what to do.
 */
export interface IacReading {
  roles: IacRole[]
  problems: string[]
  /** Files that could not be read at all (syntax errors, too large): what they grant is unknown. */
  unreadFiles: string[]
  /**
   * Blocks whose grants cannot be read statically at all (a registry module, a policy attached to a role named by
   * an expression, an attachment of an ARN expression): a pull request that adds or changes one cannot pass.
   */
  unreadBlocks?: UnreadBlock[]
}

/** A block of code whose effect on IAM is unknown, as written (compared between a pull request's base and head). */
export interface UnreadBlock {
  file: string
  address: string
  text: string
  why: string
}

/** A file of infrastructure code as read from the workspace or a commit. */
export interface IacSourceFile {
  path: string
  text: string
}

/** A rewrite of one policy: the new file text, with every byte outside the edited values unchanged. */
export interface IacEdit {
  file: string
  before: string
  after: string
}

/**
 * One infrastructure-code language. The Terraform and CloudFormation readers implement it; src/iac/readers.ts lists
 * them. Parsing only: nothing in a file is ever executed or evaluated beyond literals.
 */
export interface IacReader {
  kind: IacKind
  /** Whether a repository path is a file of this language (`.tf`; `.yaml`/`.yml`/`.json`/`.template` with IAM resources). */
  accepts(path: string, text: string): boolean
  /** Reads every role and policy of the files (a Terraform module directory is read as one). */
  read(files: readonly IacSourceFile[]): Promise<IacReading>
  /**
   * The file's text with the policy's document replaced by `document`, in the file's own style, every byte outside
   * the edited values unchanged. Throws with the blocking expression when the policy is `notRewritable`.
   */
  rewrite(file: IacSourceFile, policy: IacPolicy, document: PolicyDocumentJson): Promise<string>
  /**
   * Detach-and-replace: the AWS-managed `arn` detached from the role and an inline policy `name` granting `document`
   * added next to it. `files` are the current texts of the code; the result holds the files changed. Throws with
   * the reason (the expression, count, for_each...) when the attachment cannot be edited statically.
   */
  detach(
    files: readonly IacSourceFile[],
    role: IacRole,
    replacement: IacReplacement
  ): Promise<Map<string, string>>
}

/** IAM's characters for a policy name: what a new inline policy's name is written with, unquoted. */
export const POLICY_NAME = /^[\w+=,.@-]{1,128}$/

/** An AWS-managed policy to detach and the inline policy that replaces it. */
export interface IacReplacement {
  arn: string
  name: string
  document: PolicyDocumentJson
}
