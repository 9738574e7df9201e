import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { errorResponse, type GatewayResponse } from '../gateway/response';

/** The built web console's files (see scripts/build-console.mjs). */
export interface ConsoleFiles {
  /** A file's bytes, or undefined when the console is not built. */
  read(name: ConsoleFile): Promise<Buffer | undefined>;
}

const TYPES = {
  'index.html': 'text/html; charset=utf-8',
  'app.js': 'text/javascript; charset=utf-8',
  'app.css': 'text/css; charset=utf-8',
} as const;

export type ConsoleFile = keyof typeof TYPES;

/** The page may load only its own script and stylesheet and talk only to this API. */
const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Whether a request is for the console (served without an access key: it holds no data, and asks for a key itself). */
export function isConsolePath(method: string, path: string): boolean {
  return method === 'GET' && (path === '/console' || path.startsWith('/console/'));
}

/**
 * The console's files from the first of `directories` that holds a built console, read once and kept
 * in memory (three small files).
 */
export function consoleDirectory(directories: readonly string[]): ConsoleFiles {
  const cache = new Map<ConsoleFile, Promise<Buffer | undefined>>();
  const directory = () => directories.find((dir) => existsSync(join(dir, 'index.html')));
  return {
    read(name) {
      let file = cache.get(name);
      if (!file) {
        const dir = directory();
        file = dir ? readFile(join(dir, name)).catch(() => undefined) : Promise.resolve(undefined);
        if (dir) cache.set(name, file);
      }
      return file;
    },
  };
}

/** The answer to a console request: a file, the redirect from `/console` to `/console/`, or a 404. */
export async function consoleResponse(path: string, files: ConsoleFiles | undefined): Promise<GatewayResponse> {
  if (path === '/console') return { statusCode: 301, headers: { location: '/console/' }, body: '' };
  const rest = path.slice('/console/'.length);
  const name: ConsoleFile | undefined = rest === '' || rest === 'index.html' ? 'index.html' : rest in TYPES ? (rest as ConsoleFile) : undefined;
  if (!name) return errorResponse(404, `Not found: GET ${path}`);
  const body = await files?.read(name);
  if (!body) return errorResponse(404, 'The console is not built: run npm run build.');
  // All three are text: as a string, API Gateway passes them through rather than base64-encoded.
  return { statusCode: 200, headers: { 'content-type': TYPES[name], ...SECURITY_HEADERS }, body: body.toString('utf8') };
}
