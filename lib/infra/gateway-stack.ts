import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { HttpApi, HttpNoneAuthorizer, type IHttpRouteAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { GatewayFunction } from './gateway-function';

/**
 * Who may call the Config API: IAM-signed requests (default), anyone, an authorizer of your own, or
 * access keys (`Authorization: Bearer <key>`, what the official client sends) kept in a Secrets Manager
 * secret in the JSON form of `--config-keys-file`. Keys are checked by the config handler itself, with
 * the local server's code, so refusals are the contract's JSON 401/403 rather than API Gateway's.
 */
export type ConfigApiProtection = 'iam' | 'none' | IHttpRouteAuthorizer | { accessKeys: ISecret | string };

/**
 * Which targets the gateway may invoke (AWS function types). Each list holds ARNs or ARN patterns;
 * by default every resource of that service in the stack's own account and region.
 */
export interface TargetScope {
  lambdaFunctions?: string[];
  sqsQueues?: string[];
  kinesisStreams?: string[];
  firehoseStreams?: string[];
  eventBuses?: string[];
}

export interface EventGatewayStackProps extends StackProps {
  /** Physical names; CloudFormation generates them when left out. */
  tableName?: string;
  queueName?: string;
  configApiProtection?: ConfigApiProtection;
  logRetention?: RetentionDays;
  /** How long undelivered messages stay in the dead-letter queue. */
  deadLetterRetention?: Duration;
  /**
   * Receives before SQS itself dead-letters a message (default 50). The worker dead-letters a delivery
   * earlier, when its subscription's retry policy says so (default 30 attempts / 24 h): this is the
   * backstop for messages the worker never finishes, and the cap of any subscription's `maxAttempts`.
   */
  maxReceiveCount?: number;
  /** How often handlers check the registry for changes (ms); also the delay before a change routes. */
  versionCheckMs?: number;
  targetScope?: TargetScope;
  /** Where alarms notify (e.g. an SNS topic action); none by default. */
  alarmActions?: IAlarmAction[];
}

const FUNCTIONS_DIR = join(__dirname, '..', '..', 'functions');

/** The Event Gateway on AWS: two HTTP APIs, three Lambda handlers, the registry table, the delivery queue, dashboard and alarms. */
export class EventGatewayStack extends Stack {
  readonly table: Table;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly eventsApi: HttpApi;
  readonly configApi: HttpApi;
  readonly functions: { events: GatewayFunction; config: GatewayFunction; worker: GatewayFunction };

  constructor(scope: Construct, id: string, props: EventGatewayStackProps = {}) {
    super(scope, id, props);
    this.table = new Table(this, 'Registry', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      ...(props.queueName ? { queueName: `${props.queueName}-dlq` } : {}),
      retentionPeriod: props.deadLetterRetention ?? Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    const workerTimeout = Duration.seconds(30);
    this.queue = new Queue(this, 'Deliveries', {
      ...(props.queueName ? { queueName: props.queueName } : {}),
      // Six times the worker's timeout, as AWS advises for Lambda consumers.
      visibilityTimeout: Duration.seconds(workerTimeout.toSeconds() * 6),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 50 },
    });

    const common = {
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { EG_VERSION_CHECK_MS: String(props.versionCheckMs ?? 3000) },
    };
    const events = new GatewayFunction(this, 'EventsHandler', { ...common, entry: join(FUNCTIONS_DIR, 'events.ts'), description: 'Event Gateway: Events API' })
      .bindRegistry(this.table, 'read')
      .bindDeliveryQueue(this.queue);
    const config = new GatewayFunction(this, 'ConfigHandler', { ...common, entry: join(FUNCTIONS_DIR, 'config.ts'), description: 'Event Gateway: Config API' })
      .bindRegistry(this.table, 'readWrite')
      .bindDeadLetters(this.deadLetterQueue, this.queue);
    const protection = props.configApiProtection ?? 'iam';
    // A dynamic reference: the template names the secret; CloudFormation puts its value in at deploy time.
    if (isKeyMode(protection)) {
      const secret = typeof protection.accessKeys === 'string' ? Secret.fromSecretNameV2(this, 'ConfigAccessKeys', protection.accessKeys) : protection.accessKeys;
      config.addEnvironment('EG_CONFIG_ACCESS_KEYS', secret.secretValue.unsafeUnwrap());
    }
    const worker = new GatewayFunction(this, 'Worker', {
      ...common,
      entry: join(FUNCTIONS_DIR, 'worker.ts'),
      description: 'Event Gateway: async delivery worker',
      timeout: workerTimeout,
    })
      .bindRegistry(this.table, 'read')
      // The worker emits system events (function.invoked …), which are deliveries of their own.
      .bindDeliveryQueue(this.queue)
      .bindDeadLetterTarget(this.deadLetterQueue);
    worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true }));
    // Sync subscribers and authorizers are called by the Events API handler, async ones by the worker.
    for (const fn of [events, worker]) for (const statement of this.targetStatements(props.targetScope)) fn.addToRolePolicy(statement);
    this.functions = { events, config, worker };

    this.eventsApi = new HttpApi(this, 'EventsApi', {
      description: 'Event Gateway: Events API',
      defaultIntegration: new HttpLambdaIntegration('Events', events),
    });
    this.configApi = new HttpApi(this, 'ConfigApi', {
      description: 'Event Gateway: Config API',
      defaultIntegration: new HttpLambdaIntegration('Config', config),
      defaultAuthorizer: configAuthorizer(props.configApiProtection ?? 'iam'),
    });

    this.addMonitoring(props.alarmActions ?? []);
    new CfnOutput(this, 'EventsApiUrl', { value: this.eventsApi.apiEndpoint, description: 'Events API base URL' });
    new CfnOutput(this, 'ConfigApiUrl', { value: this.configApi.apiEndpoint, description: 'Config API base URL' });
    new CfnOutput(this, 'RegistryTableName', { value: this.table.tableName });
    new CfnOutput(this, 'DeliveryQueueName', { value: this.queue.queueName });
    new CfnOutput(this, 'DeadLetterQueueName', { value: this.deadLetterQueue.queueName });
  }

  /** Least privilege for calling targets: one action per service, on the scoped resources only. */
  private targetStatements(scope: TargetScope = {}): PolicyStatement[] {
    const own = (service: string, resource: string) => `arn:${this.partition}:${service}:${this.region}:${this.account}:${resource}`;
    const statement = (actions: string[], resources: string[]) => new PolicyStatement({ actions, resources });
    return [
      statement(['lambda:InvokeFunction'], scope.lambdaFunctions ?? [own('lambda', 'function:*')]),
      statement(['sqs:SendMessage'], scope.sqsQueues ?? [own('sqs', '*')]),
      statement(['kinesis:PutRecord'], scope.kinesisStreams ?? [own('kinesis', 'stream/*')]),
      statement(['firehose:PutRecord'], scope.firehoseStreams ?? [own('firehose', 'deliverystream/*')]),
      statement(['events:PutEvents'], scope.eventBuses ?? [own('events', 'event-bus/*')]),
    ];
  }

  private addMonitoring(actions: IAlarmAction[]): void {
    const { events, config, worker } = this.functions;
    const alarm = (id: string, a: Alarm) => {
      for (const action of actions) a.addAlarmAction(action);
      return a;
    };
    const fiveMinutes = Duration.minutes(5);
    alarm(
      'DeadLettersNotEmpty',
      new Alarm(this, 'DeadLettersNotEmpty', {
        alarmDescription: 'Deliveries failed every retry and wait in the dead-letter queue.',
        metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: fiveMinutes, statistic: 'Maximum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    for (const [id, api] of [['EventsApi5xx', this.eventsApi], ['ConfigApi5xx', this.configApi]] as const) {
      alarm(id, new Alarm(this, id, {
        alarmDescription: `${id.replace('5xx', '')} answered with server errors.`,
        metric: api.metricServerError({ period: fiveMinutes, statistic: 'Sum' }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }));
    }
    alarm('WorkerErrors', new Alarm(this, 'WorkerErrors', {
      alarmDescription: 'The delivery worker failed whole invocations.',
      metric: worker.metricErrors({ period: fiveMinutes, statistic: 'Sum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }));
    const throttles = new MathExpression({
      expression: 'e + c + w',
      usingMetrics: { e: events.metricThrottles(), c: config.metricThrottles(), w: worker.metricThrottles() },
      period: fiveMinutes,
      label: 'Throttles',
    });
    alarm('Throttles', new Alarm(this, 'Throttles', {
      alarmDescription: 'A gateway function was throttled (concurrency limit reached).',
      metric: throttles,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }));

    const gatewayMetric = (name: string, label: string) =>
      new MathExpression({ expression: `SEARCH('{EventGateway,space,eventType} MetricName="${name}"', 'Sum', 300)`, label, period: fiveMinutes });
    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({ title: 'Events', left: [gatewayMetric('eventgateway_events_received_total', 'received'), gatewayMetric('eventgateway_events_processed_total', 'processed')] }),
          new GraphWidget({ title: 'API 5xx', left: [this.eventsApi.metricServerError(), this.configApi.metricServerError()] }),
          new GraphWidget({ title: 'Events API latency', left: [this.eventsApi.metricLatency({ statistic: 'p99' })] }),
        ],
        [
          new GraphWidget({ title: 'Delivery queue', left: [this.queue.metricApproximateNumberOfMessagesVisible(), this.deadLetterQueue.metricApproximateNumberOfMessagesVisible()] }),
          new GraphWidget({ title: 'Function errors', left: [events.metricErrors(), config.metricErrors(), worker.metricErrors()] }),
          new GraphWidget({ title: 'Throttles', left: [throttles] }),
        ],
      ],
    });
  }
}

function configAuthorizer(protection: ConfigApiProtection): IHttpRouteAuthorizer {
  if (protection === 'iam') return new HttpIamAuthorizer();
  if (protection === 'none' || isKeyMode(protection)) return new HttpNoneAuthorizer();
  return protection;
}

function isKeyMode(protection: ConfigApiProtection): protection is { accessKeys: ISecret | string } {
  return typeof protection === 'object' && 'accessKeys' in protection;
}
