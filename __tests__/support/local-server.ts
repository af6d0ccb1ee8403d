/** The HTTP servers of the emulators: on a free port of 127.0.0.1, closed at once with their keep-alive connections. */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void

function failAsText(res: ServerResponse, error: unknown): void {
  res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error))
}

/** Serves `handle`; a request whose handler throws gets `fail` (by default a 500 with the error's text). */
export async function startLocalServer(
  handle: Handler,
  fail: (res: ServerResponse, error: unknown) => void = failAsText
): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    Promise.resolve()
      .then(() => handle(req, res))
      .catch((error: unknown) => fail(res, error))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

export async function stopLocalServer(server: Server | undefined): Promise<void> {
  if (!server) return
  server.closeAllConnections()
  await new Promise<void>((resolve, reject) => server.close(e => (e ? reject(e) : resolve())))
}

/** The whole request body, as UTF-8. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
