#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EventGatewayStack } from '../lib/infra/gateway-stack';
import { suppressAcceptedFindings } from '../lib/infra/nag';

const app = new App();
const keysSecret: string | undefined = app.node.tryGetContext('configAccessKeysSecret');
const stack = new EventGatewayStack(app, app.node.tryGetContext('stackName') ?? 'EventGateway', {
  configApiProtection: keysSecret ? { accessKeys: keysSecret } : app.node.tryGetContext('configApiProtection') === 'none' ? 'none' : 'iam',
});
suppressAcceptedFindings(stack);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
