import { describe, expect, it } from '@jest/globals'
import { cloudFormationReader } from '../../../src/iac/cloudformation/reader.js'
import type { IacRole } from '../../../src/iac/model.js'
import { ADF_EXAMPLE, ADF_GLOBAL, TEMPLATES, template } from './fixtures.js'

const read = (paths: string[]) => cloudFormationReader.read(paths.map(template))
const role = (roles: IacRole[], address: string) => roles.find(r => r.location.address === address)

describe('cloudFormationReader.accepts', () => {
  it('takes every fixture template and leaves other YAML and JSON alone', () => {
    for (const path of TEMPLATES) expect(cloudFormationReader.accepts(path, template(path).text)).toBe(true)
    expect(cloudFormationReader.accepts('.github/workflows/ci.yml', 'on: push\njobs: {}\n')).toBe(false)
    expect(cloudFormationReader.accepts('package.json', '{"name": "x"}')).toBe(false)
    expect(cloudFormationReader.accepts('main.tf', 'Resources AWS::IAM::Role')).toBe(false)
  })
})

describe('reading the Config template (YAML and its JSON twin)', () => {
  it('finds the same roles, policies and documents in both, with their lines and addresses', async () => {
    const yaml = await read(['aws-cloudformation-templates/Config/Config.yaml'])
    const json = await read(['aws-cloudformation-templates/Config/Config.json'])
    expect(yaml.problems).toEqual([])
    expect(yaml.roles.map(r => r.logicalId)).toEqual(['LambdaExecutionRole', 'ConfigRole'])
    expect(json.roles.map(r => r.logicalId)).toEqual(['LambdaExecutionRole', 'ConfigRole'])
    for (const [a, b] of yaml.roles.map((r, i) => [r, json.roles[i]] as const)) {
      expect(b?.policies.map(p => p.document)).toEqual(a.policies.map(p => p.document))
      expect(b?.managedPolicyArns).toEqual(a.managedPolicyArns)
    }
    const lambda = role(yaml.roles, 'LambdaExecutionRole')
    expect(lambda?.location).toEqual({
      kind: 'cloudformation',
      file: 'aws-cloudformation-templates/Config/Config.yaml',
      startLine: 195,
      endLine: 217,
      address: 'LambdaExecutionRole'
    })
    expect(lambda?.name).toBeUndefined()
    expect(lambda?.policies[0]).toMatchObject({
      attachment: 'inline',
      name: 'root',
      location: { startLine: 208, endLine: 217, address: 'LambdaExecutionRole.Policies[0]' },
      document: {
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['logs:*', 'config:PutEvaluations', 'ec2:DescribeVolumeAttribute'],
            Resource: '*'
          }
        ]
      }
    })
    expect(lambda?.policies[0]?.notRewritable).toBeUndefined()
  })

  it('reads a !Join of a parameter as unknown: the statement grants * conservatively and blocks the rewrite', async () => {
    const { roles } = await read(['aws-cloudformation-templates/Config/Config.yaml'])
    const config = role(roles, 'ConfigRole')
    expect(config?.managedPolicyArns).toEqual(['arn:aws:iam::aws:policy/service-role/AWS_ConfigRole'])
    const policy = config?.policies[0]
    // The statement is kept as written; the policy's other statements are still rewritten.
    expect(policy?.notRewritable).toBeUndefined()
    const join = expect.stringMatching(/^!Join .*!Ref ConfigBucket/) as unknown
    expect(policy?.keptStatements).toEqual([
      { statement: 0, index: 0, expression: join },
      { statement: 1, index: 1, expression: join }
    ])
    expect(config?.unresolved).toEqual([...new Set(policy?.keptStatements?.map(k => k.expression))])
    expect(policy?.document.Statement).toEqual([
      { Effect: 'Allow', Action: 's3:GetBucketAcl', Resource: '*' },
      {
        Effect: 'Allow',
        Action: 's3:PutObject',
        Resource: '*',
        Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control' } }
      },
      { Effect: 'Allow', Action: 'config:Put*', Resource: '*' }
    ])
  })
})

