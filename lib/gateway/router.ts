import { randomUUID } from 'node:crypto';
import { FunctionCallError, GatewayError, ValidationError, publicMessage } from '../errors';
import { HTTP_REQUEST_EVENT, isSystemEventType, type CloudEventV01 } from '../events/cloudevent';
import { eventFromRequest, flattenHeaders, parseQuery, type HttpRequestData } from '../events/parse';
import { headerValue, type IncomingRequest } from '../events/request';
import type { Delivery, DeliveryQueue } from '../delivery/queue';
import type { Logger } from '../logger';
import { TargetError } from '../providers/provider';
import type { Route, RoutedFunction, RoutingTable } from '../routing/table';
import { authorize } from './authorizer';
import { corsHeaders, preflightResponse } from './cors';
import type { GatewayMetrics } from './metrics';
import { errorResponse, type GatewayResponse } from './response';
import { parseSyncResult } from './sync-result';
import { SystemEvents } from './system-events';

/** Where the router gets the current routing table from. */
export interface RoutingSource {
  current(): RoutingTable | Promise<RoutingTable>;
}

export interface EventRouterDeps {
  routing: RoutingSource;
  queue: DeliveryQueue;
  metrics: GatewayMetrics;
  logger: Logger;
}

const ACCEPTED: GatewayResponse = { statusCode: 202, headers: {}, body: '' };

/**
 * One request in, one response out: turns the request into an event, authorizes it, lets a sync
 * subscriber answer and hands the event to async subscribers. Also performs queued deliveries.
 */
export class EventRouter {
  private readonly system: SystemEvents;

  constructor(private readonly deps: EventRouterDeps) {
    this.system = new SystemEvents(deps.queue, deps.logger);
  }

  /** Handles one request to the Events API; never throws. */
  async handle(req: IncomingRequest): Promise<GatewayResponse> {
    try {
      return await this.route(req);
    } catch (err) {
      const { statusCode, message } = publicMessage(err);
      if (statusCode >= 500 && !(err instanceof GatewayError)) this.deps.logger.error({ err }, 'event handling failed');
      return errorResponse(statusCode, message);
    }
  }

  /** Performs one async delivery: the queue's worker. Rejects when the target call failed. */
  deliver = async (delivery: Delivery): Promise<void> => {
    const table = await this.deps.routing.current();
    const fn = table.function(delivery.space, delivery.functionId);
    if (!fn) {
      this.deps.logger.warn({ delivery: delivery.deliveryId, functionId: delivery.functionId }, 'function of a queued delivery is gone; dropped');
      return;
    }
    const context = { deliveryId: delivery.deliveryId, eventId: delivery.eventId };
    await this.invoke(table, delivery.space, fn, delivery.eventType, delivery.payload, context);
  };

  private async route(req: IncomingRequest): Promise<GatewayResponse> {
    const table = await this.deps.routing.current();
    const origin = headerValue(req.headers, 'origin');
    const preflightMethod = req.method === 'OPTIONS' ? headerValue(req.headers, 'access-control-request-method') : undefined;
    if (preflightMethod) {
      const answer = this.preflight(table, req, origin, preflightMethod);
      if (answer) return answer;
    }
    const event = eventFromRequest(req);
    if (isSystemEventType(event.eventType)) {
      throw new ValidationError(`Event type "${event.eventType}" is reserved for the gateway's system events.`);
    }
    const spaces = table.spaceNames();
    for (const space of spaces) this.received(table, space, event, req);

    const sync = this.findSync(table, spaces, req, event.eventType);
    const cors = sync ? table.cors(sync.space, req.method, req.path) : this.findCors(table, spaces, req);
    const extraHeaders = corsHeaders(cors, origin);

    await this.fanOut(table, spaces, req, event);
    if (!sync) {
      this.processed(table, spaces, event.eventType);
      return Object.keys(extraHeaders).length > 0 ? { ...ACCEPTED, headers: extraHeaders } : ACCEPTED;
    }
    const response = await this.answer(table, sync.space, sync.route, sync.params, req, event);
    this.processed(table, spaces, event.eventType);
    Object.assign(response.headers, extraHeaders);
    return response;
  }

  private preflight(table: RoutingTable, req: IncomingRequest, origin: string | undefined, method: string): GatewayResponse | undefined {
    for (const space of table.spaceNames()) {
      const config = table.cors(space, method.toUpperCase(), req.path);
      if (config) return preflightResponse(config, origin, method, headerValue(req.headers, 'access-control-request-headers'));
    }
    return undefined;
  }

  private findCors(table: RoutingTable, spaces: string[], req: IncomingRequest) {
    for (const space of spaces) {
      const config = table.cors(space, req.method, req.path);
      if (config) return config;
    }
    return undefined;
  }

  private findSync(table: RoutingTable, spaces: string[], req: IncomingRequest, eventType: string) {
    for (const space of spaces) {
      const match = table.syncRoute(space, req.method, req.path, eventType);
      if (match) return { space, ...match };
    }
    return undefined;
  }

  private received(table: RoutingTable, space: string, event: CloudEventV01, req: IncomingRequest): void {
    if (!table.eventType(space, event.eventType)) return;
    this.deps.metrics.eventReceived(space, event.eventType);
    this.system.emit(table, space, 'eventgateway.event.received', () => ({
      event,
      path: req.path,
      headers: flattenHeaders(req.headers),
    }));
  }

