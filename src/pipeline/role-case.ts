import type { GrantedPolicy, RoleGrants, RoleUsage } from '../model.js'

/** The base commit's infrastructure-code policies of a role; `undefined` when the base does not define the role. */
export interface IacBase {
  policies: GrantedPolicy[] | undefined
}

/** Why a role goes no further than its report entry. */
interface CaseOutcome {
  status: 'failed' | 'skipped' | 'insufficient-evidence'
  reason: string
  /** Kept back by a quota only: a later run judges it (not a failure). */
  waiting?: true
  lastJudged?: string
}

/** A role on its way through the pipeline: it ends as exactly one RoleResult. */
export interface RoleCase {
  arn: string
  name: string
  accountId: string
  grants?: RoleGrants
  /** The grants came from the role's policy file in the repository (policy-path). */
  fromRepositoryFile?: boolean
  /** The grants came from infrastructure code in the repository (iac-path): a pull request's author wrote them. */
  fromInfrastructureCode?: boolean
  /** On a pull request with infrastructure code: what the base commit's code grants the role. */
  iacBase?: IacBase
  /** Known before any grants are read (service-linked and IAM Identity Center roles). */
  notEditableReason?: string
  /** Set once the role cannot go further. */
  outcome?: CaseOutcome
  usage?: RoleUsage
  /** A policy file under policy-path for a role that does not exist or is not listed: judged by risk only. */
  unverifiedReason?: string
  /** Which sources judged the role, when access advisor served as a prefilter. */
  judgedBy?: string
}

/** Whether usage is still to be read for the role: it has neither an outcome nor is judged by risk alone. */
export function awaitsUsage(c: RoleCase): boolean {
  return !c.outcome && !c.unverifiedReason
}
