import { FunctionCallError, GatewayError, PayloadTooLargeError, ValidationError, publicMessage } from '../errors';
import { eventIdOf, eventTypeOf, sourceOf, withAuthorization, type CloudEvent } from '../events/accessors';
import { HTTP_REQUEST_EVENT, isSystemEventType } from '../events/cloudevent';
import { eventsFromRequest, flattenHeaders, httpRequestData, type BatchEntry, type HttpRequestData } from '../events/parse';
import { headerValue, type IncomingRequest } from '../events/request';
import { DeliveryFailure, type Delivery, type DeliveryQueue } from '../delivery/queue';
import type { Logger } from '../logger';
import { TargetError, type InvocationContext } from '../providers/provider';
import { routeAccepts, type Route, type RoutedFunction, type RoutingTable, type SpaceRoutes, type SyncMatch } from '../routing/table';
import { eventExcerpt, type ActivityFeed } from './activity';
import type { PropagatedContext } from '../tracing/trace-context';
import { propagationOnly, type CallInfo, type RequestTrace, type Tracing } from '../tracing/tracing';
import { authorize, type AuthorizationResult } from './authorizer';
import { corsHeaders, preflightResponse } from './cors';
import { acceptingRoutes, deliveriesFor, eventForRoute, plainOutgoing, transformedOutgoing, type Outgoing } from './delivery-form';
import type { CompiledTransform } from '../events/transform';
import type { GatewayMetrics } from './metrics';
import { errorResponse, jsonResponse, type GatewayResponse } from './response';
import { parseSyncResult } from './sync-result';
import { PluginRefusal, type PluginHost } from '../plugins/host';
import { SystemEvents } from './system-events';

/** Where the router gets the current routing table from. */
export interface RoutingSource {
  current(): RoutingTable | Promise<RoutingTable>;
  /** The table after checking for changes now, when the source can (see RoutingCache.latest). */
  latest?(): RoutingTable | Promise<RoutingTable>;
  /** True while the source serves its last table because the store cannot be read (a miss then proves nothing). */
  readonly stale?: boolean;
}

export interface EventRouterDeps {
  routing: RoutingSource;
  queue: DeliveryQueue;
  metrics: GatewayMetrics;
  logger: Logger;
  /** Where the live tail reads from; nothing is built for it while no one listens. */
  activity?: ActivityFeed;
  /** Plugins reacting to system events (`--plugin`); none by default. */
  plugins?: PluginHost;
  /** Spans, when an OpenTelemetry SDK is configured; W3C trace context is passed on either way. */
  tracing?: Tracing;
}

const ACCEPTED: GatewayResponse = { statusCode: 202, headers: {}, body: '' };

/** What the answer to a batch says about one of its events. */
export interface BatchResult {
  index: number;
  id?: string;
  type?: string;
  accepted: boolean;
  error?: string;
}

/**
 * One request in, one response out: turns the request into an event, authorizes it, lets a sync
 * subscriber answer and hands the event to async subscribers. Also performs queued deliveries.
 */
export class EventRouter {
  private readonly system: SystemEvents;
  private readonly tracing: Tracing;

  constructor(private readonly deps: EventRouterDeps) {
    this.tracing = deps.tracing ?? propagationOnly;
    this.system = new SystemEvents(deps.queue, deps.logger, (space, type) => deps.metrics.eventFiltered(space, type));
  }

  /** Handles one request to the Events API; never throws. */
  async handle(req: IncomingRequest): Promise<GatewayResponse> {
    let response: GatewayResponse;
    const trace = this.tracing.request(req);
    try {
      response = await this.route(req, trace);
    } catch (err) {
      const { statusCode, message, headers } = publicMessage(err);
      if (statusCode >= 500 && !(err instanceof GatewayError)) this.deps.logger.error({ err }, 'event handling failed');
      response = errorResponse(statusCode, message, headers);
    }
    const queuing = this.system.settled();
    if (queuing) await queuing;
    const reacting = this.deps.plugins?.settled();
    if (reacting) await reacting;
    trace.end(response.statusCode);
    return response;
  }