  private processed(table: RoutingTable, spaces: string[], eventType: string): void {
    for (const space of spaces) if (table.eventType(space, eventType)) this.deps.metrics.eventProcessed(space, eventType);
  }

  /** Queues the event for every async subscriber the authorizer lets through; never waits for targets. */
  private async fanOut(table: RoutingTable, spaces: string[], req: IncomingRequest, event: CloudEventV01): Promise<void> {
    for (const space of spaces) {
      const routes = table.asyncRoutes(space, req.method, req.path, event.eventType);
      if (routes.length === 0) continue;
      const authorized = await this.authorized(table, space, event, req);
      if (!authorized) continue;
      await this.enqueue(space, routes, authorized);
    }
  }

  private async enqueue(space: string, routes: readonly Route[], event: CloudEventV01): Promise<void> {
    const payload = JSON.stringify(event);
    const deliveries = routes.map((route) => ({
      deliveryId: randomUUID(),
      space,
      subscriptionId: route.subscription.subscriptionId,
      functionId: route.subscription.functionId,
      eventType: event.eventType,
      eventId: event.eventID,
      payload,
    }));
    const refused = await this.deps.queue.enqueue(deliveries);
    for (const delivery of refused) {
      this.deps.metrics.eventDropped(space, delivery.eventType);
      this.deps.logger.warn({ space, eventType: delivery.eventType, functionId: delivery.functionId }, 'delivery backlog full; event dropped');
    }
    this.deps.metrics.setBacklog(this.deps.queue.backlog());
  }

  /** The event as its subscribers in a space may see it, or undefined when the space's authorizer denies it. */
  private async authorized(table: RoutingTable, space: string, event: CloudEventV01, req: IncomingRequest): Promise<CloudEventV01 | undefined> {
    const authorizerId = table.eventType(space, event.eventType)?.authorizerId;
    if (!authorizerId) return event;
    const authorizer = table.function(space, authorizerId);
    const result = authorizer ? await authorize(authorizer.provider, event, requestData(req)) : { allowed: false as const, reason: 'authorizer missing' };
    if (!result.allowed) {
      this.deps.logger.info({ space, eventType: event.eventType, reason: result.reason }, 'event denied by authorizer');
      return undefined;
    }
    const gatewayExtension = { ...((event.extensions?.eventgateway as object | undefined) ?? {}), authorization: result.authorization };
    return { ...event, extensions: { ...event.extensions, eventgateway: gatewayExtension } };
  }

  /** Calls the sync subscriber and turns its result into the HTTP response. */
  private async answer(
    table: RoutingTable,
    space: string,
    route: Route,
    params: Record<string, string>,
    req: IncomingRequest,
    incoming: CloudEventV01,
  ): Promise<GatewayResponse> {
    const authorized = await this.authorized(table, space, incoming, req);
    if (!authorized) return errorResponse(403, 'Forbidden. The event was denied by its authorizer.');
    const event = incoming.eventType === HTTP_REQUEST_EVENT ? withParams(authorized, params) : authorized;
    const result = await this.invoke(table, space, route.function, event.eventType, JSON.stringify(event), { eventId: event.eventID });
    return parseSyncResult(result);
  }

  /** Calls a function with system events around it; throws FunctionCallError on failure. */
  private async invoke(
    table: RoutingTable,
    space: string,
    fn: RoutedFunction,
    eventType: string,
    payload: string,
    context: { deliveryId?: string; eventId?: string },
  ): Promise<Buffer> {
    const functionId = fn.record.functionId;
    const reportable = !isSystemEventType(eventType);
    const eventOf = () => JSON.parse(payload) as unknown;
    if (reportable) this.system.emit(table, space, 'eventgateway.function.invoking', () => ({ space, event: eventOf(), functionId }));
    const started = performance.now();
    try {
      const result = await fn.provider.invoke(payload, { ...context, eventType });
      this.deps.metrics.observeProcessing((performance.now() - started) / 1000);
      if (reportable) {
        this.system.emit(table, space, 'eventgateway.function.invoked', () => ({ space, event: eventOf(), functionId, result: result.toString('base64') }));
      }
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ space, functionId, eventType, err: message }, 'function call failed');
      if (reportable) {
        this.system.emit(table, space, 'eventgateway.function.invocationFailed', () => ({ space, event: eventOf(), functionId, error: { message } }));
      }
      throw err instanceof TargetError || !(err instanceof GatewayError) ? new FunctionCallError(callFailureMessage(err), { cause: err }) : err;
    }
  }
}

/** The contract lets refused credentials say so; every other failure keeps the generic message. */
function callFailureMessage(err: unknown): string | undefined {
  if (err instanceof TargetError && err.reason === 'credentials') {
    return "Function call failed: the target refused the gateway's credentials. Please check logs.";
  }
  return undefined;
}

/** The `http.request` data of a request, as an authorizer receives it. */
function requestData(req: IncomingRequest): HttpRequestData {
  return {
    path: req.path,
    method: req.method,
    headers: flattenHeaders(req.headers),
    host: req.host ?? headerValue(req.headers, 'host') ?? '',
    query: parseQuery(req.query),
    params: {},
    body: undefined,
  };
}

function withParams(event: CloudEventV01, params: Record<string, string>): CloudEventV01 {
  return { ...event, data: { ...(event.data as HttpRequestData), params } };
}

