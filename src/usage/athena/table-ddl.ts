/**
 * The CloudTrail table over an organization trail's S3 layout, with partition projection (no crawler, no MSCK REPAIR):
 * `s3://<bucket>/<prefix>/AWSLogs/<org-id>/<account>/CloudTrail/<region>/<yyyy/MM/dd>/`. Partitions `account`
 * (injected: every query names its accounts), `region` (an enum of Regions) and `timestamp` (a date).
 * The columns are those of the CloudTrail SerDe table AWS documents; the README shows this DDL.
 */
import { sqlIdentifier, sqlString } from './sql.js'
import type { TableName } from './query.js'

/** The Regions a projection enumerates (commercial Regions; a Region added later needs the table updated). */
export const PROJECTED_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2'
]

/** `s3://bucket/prefix/AWSLogs/o-xxxxxxxxxx/`: where the organization trail delivers. */
const TRAIL_LOCATION =
  /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/([\w!.*'()/-]*\/)?AWSLogs\/o-[a-z0-9]{10,32}\/$/

export function createTableSql(table: TableName, trailLocation: string): string {
  if (!TRAIL_LOCATION.test(trailLocation)) {
    throw new Error(
      `athena-create-table: "${trailLocation}" is not an organization trail location; give s3://bucket/[prefix/]AWSLogs/<org-id>/`
    )
  }
  // Hive DDL quotes names with backquotes; the catalog is the query's context, not part of the name.
  const name = [table.database, table.table]
    .map(n => sqlIdentifier(n, 'athena-table').replaceAll('"', '`'))
    .join('.')
  const property = (name: string, value: string) => `  ${sqlString(name)} = ${sqlString(value)}`
  return `CREATE EXTERNAL TABLE IF NOT EXISTS ${name} (
  eventversion STRING,
  useridentity STRUCT<
    type: STRING, principalid: STRING, arn: STRING, accountid: STRING, invokedby: STRING, accesskeyid: STRING,
    username: STRING,
    sessioncontext: STRUCT<
      attributes: STRUCT<mfaauthenticated: STRING, creationdate: STRING>,
      sessionissuer: STRUCT<type: STRING, principalid: STRING, arn: STRING, accountid: STRING, username: STRING>,
      sourceidentity: STRING>>,
  eventtime STRING,
  eventsource STRING,
  eventname STRING,
  awsregion STRING,
  sourceipaddress STRING,
  useragent STRING,
  errorcode STRING,
  errormessage STRING,
  requestparameters STRING,
  responseelements STRING,
  additionaleventdata STRING,
  requestid STRING,
  eventid STRING,
  readonly STRING,
  resources ARRAY<STRUCT<arn: STRING, accountid: STRING, type: STRING>>,
  eventtype STRING,
  apiversion STRING,
  recipientaccountid STRING,
  serviceeventdetails STRING,
  sharedeventid STRING,
  vpcendpointid STRING,
  eventcategory STRING
)
PARTITIONED BY (account STRING, region STRING, \`timestamp\` STRING)
ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'
STORED AS INPUTFORMAT 'com.amazon.emr.cloudtrail.CloudTrailInputFormat'
OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'
LOCATION ${sqlString(trailLocation)}
TBLPROPERTIES (
${[
  property('projection.enabled', 'true'),
  property('projection.account.type', 'injected'),
  property('projection.region.type', 'enum'),
  property('projection.region.values', PROJECTED_REGIONS.join(',')),
  property('projection.timestamp.type', 'date'),
  property('projection.timestamp.format', 'yyyy/MM/dd'),
  property('projection.timestamp.range', '2013/11/01,NOW'),
  property('projection.timestamp.interval', '1'),
  property('projection.timestamp.interval.unit', 'DAYS'),
  property('storage.location.template', `${trailLocation}\${account}/CloudTrail/\${region}/\${timestamp}`)
].join(',\n')}
)`
}
