/** Stops the DynamoDB Local the global setup started. */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __dynamoDbLocal?: { stop: () => Promise<void> } }).__dynamoDbLocal?.stop();
}
