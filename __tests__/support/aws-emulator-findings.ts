/**
 * Access Analyzer unused-access analysis for the AWS emulator (restJson1, shapes of the SDK's model):
 * ListAnalyzers `GET /analyzer?type=`, ListFindingsV2 `POST /findingv2` (filter on `resource`, `status`, ...),
 * GetFindingV2 `GET /findingv2/{id}?analyzerArn=` (findingDetails paged with nextToken),
 * GenerateFindingRecommendation `POST /recommendation/{id}?analyzerArn=` (no body, empty 200),
 * GetFindingRecommendation `GET /recommendation/{id}?analyzerArn=` (IN_PROGRESS for a few polls, then SUCCEEDED
 * or FAILED; recommendedSteps paged). Timestamps are RFC 3339 strings, as Access Analyzer sends them.
 */
import { randomUUID } from 'node:crypto'

type Raise = (status: number, code: string, message: string, members?: Record<string, unknown>) => Error
type Page = <T>(
  items: T[],
  token: string | undefined,
  limit: number | undefined
) => { items: T[]; next?: string }

export interface EmulatedAnalyzer {
  name: string
  type?: 'ACCOUNT_UNUSED_ACCESS' | 'ORGANIZATION_UNUSED_ACCESS' | 'ACCOUNT' | 'ORGANIZATION'
  status?: 'ACTIVE' | 'CREATING' | 'DISABLED' | 'FAILED'
  /** Days; omitted from the configuration when undefined. */
  unusedAccessAge?: number
}

/** One unusedPermissionDetails entry: a service, its unused actions (action-level tracking) and last access. */
export interface EmulatedServiceDetail {
  serviceNamespace: string
  lastAccessed?: string
  actions?: { action: string; lastAccessed?: string }[]
}

export interface EmulatedFinding {
  analyzerArn: string
  resource: string
  resourceType?: 'AWS::IAM::Role' | 'AWS::IAM::User'
  findingType: 'UnusedPermission' | 'UnusedIAMRole' | 'UnusedIAMUserAccessKey' | 'UnusedIAMUserPassword'
  status?: 'ACTIVE' | 'ARCHIVED' | 'RESOLVED'
  analyzedAt?: string
  /** UnusedPermission: one finding detail per service. */
  services?: EmulatedServiceDetail[]
  /** UnusedIAMRole: when the role was last used. */
  roleLastAccessed?: string
  error?: string
}

/** How GetFindingRecommendation answers for a finding. */
export interface EmulatedRecommendation {
  /** GetFindingRecommendation calls answered IN_PROGRESS before the end (default 1). */
  pollsInProgress?: number
  steps?: {
    recommendedAction: 'CREATE_POLICY' | 'DETACH_POLICY'
    existingPolicyId?: string
    recommendedPolicy?: object
  }[]
  failWith?: { code: string; message: string }
}

interface FindingRecord extends EmulatedFinding {
  id: string
  createdAt: string
}

interface RecommendationRecord {
  startedAt: string
  polls: number
}

export class UnusedAccessEmulation {
  private readonly analyzers = new Map<
    string,
    Required<Omit<EmulatedAnalyzer, 'unusedAccessAge'>> & EmulatedAnalyzer
  >()
  private readonly findings = new Map<string, FindingRecord>()
  private readonly scripts = new Map<string, EmulatedRecommendation>()
  private readonly generated = new Map<string, RecommendationRecord>()

  constructor(
    private readonly accountId: string,
    private readonly now: () => number,
    private readonly raise: Raise,
    private readonly page: Page
  ) {}

  analyzerArn(name: string): string {
    return `arn:aws:access-analyzer:us-east-1:${this.accountId}:analyzer/${name}`
  }

  addAnalyzer(analyzer: EmulatedAnalyzer): string {
    const arn = this.analyzerArn(analyzer.name)
    this.analyzers.set(arn, { type: 'ACCOUNT_UNUSED_ACCESS', status: 'ACTIVE', ...analyzer })
    return arn
  }