  /**
   * Performs one async delivery: the queue's worker. Rejects when the target call failed, or did not
   * end before `signal` aborted (the worker's time is up: a timeout, retried later). A DeliveryHandler
   * (the queue passes `attempt`, counted from 1, which the attempt's span records).
   */
  deliver = async (delivery: Delivery, attempt = 1, signal?: AbortSignal): Promise<void> => {
    let table = await this.deps.routing.current();
    let fn = table.function(delivery.space, delivery.functionId);
    // A table a few seconds old may not know a function registered since: look again before giving up.
    if (!fn && this.deps.routing.latest) {
      table = await this.deps.routing.latest();
      fn = table.function(delivery.space, delivery.functionId);
    }
    // A store that cannot be read cannot tell that the function is gone: retry later instead of dead-lettering.
    if (!fn && this.deps.routing.stale) throw new DeliveryFailure(`function "${delivery.functionId}" not in the routing table, and the registry is unavailable to confirm it`, true);
    if (!fn) throw new DeliveryFailure(`function "${delivery.functionId}" is not registered any more`, false);
    const route = table.route(delivery.space, delivery.subscriptionId);
    const eventOf = () => JSON.parse(delivery.payload) as CloudEvent;
    let out: Outgoing;
    try {
      out = route?.transform ? await this.transformed(delivery.space, route, route.transform, eventOf()) : plainOutgoing(route, eventOf, delivery.payload);
    } catch (err) {
      // A transform that fails once fails every time: dead-letter it with the reason, no retries.
      throw new DeliveryFailure(err instanceof Error ? err.message : String(err), false, { cause: err });
    }
    const call = this.tracing.attempt(delivery, attempt, callInfo(delivery.space, fn, delivery.eventType, delivery.eventId));
    const context: InvocationContext = { deliveryId: delivery.deliveryId, eventId: delivery.eventId, ...outgoingContext(out), ...(signal ? { signal } : {}), ...call.context };
    try {
      await this.invoke(table, delivery.space, fn, delivery.eventType, out.payload, context);
      call.end();
    } catch (err) {
      call.end(err);
      const cause = err instanceof FunctionCallError ? err.cause : err;
      // A plugin that refused the invocation would refuse it again.
      const retryable = cause instanceof TargetError ? cause.retryable : !(cause instanceof PluginRefusal);
      throw new DeliveryFailure(cause instanceof Error ? cause.message : String(cause), retryable, { cause });
    } finally {
      const queuing = this.system.settled();
      if (queuing) await queuing;
      const reacting = this.deps.plugins?.settled();
      if (reacting) await reacting;
    }
  };

  private async route(req: IncomingRequest, trace: RequestTrace): Promise<GatewayResponse> {
    const table = await this.deps.routing.current();
    const origin = headerValue(req.headers, 'origin');
    const preflightMethod = req.method === 'OPTIONS' ? headerValue(req.headers, 'access-control-request-method') : undefined;
    if (preflightMethod) {
      const answer = this.preflight(table, req, origin, preflightMethod);
      if (answer) return answer;
    }
    const incoming = eventsFromRequest(req);
    if (incoming.mode === 'batch') return this.routeBatch(table, req, incoming.entries, origin, trace);
    if (isSystemEventType(eventTypeOf(incoming.event))) throw new ValidationError(reservedMessage(eventTypeOf(incoming.event)));
    // Sync plugins may refuse the event (throws) or replace it, before anything is routed.
    const event = this.deps.plugins ? await this.deps.plugins.received(incoming.event, req) : incoming.event;
    trace.event(event);
    const eventType = eventTypeOf(event);
    const sync = this.findSync(table, req, event);
    const async = table.asyncRoutes(req.method, req.path, eventType);
    const counted = matchedSpaces(sync?.space, async);
    const invalid = this.dataProblem(table, counted, event);
    if (invalid) throw new ValidationError(invalid);
    this.received(table, counted, event, req);
    const cors = sync ? table.cors(sync.space, req.method, req.path) : table.firstCors(req.method, req.path);
    const extraHeaders = corsHeaders(cors, origin);

    await this.fanOut(table, async, req, event, trace);
    if (!sync) {
      this.processed(table, counted, eventType);
      return Object.keys(extraHeaders).length > 0 ? { ...ACCEPTED, headers: extraHeaders } : ACCEPTED;
    }
    const response = await this.answer(table, sync.space, sync.route, sync.params, req, event, trace);
    this.processed(table, counted, eventType);
    Object.assign(response.headers, extraHeaders);
    return response;
  }

