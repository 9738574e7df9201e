import { App, CfnWaitConditionHandle, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EventGatewayStack, type EventGatewayStackProps } from '../../lib/infra/gateway-stack';
import { suppressAcceptedFindings } from '../../lib/infra/nag';
import { targetAccessFromContext, targetScopeFromArns } from '../../lib/infra/targets';

/** What a production review of the template checks: opt-in targets, timeouts, limits, alarms, retention, audit. */

const noBundling = { 'aws:cdk:bundling-stacks': [] };

function synth(props: EventGatewayStackProps = {}): Template {
  const app = new App({ context: noBundling });
  return Template.fromStack(new EventGatewayStack(app, 'EventGateway', props));
}

/** The logical ID of the function whose description contains `name`. */
function functionId(template: Template, name: string): string {
  const found = Object.entries(template.findResources('AWS::Lambda::Function')).find(([, r]) => String((r as any).Properties.Description).includes(name));
  if (!found) throw new Error(`no function ${name}`);
  return found[0];
}

function functionProps(template: Template, name: string): any {
  return (template.toJSON().Resources[functionId(template, name)] as any).Properties;
}

/** Every statement of every policy attached to the role of function `name`. */
function statementsOf(template: Template, name: string): any[] {
  const roleRef = functionProps(template, name).Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) => p.Properties.Roles.some((r: any) => r.Ref === roleRef));
  return policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement);
}

const TARGET_ACTIONS = ['lambda:InvokeFunction', 'sqs:SendMessage', 'kinesis:PutRecord', 'firehose:PutRecord', 'events:PutEvents'];
const isTargetStatement = (s: any) => s.Effect === 'Allow' && TARGET_ACTIONS.includes(s.Action);
const text = (value: unknown) => JSON.stringify(value);

