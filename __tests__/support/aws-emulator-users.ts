/**
 * IAM users for the AWS emulator (awsQuery, XML results as IAM sends them): GetUser, ListUsers (Marker pages),
 * ListUserPolicies, GetUserPolicy (URL-encoded document), ListAttachedUserPolicies. Errors are NoSuchEntity (404).
 */
import { randomUUID } from 'node:crypto'

interface Helpers {
  accountId: string
  page: <T>(items: T[], params: Record<string, string>) => { items: T[]; tail: string }
  raise: (status: number, code: string, message: string) => Error
  el: (tag: string, content: string | number | boolean | undefined) => string
  encode: (document: string) => string
}

interface UserRecord {
  name: string
  path: string
  arn: string
  userId: string
  inline: Map<string, string>
  attached: string[]
  boundary?: string
}

export class IamUsersEmulation {
  private readonly users = new Map<string, UserRecord>()

  constructor(private readonly h: Helpers) {}

  addUser(user: {
    name: string
    path?: string
    inline?: Record<string, string | object>
    attached?: string[]
    boundary?: string
  }): string {
    const path = user.path ?? '/'
    const arn = `arn:aws:iam::${this.h.accountId}:user${path}${user.name}`
    const inline = new Map<string, string>()
    for (const [name, doc] of Object.entries(user.inline ?? {}))
      inline.set(name, typeof doc === 'string' ? doc : JSON.stringify(doc, null, 2))
    this.users.set(user.name, {
      name: user.name,
      path,
      arn,
      userId: `AIDA${randomUUID().replace(/-/g, '').slice(0, 17).toUpperCase()}`,
      inline,
      attached: user.attached ?? [],
      ...(user.boundary ? { boundary: user.boundary } : {})
    })
    return arn
  }

  /** How many users have a managed policy attached (GetPolicy's AttachmentCount). */
  attachments(policyArn: string): number {
    return [...this.users.values()].filter(u => u.attached.includes(policyArn)).length
  }

  /** The result XML of a user operation; undefined when `operation` is not one. */
  handle(operation: string, p: Record<string, string>): string | undefined {
    const { el, page } = this.h
    switch (operation) {
      case 'GetUser':
        return `<User>${this.xml(this.user(p.UserName), true)}</User>`
      case 'ListUsers': {
        const prefix = p.PathPrefix ?? '/'
        const { items, tail } = page(
          [...this.users.values()].filter(u => u.path.startsWith(prefix)),
          p
        )
        return `<Users>${items.map(u => `<member>${this.xml(u, false)}</member>`).join('')}</Users>${tail}`
      }
      case 'ListUserPolicies': {
        const { items, tail } = page([...this.user(p.UserName).inline.keys()], p)
        return `${items.length ? `<PolicyNames>${items.map(n => el('member', n)).join('')}</PolicyNames>` : '<PolicyNames/>'}${tail}`
      }
      case 'GetUserPolicy': {
        const user = this.user(p.UserName)
        const doc = user.inline.get(p.PolicyName ?? '')
        if (doc === undefined)
          throw this.h.raise(
            404,
            'NoSuchEntity',
            `The user policy with name ${p.PolicyName ?? ''} cannot be found.`
          )
        return (
          el('UserName', user.name) +
          el('PolicyName', p.PolicyName) +
          el('PolicyDocument', this.h.encode(doc))
        )
      }
      case 'ListAttachedUserPolicies': {
        const { items, tail } = page(this.user(p.UserName).attached, p)
        const members = items.map(
          arn => `<member>${el('PolicyName', arn.split('/').at(-1))}${el('PolicyArn', arn)}</member>`
        )
        return `<AttachedPolicies>${members.join('')}</AttachedPolicies>${tail}`
      }
      default:
        return undefined
    }
  }

  private user(name: string | undefined): UserRecord {
    const user = name ? this.users.get(name) : undefined
    if (!user) throw this.h.raise(404, 'NoSuchEntity', `The user with name ${name ?? ''} cannot be found.`)
    return user
  }

  private xml(user: UserRecord, full: boolean): string {
    const { el } = this.h
    return (
      el('Path', user.path) +
      el('UserName', user.name) +
      el('UserId', user.userId) +
      el('Arn', user.arn) +
      el('CreateDate', '2023-01-01T00:00:00Z') +
      (full && user.boundary
        ? `<PermissionsBoundary>${el('PermissionsBoundaryType', 'PermissionsBoundaryPolicy')}${el('PermissionsBoundaryArn', user.boundary)}</PermissionsBoundary>`
        : '')
    )
  }
}
