import { ENDPOINT_VAR, startDynamoDbLocal } from './dynamodb-local';

/** Starts one DynamoDB Local for the whole run; test files create their own tables in it. */
export default async function globalSetup(): Promise<void> {
  const local = await startDynamoDbLocal();
  process.env[ENDPOINT_VAR] = local.endpoint;
  (globalThis as { __dynamoDbLocal?: { stop: () => Promise<void> } }).__dynamoDbLocal = local;
}
