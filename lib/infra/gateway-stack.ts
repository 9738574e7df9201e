import { join } from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import { HttpApi, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination, type IHttpRouteAuthorizer, type ThrottleSettings } from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import { Alarm, ComparisonOperator, Dashboard, GraphWidget, MathExpression, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table } from 'aws-cdk-lib/aws-dynamodb';
import { Policy } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { SQS_MAX_MESSAGE_BYTES } from '../delivery/sqs-message';
import { GatewayFunction } from './gateway-function';
import { handlerEntry } from './plugin-entry';
import { denyInvoking, targetStatements, type TargetAccess, type TargetScope, type TargetTag } from './targets';

export type { TargetScope, TargetTag } from './targets';

/**
 * Who may call the Config API: IAM-signed requests (default), anyone, an authorizer of your own, or
 * access keys (`Authorization: Bearer <key>`, what the official client sends) kept in a Secrets Manager
 * secret in the JSON form of `--config-keys-file`. Keys are checked by the config handler itself, with
 * the local server's code, so refusals are the contract's JSON 401/403 rather than API Gateway's.
 */
export type ConfigApiProtection = 'iam' | 'none' | IHttpRouteAuthorizer | { accessKeys: ISecret | string };

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
  /**
   * Explicit ARNs (or ARN patterns) the gateway may invoke, per service; a service listed here is
   * reachable only there. Services left out are reachable only where a target opted in (targetTag,
   * targetNamePrefix). The gateway's own functions are never invokable, whatever this says.
   */
  targetScope?: TargetScope;
  /** The resource tag that opts a Lambda function or SQS queue in as a target (default `event-gateway:target=true`); `false`: no tag opt-in. */
  targetTag?: TargetTag | false;
  /** The name prefix that opts a function, queue, stream or event bus in as a target (default `eg-target-`); `false`: none. */
  targetNamePrefix?: string | false;
  /** Throttling of the Events API's stage (default 1000 requests/s steady, bursts of 2000). */
  eventsThrottle?: ThrottleSettings;
  /** How many worker instances the delivery queue may run at once (default 20): a backlog never takes the account's concurrency. */
  workerMaxConcurrency?: number;
  /** Alarm when the oldest delivery waits longer than this (default 1 hour). */
  oldestDeliveryAlarmAge?: Duration;
  /** Alarms notify this topic. */
  alarmTopic?: ITopic;
  /** Alarms notify this address (through `alarmTopic`, or a topic the stack creates); confirm the subscription e-mail AWS sends. */
  alarmEmail?: string;
  /** Further alarm actions, beside the topic. */
  alarmActions?: IAlarmAction[];
  /**
   * Plugin entry files (TypeScript or JavaScript, paths from the working directory), bundled into the
   * Events API and worker handlers, where they react as with `--plugin` (`-c plugins=a.ts,b.ts`).
   */
  plugins?: string[];
  /** Longest wait for a sync plugin's reaction, in ms (default 1000). */
  pluginTimeoutMs?: number;
}

/** API Gateway's integration timeout is 30 s: the Events and Config API handlers end before it (see GatewayFunction). */
const HTTP_HANDLER_TIMEOUT = Duration.seconds(29);
/** The worker's time for one batch; each delivery is bounded by what is left of it. */
const WORKER_TIMEOUT = Duration.seconds(90);
/** SQS keeps messages at most 14 days; retries (maxAgeSeconds ≤ 7 days) fit well inside. */
const QUEUE_RETENTION = Duration.days(14);

const FUNCTIONS_DIR = join(__dirname, '..', '..', 'functions');
const CONSOLE_DIR = join(__dirname, '..', '..', 'dist', 'console');

/** The Event Gateway on AWS: two HTTP APIs, three Lambda handlers, the registry table, the delivery queue, dashboard and alarms. */
export class EventGatewayStack extends Stack {
  readonly table: Table;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly eventsApi: HttpApi;
  readonly configApi: HttpApi;
  readonly functions: { events: GatewayFunction; config: GatewayFunction; worker: GatewayFunction };
  /** Who changed what through the Config API: one JSON line per request. */
  readonly configAccessLogs: LogGroup;
  /** How targets opt in (tag, name prefix, explicit ARNs), as given. */
  readonly targetAccess: TargetAccess;
  /** Key mode: the secret the config handler reads its access keys from (it alone may read it). */
  readonly configKeysSecret?: ISecret;
  /** The topic alarms notify, when alarmEmail or alarmTopic is given. */
  readonly alarmTopic?: ITopic;

