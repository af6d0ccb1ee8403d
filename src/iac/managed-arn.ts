/**
 * Managed policy ARNs as infrastructure code writes them. One written with the partition the code is deployed into
 * (CloudFormation's `${AWS::Partition}`, Terraform's `data.aws_partition.<name>.partition`) is read as
 * `arn:*:iam::aws:policy/...`: which policy it is depends on the partition of the role it is attached to.
 */

/** The partition an ARN is in (`aws`, `aws-cn`, `aws-us-gov`, ...); `aws` when it is not an ARN. */
export function partitionOf(arn: string): string {
  return /^arn:([^:*]+):/.exec(arn)?.[1] ?? 'aws'
}

/** The ARN in `partition` when it is written with the deployed partition; any other ARN as written. */
export function inPartition(arn: string, partition: string): string {
  return arn.startsWith('arn:*:') ? `arn:${partition}:${arn.slice(6)}` : arn
}

/** Whether an ARN as written (possibly in the deployed partition) names the resolved ARN `arn`. */
export function sameManagedArn(written: string, arn: string): boolean {
  return written === arn || inPartition(written, partitionOf(arn)) === arn
}
