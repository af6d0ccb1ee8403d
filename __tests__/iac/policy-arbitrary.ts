/** Random policy statements for property tests of IaC edits: odd strings, wildcards, lists, Deny, a Condition. */
import fc from 'fast-check'

const text = fc.oneof(
  fc.constantFrom(
    's3:GetObject',
    'ec2:Describe*',
    'kms:Decrypt',
    '*',
    'arn:aws:s3:::b/${aws:username}/*',
    'quote"back\\slash',
    'pct%{x}',
    'é✓'
  ),
  fc.string({ minLength: 1, maxLength: 12 })
)
const values = fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 }))

export const statements = fc.array(
  fc.record(
    {
      Sid: fc.constantFrom('Read', 'Write1'),
      Effect: fc.constantFrom('Allow', 'Deny'),
      Action: values,
      Resource: values,
      Condition: fc.constant({ StringEquals: { 'aws:RequestedRegion': ['eu-west-1', 'us-east-1'] } })
    },
    { requiredKeys: ['Effect', 'Action', 'Resource'] }
  ),
  { minLength: 1, maxLength: 4 }
)
