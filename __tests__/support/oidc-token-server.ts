/**
 * The GitHub Actions OIDC token endpoint: `GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=<aud>` with
 * `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` answers `{"value":"<JWT>"}`.
 * The JWT is shaped like GitHub's (header.payload.signature, base64url) but not really signed.
 */
import { LocalServer } from './local-server.js'

export const GITHUB_OIDC_ISSUER = 'https://token.actions.githubusercontent.com'

export interface OidcClaims {
  iss: string
  aud: string
  sub: string
  exp: number
  iat: number
  [claim: string]: unknown
}

function base64url(value: string): string {
  return Buffer.from(value).toString('base64url')
}

export function encodeJwt(claims: OidcClaims): string {
  return [
    base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: 'emulator' })),
    base64url(JSON.stringify(claims)),
    base64url('not-a-real-signature')
  ].join('.')
}

/** The payload of a JWT-shaped string, or undefined when it is not one. */
export function decodeJwt(token: string): OidcClaims | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    return JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8')) as OidcClaims
  } catch {
    return undefined
  }
}

export interface OidcTokenServerOptions {
  /** The bearer token the runner would hold; default a fixed test value. */
  requestToken?: string
  /** Claims added to (or overriding) the defaults; `sub` defaults to repo:octo-org/octo-repo:ref:refs/heads/main. */
  claims?: Partial<OidcClaims>
  /** Seconds until `exp`; negative issues an already expired token. Default 300. */
  lifetimeSeconds?: number
  /** Epoch milliseconds; default Date.now. */
  now?: () => number
}

export class OidcTokenServer {
  readonly requestToken: string
  /** The audience of every token request, in order (undefined when none was asked). */
  readonly audiences: (string | undefined)[] = []
  /** Every token issued. */
  readonly issued: string[] = []
  private readonly http = new LocalServer()
  private url = ''

  constructor(private readonly options: OidcTokenServerOptions = {}) {
    this.requestToken = options.requestToken ?? 'runner-request-token'
  }

  async start(): Promise<{ url: string; env: Record<string, string> }> {
    const base = await this.http.start((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      if (req.method !== 'GET' || url.pathname !== '/token') {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}')
        return
      }
      if (req.headers.authorization !== `Bearer ${this.requestToken}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Bad credentials"}')
        return
      }
      const audience = url.searchParams.get('audience') ?? undefined
      this.audiences.push(audience)
      const nowSeconds = Math.floor((this.options.now ?? Date.now)() / 1000)
      const token = encodeJwt({
        iss: GITHUB_OIDC_ISSUER,
        aud: audience ?? 'https://github.com/octo-org',
        sub: 'repo:octo-org/octo-repo:ref:refs/heads/main',
        repository: 'octo-org/octo-repo',
        ref: 'refs/heads/main',
        iat: nowSeconds,
        nbf: nowSeconds,
        exp: nowSeconds + (this.options.lifetimeSeconds ?? 300),
        ...this.options.claims
      })
      this.issued.push(token)
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ count: 1, value: token }))
    })
    // The runner's URL already has a query, so @actions/core appends `&audience=`.
    this.url = `${base}/token?api-version=2.0`
    return { url: this.url, env: this.env() }
  }

  /** ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN for a child process or process.env. */
  env(): Record<string, string> {
    return { ACTIONS_ID_TOKEN_REQUEST_URL: this.url, ACTIONS_ID_TOKEN_REQUEST_TOKEN: this.requestToken }
  }

  async stop(): Promise<void> {
    await this.http.stop()
  }
}
