import { Duration } from 'aws-cdk-lib';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type NodejsFunctionProps } from 'aws-cdk-lib/aws-lambda-nodejs';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { RemovalPolicy } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { join } from 'node:path';

/** Stands in for the SDK's credential chain in the bundles (see lib/aws/lambda-credentials.ts); `.js` when run from dist. */
const LAMBDA_CREDENTIALS = join(__dirname, '..', 'aws', `lambda-credentials${__filename.endsWith('.ts') ? '.ts' : '.js'}`);

/** Props of a gateway function: the entry file plus anything to override. */
export interface GatewayFunctionProps extends Omit<NodejsFunctionProps, 'entry'> {
  entry: string;
  logRetention?: RetentionDays;
}

/**
 * The house Lambda function: Node 22 on arm64, bundled by local esbuild (never Docker), minified
 * with source maps, AWS SDK clients bundled in (pinned versions, and smaller cold starts than the
 * runtime's full SDK), and its own log group with a retention.
 */
export class GatewayFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: GatewayFunctionProps) {
    const { logRetention, bundling, environment, ...rest } = props;
    const logGroup = new LogGroup(scope, `${id}Logs`, { retention: logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    // A role of our own instead of the managed AWSLambdaBasicExecutionRole, which may write to every log group.
    const role = rest.role ?? new Role(scope, `${id}Role`, { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    super(scope, id, {
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: 512,
      // Within API Gateway's 30 s integration timeout, so that a slow call ends in the gateway's own answer.
      timeout: Duration.seconds(29),
      // X-Ray active tracing: Lambda records each invocation and continues the trace API Gateway or SQS
      // (AWSTraceHeader) brought; the handlers derive the W3C traceparent they pass to targets from it.
      tracing: Tracing.ACTIVE,
      logGroup,
      ...rest,
      role,
      // Stack traces in the logs point at the TypeScript sources.
      environment: { EG_LOG_LEVEL: 'info', NODE_OPTIONS: '--enable-source-maps', ...environment },
      bundling: {
        forceDockerBundling: false,
        minify: true,
        sourceMap: true,
        target: 'node22',
        format: OutputFormat.CJS,
        // Prefer ES module builds (middy is ESM only) so esbuild can tree-shake them.
        mainFields: ['module', 'main'],
        externalModules: [],
        ...bundling,
        // Lambda's credentials are in the environment: the SDK's full chain would add ~90 KB to every bundle.
        esbuildArgs: { '--alias': `@aws-sdk/credential-provider-node=${LAMBDA_CREDENTIALS}`, ...bundling?.esbuildArgs },
      },
    });
    // Its own log group only: create streams and put events there, nothing else in CloudWatch Logs.
    logGroup.grant(role, 'logs:CreateLogStream', 'logs:PutLogEvents');
  }

  /** Sets the registry table's name and grants read (or read/write) access on it, together. */
  bindRegistry(table: ITable, access: 'read' | 'readWrite'): this {
    this.addEnvironment('EG_TABLE_NAME', table.tableName);
    if (access === 'read') table.grantReadData(this);
    else table.grantReadWriteData(this);
    return this;
  }

  /**
   * Sets the dead-letter queue's URL (and the delivery queue's, where replays go) and grants what the
   * Config API's dead-letter endpoints need: consuming the dead-letter queue, sending to the delivery queue.
   */
  bindDeadLetters(deadLetterQueue: IQueue, queue: IQueue): this {
    this.addEnvironment('EG_DEAD_LETTER_QUEUE_URL', deadLetterQueue.queueUrl);
    deadLetterQueue.grantConsumeMessages(this);
    return this.bindDeliveryQueue(queue);
  }

  /** Sets the dead-letter queue's URL and grants sending to it: the worker moves deliveries out of retries itself. */
  bindDeadLetterTarget(deadLetterQueue: IQueue): this {
    this.addEnvironment('EG_DEAD_LETTER_QUEUE_URL', deadLetterQueue.queueUrl);
    deadLetterQueue.grantSendMessages(this);
    return this;
  }

  /**
   * Key mode: names the secret the Config API's access keys are read from at run time (never its value:
   * the environment is visible to lambda:GetFunctionConfiguration) and grants reading it, to this function only.
   */
  bindConfigKeys(secret: ISecret): ISecret {
    this.addEnvironment('EG_CONFIG_KEYS_SECRET', secret.secretFullArn ?? secret.secretName);
    secret.grantRead(this);
    return secret;
  }

  /** Sets the delivery queue's URL and grants sending to it, together. */
  bindDeliveryQueue(queue: IQueue): this {
    this.addEnvironment('EG_QUEUE_URL', queue.queueUrl);
    queue.grantSendMessages(this);
    return this;
  }
}
