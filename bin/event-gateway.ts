#!/usr/bin/env node
import { main } from '../lib/server/main';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { version } = require('../../package.json') as { version: string };

main(process.argv.slice(2), version).catch((err: unknown) => {
  process.stderr.write(`event-gateway: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
