import FindMyWay from 'find-my-way';
import type { DeadLetters } from '../delivery/queue';
import { GatewayError, NotFoundError, publicMessage } from '../errors';
import { decodeOrKeep, type IncomingRequest } from '../events/request';
import { errorResponse, jsonResponse, type GatewayResponse } from '../gateway/response';
import type { GatewayMetrics } from '../gateway/metrics';
import type { GatewayStatus } from '../health';
import type { Logger } from '../logger';
import { corsNames, eventTypeNames, functionNames, invalid, subscriptionNames, type ResourceNames } from '../registry/resources';
import type { MetadataFilter, RegistryService } from '../registry/service';
import { consoleResponse, isConsolePath, type ConsoleFiles } from './console';
import type { EventType } from '../registry/types';

/** What a Config API handler gets: the space, the resource ID from the URL, the body and the list filter. */
interface ConfigCall {
  space: string;
  id: string;
  body: () => unknown;
  filter: MetadataFilter;
}

interface ConfigRoute {
  resource: string;
  operation: string;
  handle: (call: ConfigCall) => Promise<GatewayResponse>;
}

export interface ConfigApiDeps {
  registry: RegistryService;
  metrics: GatewayMetrics;
  logger: Logger;
  /** The Prometheus exposition for `GET /v1/metrics`. */
  renderMetrics: () => Promise<{ contentType: string; body: string }>;
  /** Dead letters of async delivery; absent when delivery keeps none (the in-memory mode). */
  deadLetters?: DeadLetters;
  /** The gateway's readiness for `GET /v1/status`; without it the status is always ok. */
  status?: () => GatewayStatus | Promise<GatewayStatus>;
  /** The built web console served at /console; absent or unbuilt, /console answers 404. */
  console?: ConsoleFiles;
}

const NO_DEAD_LETTERS = 'Dead letters are kept only with durable delivery (--delivery=durable).';
const deadLetterNames: ResourceNames = {
  invalid: 'Dead letter',
  struct: 'DeadLetter',
  exists: (id) => `Dead letter "${id}" already exists.`,
  missing: (id) => `Dead letter "${id}" not found.`,
};

const NO_TAIL = 'The live tail is served by the local server (event-gateway) only; on AWS, follow the console (it polls) or CloudWatch.';

const NO_CONTENT: GatewayResponse = { statusCode: 204, headers: {}, body: '' };

/** JSON body of a request; a malformed one is the resource's "doesn't validate" error. */
function jsonBody(req: IncomingRequest, names: ResourceNames): () => unknown {
  return () => {
    const text = req.body.toString('utf8');
    if (text.trim() === '') throw invalid(names, 'unexpected end of JSON input');
    try {
      return JSON.parse(text);
    } catch (err) {
      throw invalid(names, `malformed JSON: ${(err as Error).message}`);
    }
  };
}

/** (ext) An event type's schema as a JSON Schema document; 404 when the type has none. */
function schemaResponse(eventType: EventType): GatewayResponse {
  if (eventType.schema === undefined) throw new NotFoundError(`Event Type "${eventType.name}" has no schema.`);
  return { statusCode: 200, headers: { 'content-type': 'application/schema+json' }, body: JSON.stringify(eventType.schema) };
}

/** `metadata.<key>=<value>` query parameters. */
function metadataFilter(query: string): MetadataFilter {
  const filter: MetadataFilter = {};
  for (const [key, value] of new URLSearchParams(query)) {
    if (key.startsWith('metadata.') && key.length > 'metadata.'.length) filter[key.slice('metadata.'.length)] = value;
  }
  return filter;
}

/**
 * The Config API as a function from request to response, usable behind node:http and API Gateway
 * alike. Routing is find-my-way's; the registry service does the work.
 */
export class ConfigApi {
  private readonly router = FindMyWay({ ignoreTrailingSlash: true, caseSensitive: true, maxParamLength: 1000 });
  private readonly names = new Map<string, ResourceNames>();

  constructor(private readonly deps: ConfigApiDeps) {
    this.addResource('eventtypes', 'eventTypes', eventTypeNames, {
      create: (c) => deps.registry.createEventType(c.space, c.body()),
      get: (c) => deps.registry.getEventType(c.space, c.id),
      list: (c) => deps.registry.listEventTypes(c.space, c.filter),
      update: (c) => deps.registry.updateEventType(c.space, c.id, c.body()),
      remove: (c) => deps.registry.deleteEventType(c.space, c.id),
    });
    this.router.on('GET', '/v1/spaces/:space/eventtypes/:id/schema', () => {}, {
      resource: 'eventtypes',
      operation: 'get',
      handle: async (c) => schemaResponse(await deps.registry.getEventType(c.space, c.id)),
    } satisfies ConfigRoute);
    this.addResource('functions', 'functions', functionNames, {
      create: (c) => deps.registry.createFunction(c.space, c.body()),
      get: (c) => deps.registry.getFunction(c.space, c.id),
      list: (c) => deps.registry.listFunctions(c.space, c.filter),
      update: (c) => deps.registry.updateFunction(c.space, c.id, c.body()),
      remove: (c) => deps.registry.deleteFunction(c.space, c.id),
    });
    this.addResource('subscriptions', 'subscriptions', subscriptionNames, {
      create: (c) => deps.registry.createSubscription(c.space, c.body()),
      get: (c) => deps.registry.getSubscription(c.space, c.id),
      list: (c) => deps.registry.listSubscriptions(c.space, c.filter),
      update: (c) => deps.registry.updateSubscription(c.space, c.id, c.body()),
      remove: (c) => deps.registry.deleteSubscription(c.space, c.id),
    });
    this.addResource('cors', 'cors', corsNames, {
      create: (c) => deps.registry.createCors(c.space, c.body()),
      get: (c) => deps.registry.getCors(c.space, c.id),
      list: (c) => deps.registry.listCors(c.space, c.filter),
      update: (c) => deps.registry.updateCors(c.space, c.id, c.body()),
      remove: (c) => deps.registry.deleteCors(c.space, c.id),
    });
    this.addDeadLetterRoutes(deps.deadLetters);
    // The local server answers tails itself, before this API (they stream); what reaches here cannot.
    this.router.on('GET', '/v1/spaces/:space/tail', () => {}, {
      resource: 'tail',
      operation: 'get',
      handle: () => Promise.reject(new GatewayError(NO_TAIL, 501, { expose: true })),
    } satisfies ConfigRoute);
  }