describe('EventGatewayStack, production settings', () => {
  const template = synth();

  describe('targets are opt-in', () => {
    it('lets the events and worker roles invoke only tagged or prefixed resources, never the whole account unconditioned', () => {
      for (const name of ['Events API', 'async delivery worker']) {
        const statements = statementsOf(template, name).filter(isTargetStatement);
        const tagged = statements.filter((s) => s.Condition);
        // Lambda and SQS evaluate aws:ResourceTag for these actions: opted in by the tag.
        expect(tagged.map((s) => [s.Action, s.Condition])).toEqual([
          ['lambda:InvokeFunction', { StringEquals: { 'aws:ResourceTag/event-gateway:target': 'true' } }],
          ['sqs:SendMessage', { StringEquals: { 'aws:ResourceTag/event-gateway:target': 'true' } }],
        ]);
        // Every service: opted in by the name prefix.
        const prefixed = statements.filter((s) => !s.Condition);
        expect(prefixed.map((s) => [s.Action, text(s.Resource).match(/AccountId"},":([^"]*)"/)?.[1]])).toEqual([
          ['lambda:InvokeFunction', 'function:eg-target-*'],
          ['sqs:SendMessage', 'eg-target-*'],
          ['kinesis:PutRecord', 'stream/eg-target-*'],
          ['firehose:PutRecord', 'deliverystream/eg-target-*'],
          ['events:PutEvents', 'event-bus/eg-target-*'],
        ]);
      }
    });

    it('gives the config handler no target action at all', () => {
      expect(statementsOf(template, 'Config API').filter((s) => TARGET_ACTIONS.includes(s.Action))).toEqual([]);
    });

    it('denies the events and worker roles invoking any of the gateway\'s own functions, versions and aliases included', () => {
      const own = ['Events API', 'Config API', 'async delivery worker'].map((name) => functionId(template, name));
      for (const name of ['Events API', 'async delivery worker']) {
        const deny = statementsOf(template, name).find((s) => s.Effect === 'Deny');
        expect(deny.Action).toBe('lambda:InvokeFunction');
        expect(deny.Resource).toEqual(
          expect.arrayContaining(own.flatMap((id) => [{ 'Fn::GetAtt': [id, 'Arn'] }, { 'Fn::Join': ['', [{ 'Fn::GetAtt': [id, 'Arn'] }, ':*']] }])),
        );
      }
    });

    it('uses another tag or prefix, or none, as configured; explicit ARNs replace both for their service', () => {
      const custom = synth({ targetTag: { key: 'team', value: 'orders' }, targetNamePrefix: 'orders-' });
      const statements = statementsOf(custom, 'async delivery worker').filter(isTargetStatement);
      expect(statements.filter((s) => s.Condition).map((s) => s.Condition)).toEqual([
        { StringEquals: { 'aws:ResourceTag/team': 'orders' } },
        { StringEquals: { 'aws:ResourceTag/team': 'orders' } },
      ]);
      expect(text(statements)).toContain(':function:orders-*');
      expect(text(statements)).not.toContain('eg-target-');

      const arnsOnly = synth({ targetTag: false, targetNamePrefix: false, targetScope: { sqsQueues: ['arn:aws:sqs:eu-west-1:111122223333:orders'] } });
      expect(statementsOf(arnsOnly, 'async delivery worker').filter(isTargetStatement)).toEqual([
        expect.objectContaining({ Action: 'sqs:SendMessage', Resource: 'arn:aws:sqs:eu-west-1:111122223333:orders' }),
      ]);
    });

    it('reads the choice from CDK context: targetTag, targetPrefix, targetArns', () => {
      expect(targetAccessFromContext({ targetTag: 'team=orders', targetPrefix: 'orders-' })).toEqual({ tag: { key: 'team', value: 'orders' }, namePrefix: 'orders-' });
      expect(targetAccessFromContext({ targetTag: 'exposed' })).toEqual({ tag: { key: 'exposed', value: 'true' } });
      expect(targetAccessFromContext({ targetTag: 'none', targetPrefix: 'none' })).toEqual({ tag: false, namePrefix: false });
      expect(targetAccessFromContext({ targetArns: 'arn:aws:lambda:eu-west-1:1:function:a, arn:aws:events:eu-west-1:1:event-bus/b' })).toEqual({
        scope: { lambdaFunctions: ['arn:aws:lambda:eu-west-1:1:function:a'], eventBuses: ['arn:aws:events:eu-west-1:1:event-bus/b'] },
      });
      expect(() => targetScopeFromArns(['arn:aws:s3:::bucket'])).toThrow('targetArns: "arn:aws:s3:::bucket" is not an ARN of lambda, sqs, kinesis, firehose or events');
    });
  });

  describe('timeouts fit inside each other', () => {
    it('ends the API handlers before API Gateway\'s 30 s, gives the worker 90 s and the queue six times that', () => {
      expect(functionProps(template, 'Events API').Timeout).toBe(29);
      expect(functionProps(template, 'Config API').Timeout).toBe(29);
      expect(functionProps(template, 'async delivery worker').Timeout).toBe(90);
      template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue(), VisibilityTimeout: 540 });
    });
  });

  describe('limits', () => {
    it('throttles the Events API stage, by default and as configured', () => {
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: Match.stringLikeRegexp('^EventsApi') },
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 1000, ThrottlingBurstLimit: 2000 },
      });
      synth({ eventsThrottle: { rateLimit: 50, burstLimit: 100 } }).hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        ApiId: { Ref: Match.stringLikeRegexp('^EventsApi') },
        DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      });
    });

    it('bounds the worker\'s concurrency on the queue', () => {
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 20 } });
      synth({ workerMaxConcurrency: 5 }).hasResourceProperties('AWS::Lambda::EventSourceMapping', { ScalingConfig: { MaximumConcurrency: 5 } });
    });

    it('states the delivery queue\'s maximum message size (256 KiB; the Events API answers 413 beyond it)', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue(), MaximumMessageSize: 262144 });
    });
  });

  describe('alarms reach someone', () => {
    it('with alarmEmail, creates a topic with the address subscribed and makes it the alarm and OK action of every alarm', () => {
      const mailed = synth({ alarmEmail: 'ops@example.com' });
      mailed.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: Match.stringLikeRegexp('^Alarms') } });
      const alarms = Object.values(mailed.findResources('AWS::CloudWatch::Alarm')) as any[];
      expect(alarms).toHaveLength(6);
      for (const alarm of alarms) {
        expect(alarm.Properties.AlarmActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
        expect(alarm.Properties.OKActions).toEqual([{ Ref: expect.stringMatching(/^Alarms/) }]);
      }
    });

    it('uses a given topic instead of creating one', () => {
      const app = new App({ context: noBundling });
      const ops = new Stack(app, 'Ops');
      // CloudFormation wants a stack to hold at least one resource.
      new CfnWaitConditionHandle(ops, 'Placeholder');
      const stack = new EventGatewayStack(app, 'EventGateway', { alarmTopic: Topic.fromTopicArn(ops, 'Topic', 'arn:aws:sns:eu-west-1:111122223333:ops') });
      const given = Template.fromStack(stack);
      given.resourceCountIs('AWS::SNS::Topic', 0);
      for (const alarm of Object.values(given.findResources('AWS::CloudWatch::Alarm')) as any[]) {
        expect(alarm.Properties.AlarmActions).toEqual(['arn:aws:sns:eu-west-1:111122223333:ops']);
      }
    });

    it('alarms on the age of the oldest delivery', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: 'ApproximateAgeOfOldestMessage',
        Namespace: 'AWS/SQS',
        Threshold: 3600,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Deliveries'), 'QueueName'] } }],
      });
      synth({ oldestDeliveryAlarmAge: Duration.minutes(15) }).hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Threshold: 900 });
    });

    it('sums throttles with FILL(m, 0), so one idle function does not hide the others', () => {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(e, 0) + FILL(c, 0) + FILL(w, 0)' })]),
      });
    });

    it('names the dashboard EventGateway, as the README says', () => {
      template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'EventGateway' });
    });
  });

  describe('nothing expires unseen', () => {
    it('keeps deliveries 14 days, longer than any retry policy (maxAgeSeconds ≤ 7 days)', () => {
      template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.anyValue(), MessageRetentionPeriod: 14 * 86400 });
    });

    it('protects the registry table from deletion and keeps the dead-letter queue on stack deletion', () => {
      template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', Properties: Match.objectLike({ DeletionProtectionEnabled: true }) });
      const deadLetters = Object.entries(template.findResources('AWS::SQS::Queue')).find(([id]) => id.startsWith('DeadLetters'));
      expect(deadLetters?.[1]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    });
  });

  describe('an audit trail', () => {
    it('writes Config API access logs as JSON with the IAM identity, route, status and request ID, kept as long as the stack\'s logs', () => {
      const stage = Object.values(template.findResources('AWS::ApiGatewayV2::Stage', { Properties: { ApiId: { Ref: Match.stringLikeRegexp('^ConfigApi') } } }))[0] as any;
      const settings = stage.Properties.AccessLogSettings;
      expect(settings.DestinationArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^ConfigApiAccessLogs/), 'Arn'] });
      expect(JSON.parse(settings.Format)).toMatchObject({
        requestId: '$context.requestId',
        userArn: '$context.identity.userArn',
        caller: '$context.identity.caller',
        sourceIp: '$context.identity.sourceIp',
        routeKey: '$context.routeKey',
        httpMethod: '$context.httpMethod',
        status: '$context.status',
      });
      const logGroup = template.toJSON().Resources[settings.DestinationArn['Fn::GetAtt'][0]];
      expect(logGroup.Properties.RetentionInDays).toBe(30);
    });

    it('lets each function write only its own log group, without the managed basic execution policy', () => {
      for (const role of Object.values(template.findResources('AWS::IAM::Role')) as any[]) expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      for (const name of ['Events API', 'Config API', 'async delivery worker']) {
        const logGroupId = functionProps(template, name).LoggingConfig.LogGroup.Ref;
        const logs = statementsOf(template, name).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('logs:')));
        expect(logs).toHaveLength(1);
        expect(logs[0].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
        expect(text(logs[0].Resource)).toContain(logGroupId);
        expect(text(logs[0].Resource)).not.toMatch(/log-group:\*/);
      }
    });
  });

  describe('tracing', () => {
    it('turns on X-Ray active tracing for the three functions, with only the X-Ray write actions on "*"', () => {
      for (const name of ['Events API', 'Config API', 'async delivery worker']) {
        expect(functionProps(template, name).TracingConfig).toEqual({ Mode: 'Active' });
        const xray = statementsOf(template, name).filter((s) => [s.Action].flat().some((a: string) => a.startsWith('xray:')));
        expect(xray).toHaveLength(1);
        expect([xray[0].Action].flat().sort()).toEqual(['xray:PutTelemetryRecords', 'xray:PutTraceSegments']);
        const unscoped = statementsOf(template, name).filter((s) => s.Effect === 'Allow' && s.Resource === '*');
        expect(unscoped.flatMap((s) => [s.Action].flat()).every((a: string) => a.startsWith('xray:'))).toBe(true);
      }
    });
  });

  describe('cdk-nag', () => {
    /** Synthesises with the AwsSolutions checks and our acknowledgements, as bin/app.ts does; throws on any unacknowledged finding. */
    function nagged(props: EventGatewayStackProps): void {
      const app = new App({ context: noBundling });
      suppressAcceptedFindings(new EventGatewayStack(app, 'EventGateway', props));
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      app.synth();
    }

    it('finds nothing unacknowledged, by default and with the alarm e-mail, a custom prefix and explicit ARNs', () => {
      expect(() => nagged({})).not.toThrow();
      expect(() => nagged({ alarmEmail: 'ops@example.com', targetNamePrefix: 'orders-', targetScope: { eventBuses: ['arn:aws:events:eu-west-1:111122223333:event-bus/orders'] } })).not.toThrow();
    });
  });
});