  addFinding(finding: EmulatedFinding): string {
    const id = randomUUID()
    this.findings.set(id, { ...finding, id, createdAt: new Date(this.now() - 86_400_000).toISOString() })
    return id
  }

  setRecommendation(findingId: string, script: EmulatedRecommendation): void {
    this.scripts.set(findingId, script)
  }

  /** The operation a request is, from its method and path; undefined when it is not one of these. */
  static operationOf(method: string, path: string): { operation: string; id?: string } | undefined {
    if (path === '/analyzer' && method === 'GET') return { operation: 'ListAnalyzers' }
    if (path === '/findingv2' && method === 'POST') return { operation: 'ListFindingsV2' }
    const finding = /^\/findingv2\/([^/]+)$/.exec(path)?.[1]
    if (finding && method === 'GET') return { operation: 'GetFindingV2', id: decodeURIComponent(finding) }
    const recommendation = /^\/recommendation\/([^/]+)$/.exec(path)?.[1]
    if (recommendation && method === 'POST')
      return { operation: 'GenerateFindingRecommendation', id: decodeURIComponent(recommendation) }
    if (recommendation && method === 'GET')
      return { operation: 'GetFindingRecommendation', id: decodeURIComponent(recommendation) }
    return undefined
  }

  handle(operation: string, id: string | undefined, params: Record<string, unknown>): unknown {
    switch (operation) {
      case 'ListAnalyzers':
        return this.listAnalyzers(params)
      case 'ListFindingsV2':
        return this.listFindings(params)
      case 'GetFindingV2':
        return this.getFinding(id ?? '', params)
      case 'GenerateFindingRecommendation':
        return this.generateRecommendation(id ?? '', params)
      default:
        return this.getRecommendation(id ?? '', params)
    }
  }

  private limit(params: Record<string, unknown>): number | undefined {
    return params.maxResults === undefined ? undefined : Number(params.maxResults)
  }

  private token(params: Record<string, unknown>): string | undefined {
    return typeof params.nextToken === 'string' ? params.nextToken : undefined
  }

  private listAnalyzers(params: Record<string, unknown>): unknown {
    const all = [...this.analyzers.entries()].filter(([, a]) => !params.type || a.type === params.type)
    const { items, next } = this.page(all, this.token(params), this.limit(params))
    return {
      analyzers: items.map(([arn, a]) => ({
        arn,
        name: a.name,
        type: a.type,
        createdAt: '2025-01-01T00:00:00Z',
        status: a.status,
        ...(a.type.endsWith('UNUSED_ACCESS')
          ? {
              configuration: {
                unusedAccess: a.unusedAccessAge === undefined ? {} : { unusedAccessAge: a.unusedAccessAge }
              }
            }
          : {})
      })),
      ...(next ? { nextToken: next } : {})
    }
  }

  private analyzer(params: Record<string, unknown>): string {
    const arn = typeof params.analyzerArn === 'string' ? params.analyzerArn : ''
    if (!this.analyzers.has(arn))
      throw this.raise(404, 'ResourceNotFoundException', `Analyzer ${arn} not found`, {
        resourceId: arn,
        resourceType: 'AWS::AccessAnalyzer::Analyzer'
      })
    return arn
  }

  private record(id: string, analyzerArn: string): FindingRecord {
    const finding = this.findings.get(id)
    if (!finding || finding.analyzerArn !== analyzerArn)
      throw this.raise(404, 'ResourceNotFoundException', `Finding ${id} not found`, {
        resourceId: id,
        resourceType: 'AWS::AccessAnalyzer::Finding'
      })
    return finding
  }

