import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { App, CfnWaitConditionHandle, Duration, Stack } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { bundleBudgetKb } from '../../lib/infra/bundle-budgets';
import { CDK_JSON_CONTEXT, recommendedFeatureFlags } from '../support/cdk-context';
import { EventGatewayStack, type EventGatewayStackProps } from '../../lib/infra/gateway-stack';

/** Synthesises the stack without bundling (fast); bundling has its own test below. */
function synth(props: EventGatewayStackProps = {}): Template {
  const app = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
  return Template.fromStack(new EventGatewayStack(app, 'EventGateway', props));
}

/** The policy statements attached to the role of the function whose description contains `name`. */
function statementsOf(template: Template, description: string): any[] {
  const functions = template.findResources('AWS::Lambda::Function', { Properties: { Description: description } });
  const roleRef = (Object.values(functions)[0] as any).Properties.Role['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleRef }] } });
  return Object.values(policies).flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}
const actionsOf = (statements: any[]) => statements.flatMap((s) => [s.Action].flat()).sort();

describe('EventGatewayStack', () => {
  const template = synth();

  it('keeps the registry in one on-demand table with point-in-time recovery, retained on delete', () => {
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    });
  });

  it('dead-letters a delivery after a bounded number of receives', () => {
    template.hasResourceProperties('AWS::SQS::Queue', {
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: 50 },
      VisibilityTimeout: 540,
    });
    expect(synth({ maxReceiveCount: 3 }).findResources('AWS::SQS::Queue', { Properties: { RedrivePolicy: { maxReceiveCount: 3 } } })).not.toEqual({});
  });

  it('feeds the worker from the queue with partial batch failure reporting', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 10,
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Deliveries'), 'Arn'] },
    });
  });

  it('runs every handler on Node 22, arm64, with source maps and a log group with retention', () => {
    const functions = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(functions).toHaveLength(3);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' });
      expect(fn.Properties.Environment.Variables).toMatchObject({ NODE_OPTIONS: '--enable-source-maps', EG_TABLE_NAME: { Ref: expect.stringMatching(/^Registry/) } });
    }
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('gives the events handler read access to the table and send access to the queue, nothing to write the table', () => {
    const actions = actionsOf(statementsOf(template, 'Event Gateway: Events API'));
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:GetItem', 'dynamodb:Query', 'sqs:SendMessage', 'lambda:InvokeFunction']));
    expect(actions.filter((a) => /dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/.test(a))).toEqual([]);
    expect(actions.filter((a) => /sqs:(ReceiveMessage|DeleteMessage)/.test(a))).toEqual([]);
  });

  it('gives the config handler read/write access to the table, and on the queues only what dead-letter replay needs', () => {
    const statements = statementsOf(template, 'Event Gateway: Config API');
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query']));
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:SendMessage']));
    expect(actions.filter((a) => !a.startsWith('dynamodb:') && !a.startsWith('sqs:'))).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents', 'xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
    // Consuming is granted on the dead-letter queue only; the delivery queue gets sends (replays) only.
    const receive = statements.find((st) => [st.Action].flat().includes('sqs:ReceiveMessage'));
    expect(JSON.stringify(receive.Resource)).toMatch(/DeadLetters/);
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Event Gateway: Config API' } });
    const variables = (Object.values(functions)[0] as any).Properties.Environment.Variables;
    expect(variables.EG_DEAD_LETTER_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^DeadLetters/) });
    expect(variables.EG_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^Deliveries|Queue/) });
  });

  it('lets the worker consume the queue and invoke targets only within the documented scope', () => {
    const statements = statementsOf(template, 'Event Gateway: async delivery worker');
    const actions = actionsOf(statements);
    expect(actions).toEqual(expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'dynamodb:GetItem']));
    expect(actions.filter((a) => /dynamodb:(PutItem|UpdateItem|DeleteItem)/.test(a))).toEqual([]);
    // It moves deliveries whose retries are used up to the dead-letter queue itself: sends there, never receives.
    const toDeadLetters = statements.filter((st) => JSON.stringify(st.Resource).includes('DeadLetters'));
    expect(actionsOf(toDeadLetters).filter((a) => a.startsWith('sqs:'))).toEqual(expect.arrayContaining(['sqs:SendMessage']));
    expect(actionsOf(toDeadLetters).filter((a) => /sqs:(ReceiveMessage|DeleteMessage)/.test(a))).toEqual([]);
    const worker = template.findResources('AWS::Lambda::Function', { Properties: { Description: 'Event Gateway: async delivery worker' } });
    expect((Object.values(worker)[0] as any).Properties.Environment.Variables.EG_DEAD_LETTER_QUEUE_URL).toEqual({ Ref: expect.stringMatching(/^DeadLetters/) });
    // Targets only where they opted in (see 'invokes only targets that opted in').
    const invoke = statements.filter((s) => s.Action === 'lambda:InvokeFunction' && s.Effect === 'Allow');
    expect(invoke.map((s) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(':function:*'), expect.stringContaining(':function:eg-target-*')]);
    const scoped = synth({ targetScope: { lambdaFunctions: ['arn:aws:lambda:eu-west-1:111122223333:function:orders'] } });
    expect(statementsOf(scoped, 'Event Gateway: async delivery worker').filter((s) => s.Action === 'lambda:InvokeFunction').map((s) => s.Resource)).toEqual([
      'arn:aws:lambda:eu-west-1:111122223333:function:orders',
    ]);
  });

  it('routes everything on the Events API through $default without auth, and protects the Config API with IAM', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 2);
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'AWS_IAM', ApiId: { Ref: Match.stringLikeRegexp('^ConfigApi') } });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE', ApiId: { Ref: Match.stringLikeRegexp('^EventsApi') } });
    const open = synth({ configApiProtection: 'none' });
    open.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE', ApiId: { Ref: Match.stringLikeRegexp('^ConfigApi') } });
  });

  it('in key mode leaves the route to the config handler, which alone may read the keys secret, named in its environment, never its value', () => {
    const keyedApp = new App({ context: { ...CDK_JSON_CONTEXT, 'aws:cdk:bundling-stacks': [] } });
    const holder = new Stack(keyedApp, 'Secrets');
    // Where the secret would live; CloudFormation wants a stack to hold at least one resource.
    new CfnWaitConditionHandle(holder, 'Placeholder');
    const secret = Secret.fromSecretNameV2(holder, 'Keys', 'event-gateway/config-keys');
    const keyed = Template.fromStack(new EventGatewayStack(keyedApp, 'KeyedGateway', { configApiProtection: { accessKeys: secret } }));
    keyed.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default', AuthorizationType: 'NONE', ApiId: { Ref: Match.stringLikeRegexp('^ConfigApi') } });
    const environmentOf = (template: Template, description: string) =>
      (Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Description: description } }))[0] as any).Properties.Environment.Variables;
    expect(environmentOf(keyed, 'Event Gateway: Config API').EG_CONFIG_KEYS_SECRET).toBe('event-gateway/config-keys');
    // No function carries keys: no plaintext, no dynamic reference that CloudFormation would resolve into the environment.
    for (const fn of Object.values(keyed.findResources('AWS::Lambda::Function')) as any[]) {
      const environment = JSON.stringify(fn.Properties.Environment.Variables);
      expect(environment).not.toContain('{{resolve:');
      expect(environment).not.toContain('EG_CONFIG_ACCESS_KEYS');
    }
    const reads = (description: string) => statementsOf(keyed, description).filter((s) => [s.Action].flat().includes('secretsmanager:GetSecretValue'));
    expect(JSON.stringify(reads('Event Gateway: Config API').map((s) => s.Resource))).toContain(':secret:event-gateway/config-keys-??????');
    expect([...reads('Event Gateway: Events API'), ...reads('Event Gateway: async delivery worker')]).toEqual([]);
    const byName = synth({ configApiProtection: { accessKeys: 'event-gateway/other-keys' } });
    expect(environmentOf(byName, 'Event Gateway: Config API').EG_CONFIG_KEYS_SECRET).toBe('event-gateway/other-keys');
    const byArn = synth({ configApiProtection: { accessKeys: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:eg-keys-AbCdEf' } });
    expect(environmentOf(byArn, 'Event Gateway: Config API').EG_CONFIG_KEYS_SECRET).toBe('arn:aws:secretsmanager:eu-west-1:111122223333:secret:eg-keys-AbCdEf');
  });

  it('outputs both API URLs, the table name and the queue name', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['EventsApiUrl', 'ConfigApiUrl', 'RegistryTableName', 'DeliveryQueueName']));
    template.hasOutput('RegistryTableName', { Value: { Ref: Match.stringLikeRegexp('^Registry') } });
  });

  it('alarms on a non-empty dead-letter queue, 5xx on either API, worker errors, throttles and the oldest delivery', () => {
    template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'QueueName'] } }],
    });
    for (const api of ['EventsApi', 'ConfigApi']) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: '5xx',
        Namespace: 'AWS/ApiGateway',
        Dimensions: [{ Name: 'ApiId', Value: { Ref: Match.stringLikeRegexp(`^${api}`) } }],
      });
    }
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'Errors', Namespace: 'AWS/Lambda' });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
  });

  it('keeps the dead-letter retention a prop', () => {
    synth({ deadLetterRetention: Duration.days(4) }).hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 4 * 86400 });
  });
});

