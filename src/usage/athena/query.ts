/**
 * The aggregating query over an organization's CloudTrail table: one scan of the window's partitions that returns one
 * row per (role, event source, event name, event type, error code, denied-by-message, data event, resource) for the
 * selected roles, plus one row of what the trail logs from any principal. The result grows with distinct entries,
 * never with events. It decides nothing about IAM: the rows carry exactly the fields the local engine tallies
 * (src/usage/cloudtrail/reduce-file.ts), and the same classifier maps them to actions (rows.ts).
 *
 * Written in Trino SQL (Athena engine version 3). The table has the columns of the CloudTrail SerDe table and the
 * partition columns `account`, `region` and `timestamp` (yyyy/MM/dd), as table-ddl.ts creates it.
 */
import { parseRoleArn, parseUserArn } from '../../roles.js'
import { DENIED_MESSAGE_PATTERN } from '../cloudtrail/map-event.js'
import { sqlIdentifier, sqlList, sqlString } from './sql.js'

export interface TableName {
  catalog?: string | undefined
  database: string
  table: string
}

export interface AggregateQuery {
  table: TableName
  /** The selected roles (full ARNs, with their paths). */
  roleArns: readonly string[]
  /** Regions to read; empty = every Region. */
  regions: readonly string[]
  since: Date
  until: Date
  /** Distinct resources returned per entry; past it the entry's resources are counted, not listed. */
  maxResources: number
}

/** The columns of a result row, in order. */
export const RESULT_COLUMNS = [
  'role_arn',
  'event_source',
  'event_name',
  'event_type',
  'error_code',
  'denied_by_message',
  'data_event',
  'resource',
  'calls',
  'first_seen',
  'last_seen',
  'no_resource',
  'distinct_resources',
  'seen_kms',
  'seen_rdsdata',
  'seen_read',
  'seen_write'
] as const

/**
 * Athena takes queries of up to 262,144 bytes. Past this many characters of role literals the query selects every
 * role session of the accounts instead, and rows.ts keeps only the selected roles: the scan is the same (the
 * partitions are), the result holds the other roles of those accounts too.
 */
const MAX_ROLE_LITERALS = 150_000

const ENTRY_KEY = 'role_arn, event_source, event_name, event_type, error_code, denied_by_message, data_event'

