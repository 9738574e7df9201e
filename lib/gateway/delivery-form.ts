import { isV1, type CloudEvent } from '../events/accessors';
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