describe('cdk.json', () => {
  it("sets every feature flag aws-cdk-lib recommends, as `cdk init` writes them (the stack tests above synthesise with them)", () => {
    const recommended = recommendedFeatureFlags();
    expect(Object.keys(recommended).length).toBeGreaterThan(80);
    expect(CDK_JSON_CONTEXT).toMatchObject(recommended);
  });
});

describe('bundling', () => {
  /** Budgets per handler: lib/infra/bundle-budgets.ts (issue 12's, plus the event-schema and transform engines that came later). */
  const budgetOf = (description: string) => bundleBudgetKb(description) * 1024;

  it('bundles all three handlers with local esbuild, no Docker, each within its size budget', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'eg-cdk-'));
    try {
      const app = new App({ outdir });
      const stack = new EventGatewayStack(app, 'EventGateway');
      const assembly = app.synth();
      const template = assembly.getStackByName(stack.stackName).template;
      const bundles = Object.values(template.Resources as Record<string, any>)
        .filter((r) => r.Type === 'AWS::Lambda::Function')
        .map((r) => ({ description: String(r.Properties.Description), file: join(outdir, `asset.${String(r.Properties.Code.S3Key).replace('.zip', '')}`, 'index.js') }));
      expect(bundles).toHaveLength(3);
      for (const { description, file } of bundles) {
        expect(existsSync(file)).toBe(true);
        expect(existsSync(`${file}.map`)).toBe(true);
        expect([description, statSync(file).size]).toEqual([description, expect.any(Number)]);
        expect(statSync(file).size).toBeLessThan(budgetOf(description));
        const code = readFileSync(file, 'utf8');
        // The SDK's own clients, bundled: DynamoDB and SQS in every handler, Lambda Invoke in those that route.
        expect([description, code.includes('DynamoDB_20120810'), code.includes('AmazonSQS'), code.includes('/2015-03-31/functions/')]).toEqual([description, true, true, !description.includes('Config API')]);
        // The budgets' allowance is for the engines every handler carries: ajv (event schemas), jsonata (transforms).
        expect([description, code.includes('strictSchema'), code.includes('jsonata')]).toEqual([description, true, true]);
        // undici's error codes: the Lambda transport is node:http.
        expect([description, code.includes('UND_ERR_')]).toEqual([description, false]);
        // The credential chain is the environment-only stand-in, not the SDK's SSO/INI/IMDS chain.
        expect([description, code.includes('AWS credentials are not in the environment'), code.includes('defaultProvider::fromSSO')]).toEqual([description, true, false]);
        // Only the worker calls connectors, so only it carries their SDK clients.
        expect([description, code.includes('Kinesis_20131202')]).toEqual([description, description.includes('worker')]);
        // Only the Config API carries its router.
        expect([description, code.includes('find-my-way')]).toEqual([description, description.includes('Config API')]);
        // The Config API serves the web console from files beside its bundle (built by npm run build).
        expect([description, existsSync(join(dirname(file), 'console', 'app.js'))]).toEqual([description, description.includes('Config API')]);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});