describe('reading the Neptune template', () => {
  it('links managed policies attached with ManagedPolicyArns: !Ref and keeps pseudo-parameter !Sub as a pattern', async () => {
    for (const path of [
      'aws-cloudformation-templates/NeptuneDB/Neptune.yaml',
      'aws-cloudformation-templates/NeptuneDB/Neptune.json'
    ]) {
      const { roles, problems } = await read([path])
      expect(problems).toEqual([])
      const neptune = role(roles, 'NeptuneRole')
      expect(neptune?.name).toBeUndefined()
      expect(neptune?.unresolved).toEqual([
        expect.stringMatching(/^RoleName: .*\$\{Env\}-\$\{AppName\}-neptune-iam-role/)
      ])
      expect(neptune?.policies.map(p => [p.location.address, p.attachment, p.notRewritable])).toEqual([
        ['NeptuneCloudWatchPolicy', 'managed', undefined],
        ['NeptuneS3Policy', 'managed', undefined]
      ])
      expect(neptune?.policies[1]?.document.Statement).toEqual([
        {
          Sid: 'AllowNeptuneAccessToS3',
          Effect: 'Allow',
          Action: ['s3:Get*', 's3:List*'],
          Resource: ['arn:*:s3:::*']
        }
      ])
    }
  })
})

describe('reading the deployment framework bootstrap stack', () => {
  it('attaches AWS::IAM::Policy by Roles: [!Ref] and by literal role name from another template', async () => {
    const { roles, problems } = await read([ADF_GLOBAL, ADF_EXAMPLE])
    expect(problems).toEqual([])
    const deployment = roles.find(r => r.name === 'adf-cloudformation-deployment-role')
    expect(deployment?.logicalId).toBe('CloudFormationDeploymentRole')
    expect(deployment?.policies.map(p => [p.location.file, p.location.address, p.name])).toEqual([
      [ADF_GLOBAL, 'CloudFormationDeploymentPolicy', 'adf-cloudformation-deployment-role-policy-kms'],
      [ADF_EXAMPLE, 'CloudFormationDeploymentPolicy', 'custom-adf-cloudformation-deployment-role-policy']
    ])
    const cfn = roles.find(r => r.name === 'adf-cloudformation-role')
    expect(cfn?.policies.map(p => p.location.address)).toEqual([
      'CloudFormationPolicy',
      'CloudFormationKMSPolicy',
      'CloudFormationPolicyS3'
    ])
    expect(cfn?.policies[0]?.keptStatements?.[0]?.expression).toBe('!GetAtt CloudFormationDeploymentRole.Arn')
  })

  it('keeps a Deny it can read, and a role named only in another template stays known by its name', async () => {
    const { roles } = await read([ADF_GLOBAL])
    const test = roles.find(r => r.name === 'adf-bootstrap-test-role')
    expect(test?.policies[0]?.document.Statement).toEqual([{ Effect: 'Deny', Action: '*', Resource: '*' }])
    const alone = await read([ADF_EXAMPLE])
    expect(alone.roles.map(r => [r.name, r.logicalId, r.location.address])).toEqual([
      ['adf-cloudformation-deployment-role', undefined, 'CloudFormationDeploymentPolicy']
    ])
  })

  it('reads ManagedPolicyArns written with !Sub arn:${AWS::Partition} as the AWS-managed ARN of the deployed partition (arn:*:), a literal as written', async () => {
    const { roles } = await read(['aws-deployment-framework/samples/sample-iam/template.yml'])
    expect(roles.map(r => [r.logicalId, r.name, r.managedPolicyArns])).toEqual([
      ['GlobalInstanceRole', 'global-instance-role', []],
      [
        'CodeDeployServiceRole',
        'codedeploy-service-role',
        ['arn:*:iam::aws:policy/service-role/AWSCodeDeployRole']
      ],
      [
        'ApiGatewayCloudWatchRole',
        undefined,
        ['arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs']
      ]
    ])
  })
})

