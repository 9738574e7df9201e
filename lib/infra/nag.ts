import { Validations } from 'aws-cdk-lib';
import type { EventGatewayStack } from './gateway-stack';
import { DEFAULT_TARGET_PREFIX, DEFAULT_TARGET_TAG } from './targets';

/** Our answers to cdk-nag's AwsSolutions findings that are choices, not oversights. */
export function suppressAcceptedFindings(stack: EventGatewayStack): void {
  const acknowledge = (id: string, reason: string) => Validations.of(stack).acknowledge({ id: `AwsSolutions::${id}`, reason });
  acknowledge(
    'AwsSolutions-APIG1',
    'The Config API stage writes access logs (JSON, with the IAM identity). The Events API does not: its handler logs every request with its API Gateway request ID, and stage logs per event would double the log volume of the busiest API.',
  );
  acknowledge(
    'AwsSolutions-APIG4',
    'The Events API is public by design, as in the original gateway: event types are guarded by authorizer functions. The Config API uses IAM unless configApiProtection says otherwise.',
  );
  acknowledge(
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray active tracing: xray:PutTraceSegments and xray:PutTelemetryRecords take no resource-level permissions (AWS documents Resource "*" for them), as in the managed AWSXRayDaemonWriteAccess policy.',
  );
  acknowledge('AwsSolutions-L1', 'Node.js 22 is the runtime the handlers are built for and tested on (target node22); move with the project, not with each new runtime.');
  const { tag, namePrefix, scope = {} } = stack.targetAccess;
  const tagged = tag === undefined ? DEFAULT_TARGET_TAG : tag;
  const prefix = namePrefix === undefined ? DEFAULT_TARGET_PREFIX : namePrefix;
  const own = (pattern: string) => `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${pattern.replace(':', ':<AWS::Region>:<AWS::AccountId>:')}]`;
  const optIn =
    'The gateway invokes targets registered at run time, so their ARNs are unknown at deploy time. A target opts in: its name starts with the target prefix (this pattern), or it carries the target tag (the statement is conditioned on aws:ResourceTag). One action per service, own account and region; the gateway\'s own functions are denied explicitly. Narrow it further with targetScope / -c targetArns.';
  if (tagged) {
    if (!scope.lambdaFunctions) acknowledge(own('lambda:function:*'), optIn);
    if (!scope.sqsQueues) acknowledge(own('sqs:*'), optIn);
  }
  if (prefix) {
    const patterns = [
      ['lambdaFunctions', `lambda:function:${prefix}*`],
      ['sqsQueues', `sqs:${prefix}*`],
      ['kinesisStreams', `kinesis:stream/${prefix}*`],
      ['firehoseStreams', `firehose:deliverystream/${prefix}*`],
      ['eventBuses', `events:event-bus/${prefix}*`],
    ] as const;
    for (const [service, pattern] of patterns) if (!scope[service]) acknowledge(own(pattern), optIn);
  }
}