  constructor(scope: Construct, id: string, props: EventGatewayStackProps = {}) {
    super(scope, id, props);
    this.table = new Table(this, 'Registry', {
      ...(props.tableName ? { tableName: props.tableName } : {}),
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      ...(props.queueName ? { queueName: `${props.queueName}-dlq` } : {}),
      retentionPeriod: props.deadLetterRetention ?? QUEUE_RETENTION,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Undelivered events outlive the stack: `cdk destroy` leaves them for an operator.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queue = new Queue(this, 'Deliveries', {
      ...(props.queueName ? { queueName: props.queueName } : {}),
      // Six times the worker's timeout, as AWS advises for Lambda consumers.
      visibilityTimeout: Duration.seconds(WORKER_TIMEOUT.toSeconds() * 6),
      // At least as long as any subscription may retry (maxAgeSeconds ≤ 7 days).
      retentionPeriod: QUEUE_RETENTION,
      // Stated rather than left to SQS's default; the Events API answers 413 for a delivery beyond it.
      maxMessageSizeBytes: SQS_MAX_MESSAGE_BYTES,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount ?? 50 },
    });

    const common = {
      logRetention: props.logRetention ?? RetentionDays.ONE_MONTH,
      environment: { EG_VERSION_CHECK_MS: String(props.versionCheckMs ?? 3000) },
    };
    const events = new GatewayFunction(this, 'EventsHandler', { ...common, entry: handlerEntry('events', props.plugins), description: 'Event Gateway: Events API', timeout: HTTP_HANDLER_TIMEOUT })
      .bindRegistry(this.table, 'read')
      .bindDeliveryQueue(this.queue);
    const config = new GatewayFunction(this, 'ConfigHandler', {
      ...common,
      entry: join(FUNCTIONS_DIR, 'config.ts'),
      description: 'Event Gateway: Config API',
      timeout: HTTP_HANDLER_TIMEOUT,
      // The web console (built by npm run build) is served by this function from its own directory.
      bundling: { commandHooks: { beforeBundling: () => [], beforeInstall: () => [], afterBundling: (_input: string, output: string) => [`cp -r "${CONSOLE_DIR}" "${output}/console" || true`] } },
    })
      .bindRegistry(this.table, 'readWrite')
      .bindDeadLetters(this.deadLetterQueue, this.queue);
    const protection = props.configApiProtection ?? 'iam';
    if (isKeyMode(protection)) this.configKeysSecret = config.bindConfigKeys(keysSecret(this, protection.accessKeys));
    const worker = new GatewayFunction(this, 'Worker', {
      ...common,
      entry: handlerEntry('worker', props.plugins),
      description: 'Event Gateway: async delivery worker',
      timeout: WORKER_TIMEOUT,
    })
      .bindRegistry(this.table, 'read')
      // The worker emits system events (function.invoked …), which are deliveries of their own.
      .bindDeliveryQueue(this.queue)
      .bindDeadLetterTarget(this.deadLetterQueue);
    if (props.plugins?.length) for (const fn of [events, worker]) fn.addEnvironment('EG_PLUGIN_TIMEOUT_MS', String(props.pluginTimeoutMs ?? 1000));
    worker.addEventSource(new SqsEventSource(this.queue, { batchSize: 10, reportBatchItemFailures: true, maxConcurrency: props.workerMaxConcurrency ?? 20 }));
    // Sync subscribers and authorizers are called by the Events API handler, async ones by the worker.
    this.targetAccess = {
      ...(props.targetScope ? { scope: props.targetScope } : {}),
      ...(props.targetTag !== undefined ? { tag: props.targetTag } : {}),
      ...(props.targetNamePrefix !== undefined ? { namePrefix: props.targetNamePrefix } : {}),
    };
    const targets = targetStatements(this, this.targetAccess);
    for (const fn of [events, worker]) for (const statement of targets) fn.addToRolePolicy(statement);
    // Never the gateway's own functions (a registered function naming one would reach the registry's writer).
    // A policy of its own: the functions depend on their roles' default policies, so that one cannot name them.
    new Policy(this, 'NeverInvokeItself', { roles: [events.role!, worker.role!], statements: [denyInvoking([events, config, worker].map((fn) => fn.functionArn))] });
    this.functions = { events, config, worker };

    this.eventsApi = new HttpApi(this, 'EventsApi', {
      description: 'Event Gateway: Events API',
      defaultIntegration: new HttpLambdaIntegration('Events', events),
      createDefaultStage: false,
    });
    new HttpStage(this, 'EventsStage', {
      httpApi: this.eventsApi,
      autoDeploy: true,
      throttle: props.eventsThrottle ?? { rateLimit: 1000, burstLimit: 2000 },
    });
    this.configApi = new HttpApi(this, 'ConfigApi', {
      description: 'Event Gateway: Config API',
      defaultIntegration: new HttpLambdaIntegration('Config', config),
      defaultAuthorizer: configAuthorizer(props.configApiProtection ?? 'iam'),
      createDefaultStage: false,
    });
    this.configAccessLogs = new LogGroup(this, 'ConfigApiAccessLogs', { retention: common.logRetention, removalPolicy: RemovalPolicy.RETAIN });
    new HttpStage(this, 'ConfigStage', {
      httpApi: this.configApi,
      autoDeploy: true,
      accessLogSettings: { destination: new LogGroupLogDestination(this.configAccessLogs), format: CONFIG_ACCESS_LOG_FORMAT },
    });

    this.alarmTopic = props.alarmTopic ?? (props.alarmEmail ? new Topic(this, 'Alarms', { displayName: 'Event Gateway alarms', enforceSSL: true }) : undefined);
    if (this.alarmTopic && props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarmActions = [...(this.alarmTopic ? [new SnsAction(this.alarmTopic)] : []), ...(props.alarmActions ?? [])];
    this.addMonitoring(alarmActions, props.oldestDeliveryAlarmAge ?? Duration.hours(1));
    new CfnOutput(this, 'EventsApiUrl', { value: this.eventsApi.apiEndpoint, description: 'Events API base URL' });
    new CfnOutput(this, 'ConfigApiUrl', { value: this.configApi.apiEndpoint, description: 'Config API base URL' });
    new CfnOutput(this, 'RegistryTableName', { value: this.table.tableName });
    new CfnOutput(this, 'DeliveryQueueName', { value: this.queue.queueName });
    new CfnOutput(this, 'DeadLetterQueueName', { value: this.deadLetterQueue.queueName });
  }

  private addMonitoring(actions: IAlarmAction[], oldestDeliveryAge: Duration): void {
    const { events, config, worker } = this.functions;
    const alarm = (id: string, a: Alarm) => {
      for (const action of actions) {
        a.addAlarmAction(action);
        // Also when it clears, so that whoever was paged knows.
        a.addOkAction(action);
      }
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
    alarm('OldestDelivery', new Alarm(this, 'OldestDelivery', {
      alarmDescription: 'A delivery has waited long in the queue: the worker is behind, or a target keeps failing and its deliveries are retried.',
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: fiveMinutes, statistic: 'Maximum' }),
      threshold: oldestDeliveryAge.toSeconds(),
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }));
    // An idle function reports no Throttles datapoint at all; FILL makes it a 0 so the sum still exists.
    const throttles = new MathExpression({
      expression: 'FILL(e, 0) + FILL(c, 0) + FILL(w, 0)',
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
      // The name the README gives (the stack's name: "EventGateway" unless deployed under another).
      dashboardName: this.stackName,
      widgets: [
        [
          new GraphWidget({ title: 'Events', left: [gatewayMetric('eventgateway_events_received_total', 'received'), gatewayMetric('eventgateway_events_processed_total', 'processed')] }),
          new GraphWidget({ title: 'API 5xx', left: [this.eventsApi.metricServerError(), this.configApi.metricServerError()] }),
          new GraphWidget({ title: 'Events API latency', left: [this.eventsApi.metricLatency({ statistic: 'p99' })] }),
        ],
        [
          new GraphWidget({
            title: 'Delivery queue',
            left: [this.queue.metricApproximateNumberOfMessagesVisible(), this.deadLetterQueue.metricApproximateNumberOfMessagesVisible()],
            right: [this.queue.metricApproximateAgeOfOldestMessage()],
          }),
          new GraphWidget({ title: 'Function errors', left: [events.metricErrors(), config.metricErrors(), worker.metricErrors()] }),
          new GraphWidget({ title: 'Throttles', left: [throttles] }),
        ],
      ],
    });
  }
}

/**
 * The Config API's access log: one JSON line per request with who called (IAM identity, or the source
 * address when unsigned), what (method, route, path), the outcome (status, errors) and the request ID.
 */
const CONFIG_ACCESS_LOG_FORMAT = AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    caller: '$context.identity.caller',
    user: '$context.identity.user',
    userArn: '$context.identity.userArn',
    accountId: '$context.identity.accountId',
    httpMethod: '$context.httpMethod',
    routeKey: '$context.routeKey',
    path: '$context.path',
    status: '$context.status',
    responseLength: '$context.responseLength',
    integrationError: '$context.integrationErrorMessage',
    authorizerError: '$context.authorizer.error',
  }),
);

function configAuthorizer(protection: ConfigApiProtection): IHttpRouteAuthorizer {
  if (protection === 'iam') return new HttpIamAuthorizer();
  if (protection === 'none' || isKeyMode(protection)) return new HttpNoneAuthorizer();
  return protection;
}

/** The keys' secret: given, or found by ARN or by name (the name as given, never a dynamic reference). */
function keysSecret(scope: Construct, accessKeys: ISecret | string): ISecret {
  if (typeof accessKeys !== 'string') return accessKeys;
  return accessKeys.startsWith('arn:') ? Secret.fromSecretCompleteArn(scope, 'ConfigAccessKeys', accessKeys) : Secret.fromSecretNameV2(scope, 'ConfigAccessKeys', accessKeys);
}

function isKeyMode(protection: ConfigApiProtection): protection is { accessKeys: ISecret | string } {
  return typeof protection === 'object' && 'accessKeys' in protection;
}
