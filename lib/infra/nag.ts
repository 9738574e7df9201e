import { Validations } from 'aws-cdk-lib';
import type { EventGatewayStack } from './gateway-stack';

const TARGET_PATTERNS = [
  'lambda:<AWS::Region>:<AWS::AccountId>:function:*',
  'sqs:<AWS::Region>:<AWS::AccountId>:*',
  'kinesis:<AWS::Region>:<AWS::AccountId>:stream/*',
  'firehose:<AWS::Region>:<AWS::AccountId>:deliverystream/*',
  'events:<AWS::Region>:<AWS::AccountId>:event-bus/*',
];

/** Our answers to cdk-nag's AwsSolutions findings that are choices, not oversights. */
export function suppressAcceptedFindings(stack: EventGatewayStack): void {
  const acknowledge = (id: string, reason: string) => Validations.of(stack).acknowledge({ id: `AwsSolutions::${id}`, reason });
  acknowledge(
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    "AWSLambdaBasicExecutionRole only lets the functions write their own logs; a hand-written copy would say the same.",
  );
  acknowledge(
    'AwsSolutions-APIG1',
    'Each Lambda handler logs every request with its API Gateway request ID; stage access logs would duplicate them at extra cost.',
  );
  acknowledge(
    'AwsSolutions-APIG4',
    'The Events API is public by design, as in the original gateway: event types are guarded by authorizer functions. The Config API uses IAM unless configApiProtection says otherwise.',
  );
  acknowledge('AwsSolutions-L1', 'Node.js 22 is the runtime the handlers are built for and tested on (target node22); move with the project, not with each new runtime.');
  for (const pattern of TARGET_PATTERNS) {
    acknowledge(
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${pattern}]`,
      'The gateway invokes targets registered at run time through the Config API, so it cannot know their ARNs at deploy time. The default scope is the own account and region, one action per service; narrow it with the targetScope prop.',
    );
  }
}