  /** Handles one request; never throws. */
  async handle(req: IncomingRequest): Promise<GatewayResponse> {
    if (req.method === 'GET' && req.path === '/v1/status') {
      // Readiness: 503 while a dependency is unavailable, so that load balancers send elsewhere.
      const status = (await this.deps.status?.()) ?? { status: 'ok' };
      return jsonResponse(status.status === 'ok' ? 200 : 503, status);
    }
    // Liveness: the process runs and answers, whatever its dependencies do.
    if (req.method === 'GET' && req.path === '/v1/status/live') return jsonResponse(200, { status: 'ok' });
    if (isConsolePath(req.method, req.path)) return consoleResponse(req.path, this.deps.console);
    if (req.method === 'GET' && req.path === '/v1/metrics') {
      const { contentType, body } = await this.deps.renderMetrics();
      return { statusCode: 200, headers: { 'content-type': contentType }, body };
    }
    const found = this.router.find(req.method as FindMyWay.HTTPMethod, req.path);
    if (!found) return errorResponse(404, `Not found: ${req.method} ${req.path}`);
    const route = found.store as ConfigRoute;
    const segments = req.path.split('/');
    const space = decodeOrKeep(segments[3] ?? '');
    // IDs are matched as sent (a CORS ID stays escaped), so take the raw segment rather than the decoded param.
    const id = segments[5] ?? '';
    const names = this.names.get(route.resource) as ResourceNames;
    const call: ConfigCall = { space, id, body: jsonBody(req, names), filter: metadataFilter(req.query) };
    const started = performance.now();
    try {
      return await route.handle(call);
    } catch (err) {
      const { statusCode, message, headers } = publicMessage(err);
      if (statusCode >= 500) this.deps.logger.error({ err }, 'config request failed');
      return errorResponse(statusCode, message, headers);
    } finally {
      this.deps.metrics.configRequest(space, route.resource, route.operation, (performance.now() - started) / 1000);
    }
  }

  /** (ext) Dead letters: list, replay one or all, delete one or all. */
  private addDeadLetterRoutes(deadLetters: DeadLetters | undefined): void {
    const base = '/v1/spaces/:space/deadletters';
    this.names.set('deadletters', deadLetterNames);
    const on = (method: FindMyWay.HTTPMethod, path: string, operation: string, handle: (d: DeadLetters, c: ConfigCall) => Promise<GatewayResponse>) =>
      this.router.on(method, path, () => {}, {
        resource: 'deadletters',
        operation,
        handle: (c) => (deadLetters ? handle(deadLetters, c) : Promise.reject(new GatewayError(NO_DEAD_LETTERS, 501, { expose: true }))),
      } satisfies ConfigRoute);
    const mustExist = (count: number, id: string) => {
      if (count === 0) throw new NotFoundError(`Dead letter "${id}" not found.`);
    };
    on('GET', base, 'list', async (d, c) => jsonResponse(200, { deadLetters: await d.list(c.space) }));
    on('POST', `${base}/replay`, 'replay', async (d, c) => jsonResponse(202, { replayed: await d.replay(c.space) }));
    on('POST', `${base}/:id/replay`, 'replay', async (d, c) => {
      const replayed = await d.replay(c.space, c.id);
      mustExist(replayed, c.id);
      return jsonResponse(202, { replayed });
    });
    on('DELETE', base, 'delete', async (d, c) => jsonResponse(200, { deleted: await d.remove(c.space) }));
    on('DELETE', `${base}/:id`, 'delete', async (d, c) => {
      mustExist(await d.remove(c.space, c.id), c.id);
      return NO_CONTENT;
    });
  }

  private addResource(
    segment: string,
    listKey: string,
    names: ResourceNames,
    ops: {
      create: (c: ConfigCall) => Promise<unknown>;
      get: (c: ConfigCall) => Promise<unknown>;
      list: (c: ConfigCall) => Promise<unknown[]>;
      update: (c: ConfigCall) => Promise<unknown>;
      remove: (c: ConfigCall) => Promise<void>;
    },
  ): void {
    this.names.set(segment, names);
    const base = `/v1/spaces/:space/${segment}`;
    const on = (method: FindMyWay.HTTPMethod, path: string, operation: string, handle: ConfigRoute['handle']) =>
      this.router.on(method, path, () => {}, { resource: segment, operation, handle } satisfies ConfigRoute);
    on('POST', base, 'create', async (c) => jsonResponse(201, await ops.create(c)));
    on('GET', base, 'list', async (c) => jsonResponse(200, { [listKey]: await ops.list(c) }));
    on('GET', `${base}/:id`, 'get', async (c) => jsonResponse(200, await ops.get(c)));
    on('PUT', `${base}/:id`, 'update', async (c) => jsonResponse(200, await ops.update(c)));
    on('DELETE', `${base}/:id`, 'delete', async (c) => {
      await ops.remove(c);
      return NO_CONTENT;
    });
  }
}