/** CloudTrail writes eventTime as yyyy-MM-ddTHH:mm:ssZ: compared as text, whole seconds, inside [since, until]. */
function eventTimeBound(date: Date, round: 'up' | 'down'): string {
  const ms = date.getTime()
  const seconds = round === 'up' ? Math.ceil(ms / 1000) : Math.floor(ms / 1000)
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

function dayPartition(date: Date): string {
  return date.toISOString().slice(0, 10).replaceAll('-', '/')
}

/** The tableName as a quoted, validated reference. */
export function tableReference(name: TableName): string {
  const parts = [
    ...(name.catalog ? [sqlIdentifier(name.catalog, 'athena-catalog')] : []),
    sqlIdentifier(name.database, 'athena-table'),
    sqlIdentifier(name.table, 'athena-table')
  ]
  return parts.join('.')
}

/**
 * The ARNs a selected principal's records may carry, lower-cased: a role's with its path, and without (sessions name
 * no path); a user's as given (its records name it with its path).
 */
function principalKeys(roleArns: readonly string[]): { keys: string[]; accounts: string[] } {
  const keys = new Set<string>()
  const accounts = new Set<string>()
  for (const arn of roleArns) {
    const role = parseRoleArn(arn)
    const user = role ? undefined : parseUserArn(arn)
    if (!role && !user) throw new Error(`athena: "${arn}" is not a role or user ARN`)
    keys.add(arn.toLowerCase())
    if (role) keys.add(`arn:${role.partition}:iam::${role.accountId}:role/${role.name}`.toLowerCase())
    accounts.add((role ?? user)?.accountId ?? '')
  }
  return { keys: [...keys].sort(), accounts: [...accounts].sort() }
}

export function aggregateQuerySql(query: AggregateQuery): string {
  if (query.roleArns.length === 0) throw new Error('athena: no role to query')
  if (!(query.since.getTime() <= query.until.getTime())) throw new Error('athena: the window is empty')
  if (!Number.isInteger(query.maxResources) || query.maxResources < 1)
    throw new Error('athena: maxResources must be a positive integer')
  for (const region of query.regions) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region)) throw new Error(`athena: "${region}" is not a Region`)
  }
  const { keys, accounts } = principalKeys(query.roleArns)
  const issuer = 'useridentity.sessioncontext.sessionissuer.arn'
  const session = 'useridentity.arn'
  const assumedRole = sqlString('^arn:([^:]+):sts::(\\d{12}):assumed-role/([^/]+)/')
  const iamUser = sqlString('^arn:[^:]+:iam::\\d{12}:user/')
  const denied = sqlString(`(?i)(${DENIED_MESSAGE_PATTERN})`)
  const namedAction = sqlString('(?i)perform:\\s*([a-z0-9-]+):')
  const management = "NOT data_event AND coalesce(eventtype, '') <> 'AwsServiceEvent'"
  const roleLiterals = sqlList(keys)
  const selected =
    roleLiterals.length <= MAX_ROLE_LITERALS
      ? `lower(principal) IN (${roleLiterals})`
      : "coalesce(strpos(principal, ':role/') > 0 OR strpos(principal, ':user/') > 0, false)"
  const regionFilter = query.regions.length > 0 ? `\n    AND region IN (${sqlList(query.regions)})` : ''
  return `WITH attributed AS (
  SELECT
    CASE
      WHEN useridentity.type = 'IAMUser' THEN
        CASE WHEN regexp_like(${session}, ${iamUser}) THEN ${session} END
      WHEN ${issuer} IS NOT NULL THEN
        CASE WHEN strpos(${issuer}, ':role/') > 0 THEN ${issuer} END
      WHEN useridentity.type = 'AssumedRole' AND regexp_like(${session}, ${assumedRole}) THEN
        'arn:' || regexp_extract(${session}, ${assumedRole}, 1) || ':iam::' || regexp_extract(${session}, ${assumedRole}, 2)
          || ':role/' || regexp_extract(${session}, ${assumedRole}, 3)
    END AS principal,
    coalesce(eventcategory = 'Data', false) AS data_event,
    eventsource, eventname, eventtype, errorcode, errormessage, eventtime, readonly, resources, requestparameters
  FROM ${tableReference(query.table)}
  WHERE account IN (${sqlList(accounts)})${regionFilter}
    AND "timestamp" BETWEEN ${sqlString(dayPartition(query.since))} AND ${sqlString(dayPartition(query.until))}
    AND eventtime BETWEEN ${sqlString(eventTimeBound(query.since, 'up'))} AND ${sqlString(eventTimeBound(query.until, 'down'))}
    AND eventname IS NOT NULL
),
selected AS (
  SELECT
    a.*,
    ${selected} AS is_selected,
    -- Only S3 names its resources in the request: other events' parameters are never parsed.
    CASE WHEN eventsource = 's3.amazonaws.com' THEN json_extract_scalar(requestparameters, '$.bucketName') END AS bucket,
    CASE WHEN eventsource = 's3.amazonaws.com' THEN json_extract_scalar(requestparameters, '$.key') END AS object_key
  FROM attributed a
),
events AS (
  SELECT
    CASE WHEN is_selected THEN principal END AS role_arn,
    CASE WHEN is_selected THEN coalesce(eventsource, '') END AS event_source,
    CASE WHEN is_selected THEN eventname END AS event_name,
    CASE WHEN is_selected THEN coalesce(eventtype, '') END AS event_type,
    CASE WHEN is_selected THEN coalesce(errorcode, '') END AS error_code,
    CASE WHEN is_selected THEN
      coalesce(errorcode, '') <> '' AND regexp_like(coalesce(errormessage, ''), ${denied})
        AND (NOT regexp_like(errormessage, ${namedAction})
          OR lower(regexp_extract(errormessage, ${namedAction}, 1)) = lower(split_part(coalesce(eventsource, ''), '.', 1)))
    END AS denied_by_message,
    CASE WHEN is_selected THEN data_event END AS data_event,
    eventtime,
    CASE WHEN is_selected THEN
      concat(
        coalesce(filter(transform(resources, r -> r.arn), a -> a LIKE 'arn:%'), ARRAY[]),
        CASE WHEN eventsource = 's3.amazonaws.com' AND coalesce(bucket, '') <> '' THEN
          ARRAY['arn:' || split_part(principal, ':', 2) || ':s3:::' || bucket
            || CASE WHEN coalesce(object_key, '') <> '' THEN '/' || object_key ELSE '' END]
        ELSE ARRAY[] END)
    ELSE ARRAY[] END AS named,
    ${management} AND eventsource = 'kms.amazonaws.com' AS kms,
    ${management} AND eventsource = 'rdsdata.amazonaws.com' AS rdsdata,
    ${management} AND readonly = 'true' AS read_event,
    ${management} AND readonly = 'false' AS write_event
  FROM selected
),
per_resource AS (
  -- The '' row of an entry counts its calls (one per event); the other rows are its distinct resources.
  SELECT ${ENTRY_KEY}, resource,
    count(*) AS calls,
    min(eventtime) AS first_seen,
    max(eventtime) AS last_seen,
    bool_or(cardinality(named) = 0) AS no_resource,
    bool_or(kms) AS seen_kms,
    bool_or(rdsdata) AS seen_rdsdata,
    bool_or(read_event) AS seen_read,
    bool_or(write_event) AS seen_write
  FROM events
  CROSS JOIN UNNEST(concat(ARRAY[''], named)) AS u (resource)
  GROUP BY ${ENTRY_KEY}, resource
),
counted AS (
  SELECT p.*,
    sum(CASE WHEN resource = '' THEN 0 ELSE 1 END) OVER (PARTITION BY ${ENTRY_KEY}) AS distinct_resources
  FROM per_resource p
)
SELECT ${RESULT_COLUMNS.join(', ')}
FROM counted
WHERE resource = '' OR distinct_resources <= ${query.maxResources}`
}
