import { Stack } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/**
 * Which targets the gateway may invoke (AWS function types), by explicit ARNs or ARN patterns. A
 * service listed here is reachable only at these ARNs; services left out keep the opt-in default
 * (tag or name prefix, see TargetAccess).
 */
export interface TargetScope {
  lambdaFunctions?: string[];
  sqsQueues?: string[];
  kinesisStreams?: string[];
  firehoseStreams?: string[];
  eventBuses?: string[];
}

/** The resource tag that opts a target in (`aws:ResourceTag/<key>` = `<value>`). */
export interface TargetTag {
  key: string;
  value: string;
}

/** How targets opt in to being invoked by the gateway. */
export interface TargetAccess {
  /** Default `event-gateway:target` = `true`; `false` turns tag opt-in off. */
  tag?: TargetTag | false;
  /** Names starting with this opt in, on every service (default `eg-target-`); `false` turns it off. */
  namePrefix?: string | false;
  /** Explicit ARNs per service; they replace the tag and the prefix for that service. */
  scope?: TargetScope;
}

export const DEFAULT_TARGET_TAG: TargetTag = { key: 'event-gateway:target', value: 'true' };
export const DEFAULT_TARGET_PREFIX = 'eg-target-';

interface TargetService {
  scopeKey: keyof TargetScope;
  action: string;
  service: string;
  /** The ARN's resource part for a name (pattern). */
  resource: (name: string) => string;
  /**
   * Whether IAM evaluates `aws:ResourceTag` for this action. Lambda (ABAC for the actions on a function,
   * July 2022) and SQS (ABAC for queues, 2022) document it; for Kinesis PutRecord, Firehose PutRecord and
   * EventBridge PutEvents we found no documentation that the resource tag is evaluated for the action, so
   * they opt in by name prefix (or explicit ARNs) only, rather than by a statement that may never match.
   */
  tagConditions: boolean;
}

const SERVICES: readonly TargetService[] = [
  { scopeKey: 'lambdaFunctions', action: 'lambda:InvokeFunction', service: 'lambda', resource: (n) => `function:${n}`, tagConditions: true },
  { scopeKey: 'sqsQueues', action: 'sqs:SendMessage', service: 'sqs', resource: (n) => n, tagConditions: true },
  { scopeKey: 'kinesisStreams', action: 'kinesis:PutRecord', service: 'kinesis', resource: (n) => `stream/${n}`, tagConditions: false },
  { scopeKey: 'firehoseStreams', action: 'firehose:PutRecord', service: 'firehose', resource: (n) => `deliverystream/${n}`, tagConditions: false },
  { scopeKey: 'eventBuses', action: 'events:PutEvents', service: 'events', resource: (n) => `event-bus/${n}`, tagConditions: false },
];

/**
 * The policy statements that let a role call targets: per service one action, on explicit ARNs when
 * the scope names them, otherwise on resources of the stack's account and region that carry the
 * target tag (where IAM evaluates it) or whose name starts with the prefix. Nothing else.
 */
export function targetStatements(stack: Stack, access: TargetAccess = {}): PolicyStatement[] {
  const tag = access.tag === undefined ? DEFAULT_TARGET_TAG : access.tag;
  const prefix = access.namePrefix === undefined ? DEFAULT_TARGET_PREFIX : access.namePrefix;
  const own = (service: TargetService, name: string) => `arn:${stack.partition}:${service.service}:${stack.region}:${stack.account}:${service.resource(name)}`;
  const statements: PolicyStatement[] = [];
  for (const service of SERVICES) {
    const explicit = access.scope?.[service.scopeKey];
    if (explicit) {
      if (explicit.length > 0) statements.push(new PolicyStatement({ actions: [service.action], resources: explicit }));
      continue;
    }
    if (tag && service.tagConditions) {
      statements.push(
        new PolicyStatement({
          actions: [service.action],
          resources: [own(service, '*')],
          conditions: { StringEquals: { [`aws:ResourceTag/${tag.key}`]: tag.value } },
        }),
      );
    }
    if (prefix) statements.push(new PolicyStatement({ actions: [service.action], resources: [own(service, `${prefix}*`)] }));
  }
  return statements;
}

/** A statement that denies invoking the given functions (the gateway's own), whatever else allows it. */
export function denyInvoking(functionArns: string[]): PolicyStatement {
  return new PolicyStatement({
    effect: Effect.DENY,
    actions: ['lambda:InvokeFunction'],
    // Versions and aliases too.
    resources: functionArns.flatMap((arn) => [arn, `${arn}:*`]),
  });
}

/** Sorts explicit target ARNs (e.g. from `-c targetArns=a,b`) into a scope by their service. */
export function targetScopeFromArns(arns: string[]): TargetScope {
  const scope: TargetScope = {};
  for (const arn of arns) {
    const serviceName = arn.split(':')[2];
    const service = SERVICES.find((s) => s.service === serviceName);
    if (!service) throw new Error(`targetArns: "${arn}" is not an ARN of lambda, sqs, kinesis, firehose or events`);
    (scope[service.scopeKey] ??= []).push(arn);
  }
  return scope;
}

/**
 * The target access chosen by CDK context: `targetTag` (`key=value`, `key` meaning `key=true`, or
 * `none`), `targetPrefix` (a name prefix, or `none`), `targetArns` (comma-separated ARNs).
 */
export function targetAccessFromContext(context: { targetTag?: unknown; targetPrefix?: unknown; targetArns?: unknown }): TargetAccess {
  const access: TargetAccess = {};
  const text = (value: unknown) => (value === undefined ? undefined : String(value).trim());
  const tag = text(context.targetTag);
  if (tag !== undefined) {
    if (tag === 'none' || tag === 'false') access.tag = false;
    else {
      const at = tag.indexOf('=');
      access.tag = at < 0 ? { key: tag, value: 'true' } : { key: tag.slice(0, at), value: tag.slice(at + 1) };
    }
  }
  const prefix = text(context.targetPrefix);
  if (prefix !== undefined) access.namePrefix = prefix === 'none' || prefix === 'false' || prefix === '' ? false : prefix;
  const arns = text(context.targetArns);
  if (arns) access.scope = targetScopeFromArns(arns.split(',').map((a) => a.trim()).filter((a) => a !== ''));
  return access;
}