  /**
   * Routes each valid event of a batch on its own, to async subscribers only (one HTTP answer cannot
   * carry several sync results), and says per event whether it was accepted.
   */
  private async routeBatch(table: RoutingTable, req: IncomingRequest, entries: BatchEntry[], origin: string | undefined, trace: RequestTrace): Promise<GatewayResponse> {
    const results: BatchResult[] = [];
    for (const [index, entry] of entries.entries()) {
      if ('error' in entry) {
        results.push({ index, ...(entry.id ? { id: entry.id } : {}), ...(entry.type ? { type: entry.type } : {}), accepted: false, error: entry.error });
        continue;
      }
      if (isSystemEventType(entry.event.type)) {
        results.push({ index, id: entry.event.id, type: entry.event.type, accepted: false, error: reservedMessage(entry.event.type) });
        continue;
      }
      let event: CloudEvent = entry.event;
      if (this.deps.plugins) {
        try {
          event = await this.deps.plugins.received(event, req);
        } catch (err) {
          results.push({ index, id: entry.event.id, type: entry.event.type, accepted: false, error: publicMessage(err).message });
          continue;
        }
      }
      const eventType = eventTypeOf(event);
      const id = eventIdOf(event);
      const async = table.asyncRoutes(req.method, req.path, eventType);
      const counted = matchedSpaces(undefined, async);
      const invalid = this.dataProblem(table, counted, event);
      if (invalid) {
        results.push({ index, id, type: eventType, accepted: false, error: invalid });
        continue;
      }
      this.received(table, counted, event, req);
      try {
        await this.fanOut(table, async, req, event, trace);
      } catch (err) {
        // An event too large for the queue is that entry's failure, not the batch's.
        if (!(err instanceof PayloadTooLargeError)) throw err;
        results.push({ index, id, type: eventType, accepted: false, error: err.message });
        continue;
      }
      this.processed(table, counted, eventType);
      results.push({ index, id, type: eventType, accepted: true });
    }
    const accepted = results.filter((r) => r.accepted).length;
    const headers = corsHeaders(table.firstCors(req.method, req.path), origin);
    if (accepted === 0) {
      const response = jsonResponse(400, { errors: [{ message: "CloudEvent doesn't validate: no event of the batch is valid" }], results });
      return { ...response, headers: { ...headers, ...response.headers } };
    }
    const response = jsonResponse(202, { accepted, rejected: results.length - accepted, results });
    return { ...response, headers: { ...headers, ...response.headers } };
  }

  private preflight(table: RoutingTable, req: IncomingRequest, origin: string | undefined, method: string): GatewayResponse | undefined {
    const config = table.firstCors(method.toUpperCase(), req.path);
    return config ? preflightResponse(config, origin, method, headerValue(req.headers, 'access-control-request-headers')) : undefined;
  }

  /**
   * The sync subscription that answers: the first space's, in name order. One whose filters refuse
   * the event does not answer; the next space's may (or the event is async only).
   */
  private findSync(table: RoutingTable, req: IncomingRequest, event: CloudEvent): SyncMatch | undefined {
    const eventType = eventTypeOf(event);
    for (const match of table.syncRoutes(req.method, req.path, eventType)) {
      if (routeAccepts(match.route, event)) return match;
      this.deps.metrics.eventFiltered(match.space, eventType);
    }
    return undefined;
  }

  /**
   * Checks the event's data against the schema of its type in each space it matched (a space's schema
   * never refuses what only another space routes); the first failure is the 400's message
   * (`Event doesn't validate: data/amount must be number`), counted in that space.
   */
  private dataProblem(table: RoutingTable, spaces: readonly string[], event: CloudEvent): string | undefined {
    const eventType = eventTypeOf(event);
    for (const space of spaces) {
      const validate = table.dataValidator(space, eventType);
      if (!validate) continue;
      const failure = validate(event.data);
      if (failure === undefined) continue;
      this.deps.metrics.eventInvalid(space, eventType);
      const error = `Event doesn't validate: ${failure}`;
      const feed = this.deps.activity;
      if (feed?.listening) feed.publish({ kind: 'event.invalid', space, time: new Date().toISOString(), eventType, eventId: eventIdOf(event), error });
      return error;
    }
    return undefined;
  }

