import { afterAll, beforeAll, describe, expect, it } from '@jest/globals'
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam'
import { AccessAnalyzerClient, ListPolicyGenerationsCommand } from '@aws-sdk/client-accessanalyzer'
import { AwsEmulator } from '../support/aws-emulator.js'
import { STRATUS_ROLES } from '../support/aws-emulator-seed.js'

/** The wire details the adapters depend on, checked with raw HTTP where the SDK would hide them. */
const emulator = new AwsEmulator({ pageSize: 4 })
let url: string
const saved = { ...process.env }

beforeAll(async () => {
  url = (await emulator.start()).url
})
afterAll(async () => {
  process.env = saved
  await emulator.stop()
})

const form = (body: Record<string, string>): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams(body).toString()
})
const signed = (service: string): Record<string, string> => ({
  authorization: `AWS4-HMAC-SHA256 Credential=AKIAEMULATOREXAMPLE/20260101/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`
})

describe('AwsEmulator wire formats', () => {
  it('requires SigV4 except on AssumeRoleWithWebIdentity, with awsQuery error envelopes', async () => {
    const res = await fetch(url, form({ Action: 'ListRoles', Version: '2010-05-08' }))
    expect(res.status).toBe(403)
    expect(await res.text()).toMatch(
      /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/"><Error><Type>Sender<\/Type><Code>MissingAuthenticationToken<\/Code>/
    )
    const sts = await fetch(
      url,
      form({
        Action: 'AssumeRoleWithWebIdentity',
        Version: '2011-06-15',
        RoleArn: 'x',
        RoleSessionName: 's',
        WebIdentityToken: 'not-a-jwt'
      })
    )
    expect(sts.status).toBe(400)
    expect(await sts.text()).toContain('<Code>InvalidIdentityToken</Code>')
  })

  it('URL-encodes documents and omits Marker on the last page', async () => {
    const init = form({
      Action: 'GetRolePolicy',
      Version: '2010-05-08',
      RoleName: STRATUS_ROLES.leaveOrg,
      PolicyName: 'ec2-describe'
    })
    const xml = await (
      await fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string>), ...signed('iam') }
      })
    ).text()
    expect(xml).toContain('<PolicyDocument>%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22')
    const pages: string[] = []
    let marker: string | undefined
    do {
      const body: Record<string, string> = {
        Action: 'ListRoles',
        Version: '2010-05-08',
        ...(marker ? { Marker: marker } : {})
      }
      const page = await (
        await fetch(url, {
          ...form(body),
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...signed('iam') }
        })
      ).text()
      pages.push(page)
      marker = /<Marker>([^<]+)<\/Marker>/.exec(page)?.[1]
    } while (marker)
    expect(pages.length).toBeGreaterThan(1)
    expect(pages.at(-1)).toContain('<IsTruncated>false</IsTruncated>')
    expect(pages.slice(0, -1).every(p => p.includes('<IsTruncated>true</IsTruncated>'))).toBe(true)
  })

  it('answers restJson1 with x-amzn-errortype and RFC 3339 string timestamps', async () => {
    const res = await fetch(`${url}/policy/generation/nope`, { headers: signed('access-analyzer') })
    expect(res.status).toBe(400)
    expect(res.headers.get('x-amzn-errortype')).toMatch(/^ValidationException:/)
    emulator.addForeignJob({ principalArn: emulator.roleArn('x'), status: 'SUCCEEDED' })
    const list = (await (
      await fetch(`${url}/policy/generation`, { headers: signed('access-analyzer') })
    ).json()) as {
      policyGenerations: { startedOn: unknown }[]
    }
    expect(typeof list.policyGenerations[0]?.startedOn).toBe('string')
  })

  it('is reachable through AWS_ENDPOINT_URL_* and env(), as a child process would use it', async () => {
    Object.assign(process.env, emulator.env())
    const iam = new IAMClient({})
    const analyzer = new AccessAnalyzerClient({})
    const roles = await iam.send(new ListRolesCommand({}))
    const generations = await analyzer.send(new ListPolicyGenerationsCommand({}))
    expect(roles.Roles?.length).toBe(4)
    expect(roles.Marker).toBeDefined()
    expect(generations.policyGenerations?.[0]?.startedOn).toBeInstanceOf(Date)
    iam.destroy()
    analyzer.destroy()
  })
})
