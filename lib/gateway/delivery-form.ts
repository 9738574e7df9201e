import { randomUUID } from 'node:crypto';
import type { Delivery } from '../delivery/queue';
import { eventIdOf, eventTypeOf, isV1, type CloudEvent } from '../events/accessors';
import { toBinaryMessage, toV1, type BinaryMessage } from '../events/http-binding';
import type { CompiledTransform } from '../events/transform';
import { routeAccepts, type Route } from '../routing/table';
import { newTraceparent, type PropagatedContext } from '../tracing/trace-context';

/** The event in the version a subscription asks for: as it arrived, or 0.1 turned into 1.0. */
export function eventForRoute(route: Route, event: CloudEvent): CloudEvent {
  return route.subscription.delivery?.specversion === '1.0' && !isV1(event) ? toV1(event) : event;
}

/** The binary-mode message for a subscription that asks for binary delivery, else undefined. */
export function binaryForRoute(route: Route | undefined, event: () => CloudEvent): BinaryMessage | undefined {
  return route?.subscription.delivery?.mode === 'binary' ? toBinaryMessage(event()) : undefined;
}

/** What a function gets for one event: the payload, and the binary message or content type it is sent with. */
export interface Outgoing {
  payload: string;
  binary?: BinaryMessage;
  /** Set when the payload is not a CloudEvent (a transform replaced the whole event): sent as this type. */
  contentType?: string;
}

/** The payload of a route without a transform: the event as serialised, binary when the subscription asks for it. */
export function plainOutgoing(route: Route | undefined, event: () => CloudEvent, payload: string): Outgoing {
  const binary = binaryForRoute(route, event);
  return binary ? { payload, binary } : { payload };
}

/**
 * The payload of a route with a transform: the event with its data replaced (then binary when asked
 * for), or the transform's result alone, sent as JSON. Rejects with a TransformError.
 */
export async function transformedOutgoing(route: Route, transform: CompiledTransform, event: CloudEvent): Promise<Outgoing> {
  const result = await transform.apply(event);
  if (result.kind === 'payload') return { payload: result.body, contentType: 'application/json' };
  return plainOutgoing(route, () => result.event, result.body);
}

/**
 * Serialises an event at most once per form its subscribers ask for (as it is, or in 1.0), so that
 * a fan-out to many subscribers still costs one serialisation in the common case.
 */
export function payloadsFor(event: CloudEvent): (route: Route) => string {
  let original: string | undefined;
  let converted: string | undefined;
  return (route) => {
    const form = eventForRoute(route, event);
    if (form === event) return (original ??= JSON.stringify(event));
    return (converted ??= JSON.stringify(form));
  };
}

/** The routes whose filters let an event through; `onFiltered` hears of each one that does not. */
export function acceptingRoutes(routes: readonly Route[], event: CloudEvent, onFiltered: () => void): readonly Route[] {
  if (routes.every((route) => route.filter === undefined)) return routes;
  const accepting: Route[] = [];
  for (const route of routes) {
    if (routeAccepts(route, event)) accepting.push(route);
    else onFiltered();
  }
  return accepting;
}

/**
 * One delivery per route of a fan-out, each in the form its subscription asks for, with its retry
 * policy and the trace context of the request that accepted it.
 */
export function deliveriesFor(space: string, routes: readonly Route[], event: CloudEvent, trace?: PropagatedContext): Delivery[] {
  const payload = payloadsFor(event);
  const eventType = eventTypeOf(event);
  const eventId = eventIdOf(event);
  return routes.map((route) => ({
    deliveryId: randomUUID(),
    space,
    subscriptionId: route.subscription.subscriptionId,
    functionId: route.subscription.functionId,
    eventType,
    eventId,
    payload: payload(route),
    ...(route.subscription.retry ? { retry: route.subscription.retry } : {}),
    // A delivery without a request behind it (a system event) starts a trace of its own, kept by every attempt.
    ...(trace ?? { traceparent: newTraceparent() }),
  }));
}