  /**
   * Counts the event in the spaces whose subscribers it matched (as the original gateway did: an
   * event costs what it matches, not the number of spaces), and emits `eventgateway.event.received`
   * in every space that subscribed to it and registered the event's type.
   */
  private received(table: RoutingTable, counted: readonly string[], event: CloudEvent, req: IncomingRequest): void {
    const eventType = eventTypeOf(event);
    for (const space of counted) if (table.eventType(space, eventType)) this.deps.metrics.eventReceived(space, eventType);
    for (const space of table.spacesSubscribedTo(RECEIVED)) {
      if (!table.eventType(space, eventType)) continue;
      this.system.emit(table, space, RECEIVED, () => ({ event, path: req.path, headers: flattenHeaders(req.headers) }));
    }
    const feed = this.deps.activity;
    if (feed?.listening) announceReceived(feed, table, counted, event);
  }

  private processed(table: RoutingTable, counted: readonly string[], eventType: string): void {
    for (const space of counted) if (table.eventType(space, eventType)) this.deps.metrics.eventProcessed(space, eventType);
  }

  /** Queues the event for every async subscriber the authorizer lets through; never waits for targets. */
  private async fanOut(table: RoutingTable, async: readonly SpaceRoutes[], req: IncomingRequest, event: CloudEvent, trace: RequestTrace): Promise<void> {
    const eventType = eventTypeOf(event);
    for (const { space, routes: candidates } of async) {
      const routes = acceptingRoutes(candidates, event, () => this.deps.metrics.eventFiltered(space, eventType));
      if (routes.length === 0) continue;
      const authorized = await this.authorized(table, space, event, req, trace);
      if (!authorized) continue;
      await this.enqueue(space, routes, authorized, trace.accepting());
    }
  }

  private async enqueue(space: string, routes: readonly Route[], event: CloudEvent, trace: PropagatedContext): Promise<void> {
    const deliveries = deliveriesFor(space, routes, event, trace);
    const refused = await this.deps.queue.enqueue(deliveries);
    for (const delivery of refused) {
      this.deps.metrics.eventDropped(space, delivery.eventType);
      this.deps.logger.warn({ space, eventType: delivery.eventType, functionId: delivery.functionId }, 'delivery backlog full; event dropped');
    }
    this.deps.metrics.setBacklog(this.deps.queue.backlog());
  }

  /** The event as its subscribers in a space may see it, or undefined when the space's authorizer denies it. */
  private async authorized(table: RoutingTable, space: string, event: CloudEvent, req: IncomingRequest, trace: RequestTrace): Promise<CloudEvent | undefined> {
    const authorizerId = table.eventType(space, eventTypeOf(event))?.authorizerId;
    if (!authorizerId) return event;
    const authorizer = table.function(space, authorizerId);
    const result = authorizer ? await this.authorize(authorizer, space, event, req, trace) : { allowed: false as const, reason: 'authorizer missing' };
    if (!result.allowed) {
      this.deps.logger.info({ space, eventType: eventTypeOf(event), reason: result.reason }, 'event denied by authorizer');
      return undefined;
    }
    return withAuthorization(event, result.authorization);
  }

  /** Calls an authorizer, in a span of the request's trace. */
  private async authorize(authorizer: RoutedFunction, space: string, event: CloudEvent, req: IncomingRequest, trace: RequestTrace): Promise<AuthorizationResult> {
    const call = trace.call('authorize', callInfo(space, authorizer, eventTypeOf(event), eventIdOf(event)));
    const result = await authorize(authorizer.provider, event, httpRequestData(req, null), { ...call.context, ...(req.signal ? { signal: req.signal } : {}) });
    call.end(result.allowed ? undefined : result.failure, { 'eventgateway.authorizer.allowed': result.allowed });
    return result;
  }

