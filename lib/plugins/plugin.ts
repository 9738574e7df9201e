/**
 * The plugin interface: what a module given to `event-gateway --plugin` (or the stack's `plugins`)
 * exports, as its default export or `module.exports`. Types only, so that a plugin written in
 * TypeScript can `import type { Plugin } from 'event-gateway'` without loading the gateway.
 */

/** The system events a plugin may subscribe to. */
export const PLUGIN_EVENT_TYPES = [
  'eventgateway.event.received',
  'eventgateway.function.invoking',
  'eventgateway.function.invoked',
  'eventgateway.function.invocationFailed',
] as const;

export type PluginEventType = (typeof PLUGIN_EVENT_TYPES)[number];

/**
 * `sync`: the gateway waits for `react` (at most `--plugin-timeout`) and a throw stops what it is
 * about (see the README); `async`: the gateway does not wait, errors are logged.
 */
export interface PluginSubscription {
  eventType: PluginEventType;
  type: 'sync' | 'async';
}

/** Logging for plugins: pino's logger (local server) or the Lambda JSON logger. */
export interface PluginLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What a reaction knows besides the event: the space and function it is about, where there is one. */
export interface PluginContext {
  space?: string;
  functionId?: string;
  logger: PluginLogger;
}

/** A CloudEvent as JSON: 0.1 (`eventType`, `eventID`, …) or 1.0 (`specversion`, `type`, `id`, …). */
export type PluginCloudEvent = Record<string, unknown>;

/**
 * The system event a plugin receives: a CloudEvent 0.1 made by the gateway, exactly as async
 * subscribers of that type get it; its `data` is `{event, path, headers}` for
 * `eventgateway.event.received`, `{space, event, functionId}` for `…function.invoking`, plus `result`
 * (base64) for `…invoked` and `error: {message}` for `…invocationFailed`.
 */
export interface SystemEvent {
  eventType: PluginEventType;
  cloudEventsVersion: '0.1';
  source: string;
  eventID: string;
  eventTime: string;
  contentType: 'application/json';
  extensions: Record<string, unknown>;
  data: {
    event: PluginCloudEvent;
    path?: string;
    headers?: Record<string, string>;
    space?: string;
    functionId?: string;
    result?: string;
    error?: { message: string };
  };
}

/**
 * What a sync `eventgateway.event.received` reaction may return: `{ event }` replaces the incoming
 * event (validated again like an incoming one). Anything else leaves the event as it is.
 */
export type PluginReaction = void | undefined | { event?: PluginCloudEvent };

/** A plugin. Throw an error with `statusCode` (400–499) to refuse with that status; otherwise 403. */
export interface Plugin {
  name: string;
  subscriptions: PluginSubscription[];
  react(event: SystemEvent, context: PluginContext): PluginReaction | Promise<PluginReaction>;
}
