/** The HTTP server of an emulator: on a free port of 127.0.0.1, closed at once with its keep-alive connections. */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void

function failAsText(res: ServerResponse, error: unknown): void {
  res.writeHead(500, { 'content-type': 'text/plain' }).end(String(error))
}

export class LocalServer {
  private server: Server | undefined

  /** Serves `handle` and returns the base URL; a request whose handler throws gets `fail` (a 500 with the error's text). */
  async start(
    handle: Handler,
    fail: (res: ServerResponse, error: unknown) => void = failAsText
  ): Promise<string> {
    const server = createServer((req, res) => {
      Promise.resolve()
        .then(() => handle(req, res))
        .catch((error: unknown) => fail(res, error))
    })
    this.server = server
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  }

  /** Stops serving; nothing to do when it is not serving. */
  async stop(): Promise<void> {
    const server = this.server
    this.server = undefined
    if (!server) return
    server.closeAllConnections()
    await new Promise<void>((resolve, reject) => server.close(e => (e ? reject(e) : resolve())))
  }
}

/** The whole request body, as UTF-8. */
export async function readText(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