  /** Calls the sync subscriber and turns its result into the HTTP response. */
  private async answer(
    table: RoutingTable,
    space: string,
    route: Route,
    params: Record<string, string>,
    req: IncomingRequest,
    incoming: CloudEvent,
    trace: RequestTrace,
  ): Promise<GatewayResponse> {
    trace.route(route.subscription.path);
    const authorized = await this.authorized(table, space, incoming, req, trace);
    if (!authorized) return errorResponse(403, 'Forbidden. The event was denied by its authorizer.');
    const withRequestParams = eventTypeOf(incoming) === HTTP_REQUEST_EVENT ? withParams(authorized, params) : authorized;
    const event = eventForRoute(route, withRequestParams);
    const announce = this.syncAnnouncer(space, route, event);
    const call = trace.call('invoke', callInfo(space, route.function, eventTypeOf(event), eventIdOf(event)));
    try {
      // The transform runs inside the try: its failure is the call's failure, announced like one.
      const out = route.transform ? await this.transformed(space, route, route.transform, event) : plainOutgoing(route, () => event, JSON.stringify(event));
      const context: InvocationContext = { eventId: eventIdOf(event), ...outgoingContext(out), ...(req.signal ? { signal: req.signal } : {}), ...call.context };
      const result = await this.invoke(table, space, route.function, eventTypeOf(event), out.payload, context);
      call.end();
      announce?.();
      return parseSyncResult(result);
    } catch (err) {
      // Ends the span unless the call succeeded (a malformed answer is not the call's failure).
      call.end(err);
      announce?.(err);
      // The original gateway used the answer of an HTTP function whatever its status short of a 5xx:
      // a function that answers 404 with its response object keeps working here.
      const answer = clientErrorAnswer(err);
      if (answer) return parseSyncResult(answer);
      throw err;
    }
  }

  /** A route's payload made by its transform; a failure is counted, logged and rethrown (a TransformError). */
  private async transformed(space: string, route: Route, transform: CompiledTransform, event: CloudEvent): Promise<Outgoing> {
    try {
      return await transformedOutgoing(route, transform, event);
    } catch (err) {
      const { subscriptionId, eventType } = route.subscription;
      this.deps.metrics.transformFailed(space, eventType);
      this.deps.logger.warn({ space, subscriptionId, eventType, err: err instanceof Error ? err.message : String(err) }, 'transform failed');
      throw err;
    }
  }

  /** While someone listens: a function that announces the sync call's outcome (an error, or success). */
  private syncAnnouncer(space: string, route: Route, event: CloudEvent): ((err?: unknown) => void) | undefined {
    const feed = this.deps.activity;
    if (!feed?.listening) return undefined;
    const started = performance.now();
    return (err?: unknown) => {
      const fields = {
        space,
        time: new Date().toISOString(),
        eventType: eventTypeOf(event),
        eventId: eventIdOf(event),
        functionId: route.function.record.functionId,
        subscriptionId: route.subscription.subscriptionId,
        mode: 'sync' as const,
        attempt: 1,
        latencyMs: Math.round((performance.now() - started) * 10) / 10,
      };
      if (err === undefined) feed.publish({ kind: 'delivery.succeeded', ...fields });
      else feed.publish({ kind: 'delivery.failed', ...fields, error: err instanceof FunctionCallError && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err) });
    };
  }

  /** Calls a function with system events around it; throws FunctionCallError on failure. */
  private async invoke(
    table: RoutingTable,
    space: string,
    fn: RoutedFunction,
    eventType: string,
    payload: string,
    context: InvocationContext,
  ): Promise<Buffer> {
    const functionId = fn.record.functionId;
    const reportable = !isSystemEventType(eventType);
    const eventOf = () => JSON.parse(payload) as unknown;
    const plugins = reportable ? this.deps.plugins : undefined;
    // A sync plugin may refuse this invocation (throws PluginRefusal, before any call is made).
    if (plugins) await plugins.aboutCall('eventgateway.function.invoking', space, functionId, () => ({ space, event: eventOf(), functionId }));
    if (reportable) this.system.emit(table, space, 'eventgateway.function.invoking', () => ({ space, event: eventOf(), functionId }));
    const started = performance.now();
    try {
      const result = await fn.provider.invoke(payload, { ...context, eventType });
      this.deps.metrics.observeProcessing((performance.now() - started) / 1000);
      if (reportable) {
        this.system.emit(table, space, 'eventgateway.function.invoked', () => ({ space, event: eventOf(), functionId, result: result.toString('base64') }));
      }
      if (plugins) await plugins.aboutCall('eventgateway.function.invoked', space, functionId, () => ({ space, event: eventOf(), functionId, result: result.toString('base64') }));
      return result;
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.deps.logger.warn({ space, functionId, eventType, err: message }, 'function call failed');
      if (reportable) {
        this.system.emit(table, space, 'eventgateway.function.invocationFailed', () => ({ space, event: eventOf(), functionId, error: { message } }));
      }
      if (plugins) await plugins.aboutCall('eventgateway.function.invocationFailed', space, functionId, () => ({ space, event: eventOf(), functionId, error: { message } }));
      throw err instanceof TargetError || !(err instanceof GatewayError) ? new FunctionCallError(callFailureMessage(err), { cause: err }) : err;
    }
  }
}

