import type { IncomingMessage, ServerResponse } from 'node:http'
import { LocalServer } from './local-server.js'

/**
 * A small S3 that speaks the REST-XML wire format the real @aws-sdk/client-s3 expects, path-style only:
 * ListObjectsV2 (prefix, delimiter, max-keys, continuation tokens, encoding-type=url) and GetObject.
 * Pages hold at most `pageSize` entries so every multi-object listing exercises continuation tokens.
 */
export interface S3EmulatorOptions {
  pageSize?: number
}

export interface RecordedRequest {
  method: string
  bucket: string
  key: string
  query: Record<string, string>
}

export class S3Emulator {
  readonly buckets = new Map<string, Map<string, Buffer>>()
  readonly requests: RecordedRequest[] = []
  private readonly http = new LocalServer()
  private readonly pageSize: number

  constructor(options: S3EmulatorOptions = {}) {
    this.pageSize = options.pageSize ?? 1000
  }

  put(bucket: string, key: string, body: Buffer | string): void {
    let objects = this.buckets.get(bucket)
    if (!objects) {
      objects = new Map()
      this.buckets.set(bucket, objects)
    }
    objects.set(key, Buffer.isBuffer(body) ? body : Buffer.from(body))
  }

  start(): Promise<string> {
    return this.http.start((req, res) => this.handle(req, res))
  }

  stop(): Promise<void> {
    return this.http.stop()
  }

  /** ListObjectsV2 requests, as prefixes asked for. */
  listedPrefixes(): string[] {
    return this.requests.filter(r => r.query['list-type'] === '2').map(r => r.query.prefix ?? '')
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const [, bucket = '', ...rest] = url.pathname.split('/')
    const key = decodeURIComponent(rest.join('/'))
    const query = Object.fromEntries(url.searchParams.entries())
    this.requests.push({ method: req.method ?? '', bucket, key, query })
    req.resume()
    const objects = this.buckets.get(decodeURIComponent(bucket))
    if (!objects) return this.error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist')
    if (req.method === 'GET' && key === '' && query['list-type'] === '2')
      return this.list(res, bucket, objects, query)
    if (req.method === 'GET' && key !== '') {
      const body = objects.get(key)
      if (!body) return this.error(res, 404, 'NoSuchKey', 'The specified key does not exist.')
      res.writeHead(200, {
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        etag: '"0123456789abcdef0123456789abcdef"',
        'last-modified': 'Mon, 10 Jul 2023 12:00:00 GMT',
        'x-amz-request-id': 'EMULATOR'
      })
      res.end(body)
      return
    }
    this.error(res, 405, 'MethodNotAllowed', 'The specified method is not allowed against this resource.')
  }

  private list(
    res: ServerResponse,
    bucket: string,
    objects: Map<string, Buffer>,
    query: Record<string, string>
  ): void {
    const prefix = query.prefix ?? ''
    const delimiter = query.delimiter ?? ''
    const encode =
      query['encoding-type'] === 'url'
        ? (s: string) => encodeURIComponent(s).replace(/%2F/g, '/')
        : (s: string) => s
    const items = new Map<string, 'key' | 'prefix'>()
    for (const key of [...objects.keys()].sort()) {
      if (!key.startsWith(prefix)) continue
      const cut = delimiter ? key.indexOf(delimiter, prefix.length) : -1
      if (cut >= 0) items.set(key.slice(0, cut + delimiter.length), 'prefix')
      else items.set(key, 'key')
    }
    const all = [...items.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    const after = query['continuation-token']
      ? Buffer.from(query['continuation-token'], 'base64').toString('utf8')
      : undefined
    const start = after === undefined ? 0 : all.findIndex(([name]) => name > after)
    const max = Math.min(Number(query['max-keys'] ?? 1000), this.pageSize)
    const page = start < 0 ? [] : all.slice(start, start + max)
    const truncated = start >= 0 && start + max < all.length
    const xml = [
      '<?xml version="1.0" encoding="UTF-8"?>',
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${escapeXml(bucket)}</Name><Prefix>${escapeXml(encode(prefix))}</Prefix>`,
      `<KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys>`,
      delimiter ? `<Delimiter>${escapeXml(encode(delimiter))}</Delimiter>` : '',
      query['encoding-type'] ? `<EncodingType>${escapeXml(query['encoding-type'])}</EncodingType>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      query['continuation-token']
        ? `<ContinuationToken>${escapeXml(query['continuation-token'])}</ContinuationToken>`
        : '',
      truncated
        ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]?.[0] ?? '').toString('base64')}</NextContinuationToken>`
        : '',
      ...page.map(([name, kind]) =>
        kind === 'prefix'
          ? `<CommonPrefixes><Prefix>${escapeXml(encode(name))}</Prefix></CommonPrefixes>`
          : `<Contents><Key>${escapeXml(encode(name))}</Key><LastModified>2023-07-10T12:00:00.000Z</LastModified>` +
            `<ETag>&quot;0123456789abcdef0123456789abcdef&quot;</ETag><Size>${objects.get(name)!.length}</Size>` +
            '<StorageClass>STANDARD</StorageClass></Contents>'
      ),
      '</ListBucketResult>'
    ].join('')
    res.writeHead(200, { 'content-type': 'application/xml', 'x-amz-request-id': 'EMULATOR' })
    res.end(xml)
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'content-type': 'application/xml', 'x-amz-request-id': 'EMULATOR' })
    res.end(
      `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${escapeXml(message)}</Message>` +
        '<RequestId>EMULATOR</RequestId></Error>'
    )
  }
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}
