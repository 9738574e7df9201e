import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';

/** Env var through which test files find the DynamoDB Local endpoint started by the global setup. */
export const ENDPOINT_VAR = 'EG_DYNAMODB_LOCAL_ENDPOINT';

/** Credentials DynamoDB Local accepts (it checks only that some are given). */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`DynamoDB Local exited with ${child.exitCode}: ${output()}`);
      try {
        await client.send(new ListTablesCommand({}));
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start within 30 s: ${String(err)} ${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
}

/**
 * Starts AWS's DynamoDB Local jar (shipped in `amplify-dynamodb-simulator`) in memory on a free port,
 * or on disk in `dbPath` and on `port` (a restart then finds its tables again: the fault tests kill it).
 * Java is required: when it is missing this throws, so the DynamoDB tests fail rather than skip.
 */
export async function startDynamoDbLocal(options: { port?: number; dbPath?: string } = {}): Promise<{ endpoint: string; port: number; stop: (signal?: NodeJS.Signals) => Promise<void> }> {
  const emulator = join(dirname(require.resolve('amplify-dynamodb-simulator/package.json')), 'emulator');
  const port = options.port ?? (await freePort());
  const storage = options.dbPath ? ['-sharedDb', '-dbPath', options.dbPath] : ['-inMemory'];
  const args = [`-Djava.library.path=${join(emulator, 'DynamoDBLocal_lib')}`, '-jar', join(emulator, 'DynamoDBLocal.jar'), ...storage, '-disableTelemetry', '-port', String(port)];
  // Its working directory gets a metadata file; keep that out of the checkout. No telemetry: tests stay on loopback.
  const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: tmpdir() });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', (err) => reject(new Error(`cannot run java for DynamoDB Local (is Java 17 installed?): ${err.message}`)));
  });
  await spawned;
  const endpoint = `http://127.0.0.1:${port}`;
  await waitUntilServing(endpoint, child, () => output);
  return {
    endpoint,
    port,
    stop: (signal: NodeJS.Signals = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      }),
  };
}

/** The endpoint of the DynamoDB Local the global setup started; throws when there is none. */
export function dynamoDbLocalEndpoint(): string {
  const endpoint = process.env[ENDPOINT_VAR];
  if (!endpoint) throw new Error(`${ENDPOINT_VAR} is not set: DynamoDB Local was not started by jest's globalSetup`);
  return endpoint;
}

/** A DynamoDB client config pointed at the test's DynamoDB Local. */
export function localDynamoDbConfig() {
  return { endpoint: dynamoDbLocalEndpoint(), region: 'us-east-1', credentials: LOCAL_CREDENTIALS };
}

let tableCounter = 0;
/** A table name no other test uses. */
export function uniqueTableName(prefix = 'registry'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${++tableCounter}`;
}