/** The parts of an outgoing payload a provider needs besides the payload itself. */
function outgoingContext(out: Outgoing): Pick<InvocationContext, 'binary' | 'contentType'> {
  if (out.binary) return { binary: out.binary };
  return out.contentType ? { contentType: out.contentType } : {};
  }

/**
 * Announces a received event to the live tails, in each watched space that registered its type, saying
 * whether the space routed it (a tail shows an event no subscriber matched, which is what one looks for
 * when a function is not called). Costs a loop over the watched spaces, only while tails are open.
 */
function announceReceived(feed: ActivityFeed, table: RoutingTable, counted: readonly string[], event: CloudEvent): void {
  const eventType = eventTypeOf(event);
  let excerpt: ReturnType<typeof eventExcerpt> | undefined;
  for (const space of feed.watchedSpaces()) {
    if (!table.eventType(space, eventType)) continue;
    excerpt ??= eventExcerpt(event);
    feed.publish({ kind: 'event.received', space, time: new Date().toISOString(), eventType, eventId: eventIdOf(event), source: sourceOf(event), routed: counted.includes(space), ...excerpt });
  }
}

/** The body of a target's 4xx answer behind a failed call, if that is what failed. */
function clientErrorAnswer(err: unknown): Buffer | undefined {
  const cause = err instanceof FunctionCallError ? err.cause : undefined;
  if (!(cause instanceof TargetError) || cause.reason !== 'status' || cause.statusCode === undefined) return undefined;
  return cause.statusCode >= 400 && cause.statusCode < 500 ? cause.answer : undefined;
}

/** The original gateway's messages for the AWS credential errors its users know. */
const AWS_CREDENTIAL_MESSAGES: Record<string, string> = {
  AccessDeniedException:
    'Function call failed with AccessDeniedException. The provided credentials do not have the required IAM permissions to invoke this function. Please attach the lambda:invokeFunction permission to these credentials.',
  UnrecognizedClientException:
    'Function call failed with UnrecognizedClientException. The provided credentials are invalid. Please provide valid credentials.',
  ExpiredTokenException:
    'Function call failed with ExpiredTokenException. The provided security token for the function has expired. Please provide an updated security token or provide permanent credentials.',
};

/** The contract lets refused credentials say so; every other failure keeps the generic message. */
function callFailureMessage(err: unknown): string | undefined {
  if (!(err instanceof TargetError) || err.reason !== 'credentials') return undefined;
  const name = (err.cause as { name?: string } | undefined)?.name ?? '';
  return AWS_CREDENTIAL_MESSAGES[name] ?? "Function call failed: the target refused the gateway's credentials. Please check logs.";
}

const RECEIVED = 'eventgateway.event.received';

/** The spaces an event matched a subscriber in: the sync route's, then the async ones', each once, in order. */
function matchedSpaces(syncSpace: string | undefined, async: readonly SpaceRoutes[]): readonly string[] {
  if (async.length === 0) return syncSpace === undefined ? [] : [syncSpace];
  const spaces = async.map((entry) => entry.space);
  if (syncSpace !== undefined && !spaces.includes(syncSpace)) spaces.unshift(syncSpace);
  return spaces;
}

/** What the span of a call to a function says about it. */
function callInfo(space: string, fn: RoutedFunction, eventType: string, eventId: string): CallInfo {
  return { space, functionId: fn.record.functionId, functionType: fn.record.type, eventType, eventId };
}

function reservedMessage(eventType: string): string {
  return `Event type "${eventType}" is reserved for the gateway's system events.`;
}

function withParams(event: CloudEvent, params: Record<string, string>): CloudEvent {
  return { ...event, data: { ...(event.data as HttpRequestData), params } };
}

