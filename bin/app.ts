#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EventGatewayStack } from '../lib/infra/gateway-stack';
import { suppressAcceptedFindings } from '../lib/infra/nag';
import { targetAccessFromContext } from '../lib/infra/targets';

const app = new App();
const context = (key: string): string | undefined => app.node.tryGetContext(key);
const keysSecret = context('configAccessKeysSecret');
// -c targetTag=key=value|none, -c targetPrefix=eg-target-|none, -c targetArns=arn,arn (see README, Deploy to AWS).
const targets = targetAccessFromContext({ targetTag: context('targetTag'), targetPrefix: context('targetPrefix'), targetArns: context('targetArns') });
const alarmEmail = context('alarmEmail');
// -c plugins=./plugins/a.ts,./plugins/b.ts: plugin entry files bundled into the Events API and worker handlers.
const plugins = (context('plugins') ?? '').split(',').map((file) => file.trim()).filter((file) => file !== '');
const stack = new EventGatewayStack(app, context('stackName') ?? 'EventGateway', {
  configApiProtection: keysSecret ? { accessKeys: keysSecret } : context('configApiProtection') === 'none' ? 'none' : 'iam',
  ...(targets.scope ? { targetScope: targets.scope } : {}),
  ...(targets.tag !== undefined ? { targetTag: targets.tag } : {}),
  ...(targets.namePrefix !== undefined ? { targetNamePrefix: targets.namePrefix } : {}),
  ...(alarmEmail ? { alarmEmail } : {}),
  ...(plugins.length > 0 ? { plugins } : {}),
});
suppressAcceptedFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
