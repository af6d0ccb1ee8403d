import type { RoleGrants, RoleUsage } from '../model.js'

/** Why a role goes no further than its report entry. */
interface CaseOutcome {
  status: 'failed' | 'skipped' | 'insufficient-evidence'
  reason: string
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
  /** Known before any grants are read (service-linked and IAM Identity Center roles). */
  notEditableReason?: string
  /** Set once the role cannot go further. */
  outcome?: CaseOutcome
  usage?: RoleUsage
  /** A policy file under policy-path for a role that does not exist or is not listed: judged by risk only. */
  unverifiedReason?: string
}

/** Whether usage is still to be read for the role: it has neither an outcome nor is judged by risk alone. */
export function awaitsUsage(c: RoleCase): boolean {
  return !c.outcome && !c.unverifiedReason
}
