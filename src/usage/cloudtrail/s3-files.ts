import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import type { Readable } from 'node:stream'
import { DEFAULT_REGION } from '../../config.js'
import { DAY_MS } from '../../model.js'

interface S3Location {
  bucket: string
  /** Key prefix, without a leading slash; empty for the whole bucket. */
  prefix: string
}

const LOG_KEY = /\.json(l|lines)?(\.gz)?$|\.gz$/i
const SKIPPED_FOLDER = /(^|\/)CloudTrail-(Digest|Insight)\//i
const ACCOUNT = /^\d{12}$/
const ORGANIZATION = /^o-[a-z0-9]{10,32}$/

export function isS3Path(p: string): boolean {
  return /^s3:\/\//i.test(p)
}

export function parseS3Location(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/i.exec(url)
  if (!m || !m[1])
    throw new Error(`cloudtrail-path: "${url}" is not a valid S3 location; write s3://bucket/prefix`)
  return { bucket: m[1], prefix: m[2] ?? '' }
}

/** An S3 client for the trail bucket; honours AWS_ENDPOINT_URL_S3 (path-style addressing when it is set). */
export function createTrailS3Client(
  options: {
    region?: string
    credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  } = {}
): S3Client {
  const override = process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL
  return new S3Client({
    region: options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? DEFAULT_REGION,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(override ? { endpoint: override, forcePathStyle: true } : {}),
    followRegionRedirects: true
  })
}

interface Listing {
  keys: string[]
  folders: string[]
}

async function list(client: S3Client, bucket: string, prefix: string, delimiter?: string): Promise<Listing> {
  const keys: string[] = []
  const folders: string[] = []
  let token: string | undefined
  do {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: bucket,
        Prefix: prefix,
        Delimiter: delimiter,
        ContinuationToken: token
      })
    )
    for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key)
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) folders.push(p.Prefix)
    token = page.IsTruncated ? page.NextContinuationToken : undefined
  } while (token)
  return { keys, folders }
}

function lastSegment(folder: string): string {
  const parts = folder.split('/')
  return parts[parts.length - 2] ?? ''
}

function dayPrefixes(since: number, until: number): string[] {
  const out: string[] = []
  // A file is delivered after the events it holds (minutes on average), so the day after `until` may hold some.
  for (
    let t = Date.UTC(
      new Date(since).getUTCFullYear(),
      new Date(since).getUTCMonth(),
      new Date(since).getUTCDate()
    );
    t <= until + DAY_MS;
    t += DAY_MS
  ) {
    out.push(new Date(t).toISOString().slice(0, 10).replaceAll('-', '/') + '/')
  }
  return out
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length)
  let next = 0
  const run = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++
      const item = items[i]
      if (item !== undefined) results[i] = await fn(item)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, run))
  return results
}

interface S3ListingOptions {
  since?: Date | undefined
  until: Date
  regions?: string[] | undefined
}

/**
 * The keys of the log files a query needs. Under the standard layout
 * (`[prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/`) only the Regions asked for and, when
 * `since` is given, only the date folders of the window are listed. Any other layout is listed in full.
 */
export async function listS3LogKeys(
  client: S3Client,
  location: S3Location,
  options: S3ListingOptions
): Promise<string[]> {
  const { bucket } = location
  const base =
    location.prefix === '' || location.prefix.endsWith('/') ? location.prefix : `${location.prefix}/`
  const keep = (key: string): boolean => LOG_KEY.test(key) && !SKIPPED_FOLDER.test(key)
  if (/(^|\/)CloudTrail\//.test(base)) return (await list(client, bucket, location.prefix)).keys.filter(keep)

  const root = /(^|\/)AWSLogs\/$/.test(base) ? base : `${base}AWSLogs/`
  const top = await list(client, bucket, root, '/')
  if (top.folders.length === 0) return (await list(client, bucket, location.prefix)).keys.filter(keep)

  const accounts: string[] = []
  for (const folder of top.folders) {
    const name = lastSegment(folder)
    if (ACCOUNT.test(name)) accounts.push(folder)
    else if (ORGANIZATION.test(name)) {
      for (const sub of (await list(client, bucket, folder, '/')).folders)
        if (ACCOUNT.test(lastSegment(sub))) accounts.push(sub)
    }
  }
  const wanted = options.regions?.length ? new Set(options.regions.map(r => r.toLowerCase())) : undefined
  const regionFolders = (
    await mapLimit(
      accounts,
      8,
      async account => (await list(client, bucket, `${account}CloudTrail/`, '/')).folders
    )
  )
    .flat()
    .filter(folder => !wanted || wanted.has(lastSegment(folder).toLowerCase()))
  const since = options.since
  const days = since ? dayPrefixes(since.getTime(), options.until.getTime()) : undefined
  const prefixes = days ? regionFolders.flatMap(region => days.map(day => region + day)) : regionFolders
  return (await mapLimit(prefixes, 8, async prefix => (await list(client, bucket, prefix)).keys))
    .flat()
    .filter(keep)
}

/** The object's bytes, read from the response stream into memory the caller owns (so it can be transferred). */
export async function readS3Object(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
  const chunks: Uint8Array[] = []
  let length = 0
  for await (const chunk of response.Body as Readable) {
    chunks.push(chunk as Uint8Array)
    length += (chunk as Uint8Array).byteLength
  }
  const bytes = new Uint8Array(length)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
