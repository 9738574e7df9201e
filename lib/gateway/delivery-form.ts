import { randomUUID } from 'node:crypto';
import type { Delivery } from '../delivery/queue';
import { eventIdOf, eventTypeOf, isV1, type CloudEvent } from '../events/accessors';
import { toBinaryMessage, toV1, type BinaryMessage } from '../events/http-binding';
import { routeAccepts, type Route } from '../routing/table';

/** The event in the version a subscription asks for: as it arrived, or 0.1 turned into 1.0. */
export function eventForRoute(route: Route, event: CloudEvent): CloudEvent {
  return route.subscription.delivery?.specversion === '1.0' && !isV1(event) ? toV1(event) : event;
}

/** The binary-mode message for a subscription that asks for binary delivery, else undefined. */
export function binaryForRoute(route: Route | undefined, event: () => CloudEvent): BinaryMessage | undefined {
  return route?.subscription.delivery?.mode === 'binary' ? toBinaryMessage(event()) : undefined;
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

/** One delivery per route of a fan-out, each in the form its subscription asks for, with its retry policy. */
export function deliveriesFor(space: string, routes: readonly Route[], event: CloudEvent): Delivery[] {
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
  }));
}