  private listFindings(params: Record<string, unknown>): unknown {
    const analyzerArn = this.analyzer(params)
    const filter = (params.filter ?? {}) as Record<string, { eq?: string[]; neq?: string[] }>
    const value = (f: FindingRecord, key: string): string | undefined =>
      key === 'resource'
        ? f.resource
        : key === 'status'
          ? (f.status ?? 'ACTIVE')
          : key === 'findingType'
            ? f.findingType
            : key === 'resourceType'
              ? (f.resourceType ?? 'AWS::IAM::Role')
              : undefined
    const matches = (f: FindingRecord) =>
      Object.entries(filter).every(([key, c]) => {
        const v = value(f, key)
        if (v === undefined) throw this.raise(400, 'ValidationException', `Invalid filter key ${key}`)
        return (!c.eq || c.eq.includes(v)) && (!c.neq || !c.neq.includes(v))
      })
    const all = [...this.findings.values()].filter(f => f.analyzerArn === analyzerArn && matches(f))
    const { items, next } = this.page(all, this.token(params), this.limit(params))
    return { findings: items.map(f => this.summary(f)), ...(next ? { nextToken: next } : {}) }
  }

  private summary(f: FindingRecord): Record<string, unknown> {
    return {
      analyzedAt: f.analyzedAt ?? new Date(this.now()).toISOString(),
      createdAt: f.createdAt,
      id: f.id,
      resource: f.resource,
      resourceType: f.resourceType ?? 'AWS::IAM::Role',
      resourceOwnerAccount: this.accountId,
      status: f.status ?? 'ACTIVE',
      updatedAt: f.analyzedAt ?? new Date(this.now()).toISOString(),
      findingType: f.findingType,
      ...(f.error ? { error: f.error } : {})
    }
  }

  private getFinding(id: string, params: Record<string, unknown>): unknown {
    const f = this.record(id, this.analyzer(params))
    const details: unknown[] =
      f.findingType === 'UnusedPermission'
        ? (f.services ?? []).map(s => ({ unusedPermissionDetails: s }))
        : f.findingType === 'UnusedIAMRole'
          ? [{ unusedIamRoleDetails: f.roleLastAccessed ? { lastAccessed: f.roleLastAccessed } : {} }]
          : []
    const { items, next } = this.page(details, this.token(params), this.limit(params))
    return { ...this.summary(f), findingDetails: items, ...(next ? { nextToken: next } : {}) }
  }

  private generateRecommendation(id: string, params: Record<string, unknown>): unknown {
    const f = this.record(id, this.analyzer(params))
    if (f.findingType !== 'UnusedPermission')
      throw this.raise(
        400,
        'ValidationException',
        'Recommendations are only for unused permission findings',
        {
          reason: 'other'
        }
      )
    this.generated.set(id, { startedAt: new Date(this.now()).toISOString(), polls: 0 })
    return {}
  }

  private getRecommendation(id: string, params: Record<string, unknown>): unknown {
    const f = this.record(id, this.analyzer(params))
    const run = this.generated.get(id)
    if (!run)
      throw this.raise(404, 'ResourceNotFoundException', `No recommendation generated for finding ${id}`, {
        resourceId: id,
        resourceType: 'AWS::AccessAnalyzer::Finding'
      })
    const script = this.scripts.get(id) ?? {}
    run.polls++
    const base = {
      startedAt: run.startedAt,
      resourceArn: f.resource,
      recommendationType: 'UnusedPermissionRecommendation'
    }
    if (run.polls <= (script.pollsInProgress ?? 1)) return { ...base, status: 'IN_PROGRESS' }
    const completedAt = new Date(this.now()).toISOString()
    if (script.failWith) return { ...base, completedAt, status: 'FAILED', error: script.failWith }
    const steps = (script.steps ?? []).map(s => ({
      unusedPermissionsRecommendedStep: {
        recommendedAction: s.recommendedAction,
        ...(s.existingPolicyId ? { existingPolicyId: s.existingPolicyId } : {}),
        ...(s.recommendedPolicy ? { recommendedPolicy: JSON.stringify(s.recommendedPolicy) } : {}),
        policyUpdatedAt: '2025-06-01T00:00:00Z'
      }
    }))
    const { items, next } = this.page(steps, this.token(params), this.limit(params))
    return {
      ...base,
      completedAt,
      status: 'SUCCEEDED',
      recommendedSteps: items,
      ...(next ? { nextToken: next } : {})
    }
  }
}