describe('hostile and unreadable templates', () => {
  const one = (text: string, path = 'x.yaml') => cloudFormationReader.read([{ path, text }])

  it('names a file that does not parse, and still reads the others', async () => {
    const result = await cloudFormationReader.read([
      { path: 'broken.yaml', text: 'Resources:\n  R: {Type: AWS::IAM::Role\n' },
      template('aws-cloudformation-templates/Config/Config.yaml')
    ])
    expect(result.problems).toEqual([expect.stringMatching(/^broken\.yaml:\d+: not a valid template/)])
    expect(result.roles).toHaveLength(2)
  })

  it('refuses a template larger than CloudFormation accepts', async () => {
    const result = await one(`Resources: {}\n#${'x'.repeat(1024 * 1024)}\n`)
    expect(result.problems).toEqual([expect.stringMatching(/^x\.yaml: more than 1048576 bytes/)])
  })

  it('never resolves YAML aliases, reads !If and parameters as unknown, and drops an unknown Deny', async () => {
    const { roles } = await one(
      [
        'Resources:',
        '  R:',
        '    Type: AWS::IAM::Role',
        '    Properties:',
        '      Policies:',
        '        - PolicyName: p',
        '          PolicyDocument:',
        '            Statement:',
        '              - Effect: Allow',
        '                Action: &a [s3:GetObject]',
        '                Resource: !Sub arn:aws:s3:::${Bucket}/*',
        '              - Effect: Allow',
        '                Action: *a',
        '                NotResource: [!Ref Other, arn:aws:s3:::kept]',
        '              - Effect: Deny',
        '                Action: !If [C, s3:DeleteObject, s3:PutObject]',
        '                Resource: "*"',
        '              - Effect: Allow',
        '                Action: sqs:SendMessage',
        '                Resource: "*"',
        '                Condition: {StringEquals: {aws:SourceArn: !GetAtt Q.Arn}, Bool: {aws:SecureTransport: "true"}}',
        ''
      ].join('\n')
    )
    const policy = roles[0]?.policies[0]
    expect(policy?.document.Statement).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: '*' },
      { Effect: 'Allow', Action: '*', NotResource: ['arn:aws:s3:::kept'] },
      {
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'true' } }
      }
    ])
    expect(policy?.notRewritable).toBeUndefined()
    // Every statement holds an expression: each is kept as written (the dropped Deny has no index).
    expect(policy?.keptStatements).toEqual([
      { statement: 0, index: 0, expression: '!Sub arn:aws:s3:::${Bucket}/*' },
      { statement: 1, index: 1, expression: '*a' },
      { statement: 2, expression: '!If [C, s3:DeleteObject, s3:PutObject]' },
      { statement: 3, index: 2, expression: '!GetAtt Q.Arn' }
    ])
    expect(roles[0]?.unresolved).toEqual([
      '!Sub arn:aws:s3:::${Bucket}/*',
      '*a',
      '!If [C, s3:DeleteObject, s3:PutObject]',
      '!GetAtt Q.Arn'
    ])
  })

  it('reports SAM function policies without editing them', async () => {
    const { roles } = await one(
      [
        'Transform: AWS::Serverless-2016-10-31',
        'Resources:',
        '  Fn:',
        '    Type: AWS::Serverless::Function',
        '    Properties:',
        '      Policies:',
        '        - AmazonS3ReadOnlyAccess',
        '        - SQSPollerPolicy: {QueueName: !Ref Q}',
        '        - Statement: [{Effect: Allow, Action: s3:GetObject, Resource: "*"}]',
        '  WithRole:',
        '    Type: AWS::Serverless::Function',
        '    Properties: {Role: !GetAtt R.Arn}',
        ''
      ].join('\n')
    )
    expect(roles).toHaveLength(1)
    expect(roles[0]).toMatchObject({
      logicalId: 'FnRole',
      managedPolicyArns: [
        'arn:*:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
        'arn:*:iam::aws:policy/AmazonS3ReadOnlyAccess'
      ],
      unresolved: ['SAM policy SQSPollerPolicy: {QueueName: !Ref Q}']
    })
    expect(roles[0]?.policies[0]?.notRewritable).toMatch(/SAM function policies are reported, not edited/)
  })
})
