import type { RetryPolicy } from '../delivery/queue';
import type { Filter } from '../events/filter';
import type { DataSchema } from '../events/schema';
import type { Transform } from '../events/transform';
import type { FunctionTarget } from '../providers/config';

/** String→string labels a client attaches to a resource and filters lists on. */
export type Metadata = Record<string, string>;

/** A registered event type; an optional authorizer function guards it. */
export interface EventType {
  space: string;
  name: string;
  authorizerId?: string;
  metadata?: Metadata;
  /** (ext) JSON Schema (draft 2020-12) every event's `data` must satisfy; absent means no check. */
  schema?: DataSchema;
}

/** A registered function: where it runs (`type` + `provider`). */
export type FunctionRecord = {
  space: string;
  functionId: string;
  metadata?: Metadata;
} & FunctionTarget;

export type SubscriptionType = 'async' | 'sync';

export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

/** A function subscribed to an event type at a method and path. */
export interface Subscription {
  space: string;
  subscriptionId: string;
  type: SubscriptionType;
  eventType: string;
  functionId: string;
  path: string;
  method: string;
  /** (ext) How long and how often failed async deliveries are retried. */
  retry?: RetryPolicy;
  metadata?: Metadata;
  /** (ext) Every filter must match for the subscriber to get an event. */
  filters?: Filter[];
  /** (ext) The form in which the subscriber receives events. */
  delivery?: DeliveryOptions;
  /** (ext) A JSONata expression whose result replaces the delivered event's data, or the whole payload. */
  transform?: Transform;
}

/** HTTP content modes of CloudEvents a subscriber may receive events in. */
export const CONTENT_MODES = ['structured', 'binary'] as const;

/**
 * (ext) How a subscriber receives events: `mode` is the HTTP content mode (default structured);
 * `specversion: "1.0"` turns 0.1 events (including the gateway's own) into 1.0 before delivery.
 */
export interface DeliveryOptions {
  mode?: (typeof CONTENT_MODES)[number];
  specversion?: '1.0';
}

/** A CORS configuration for a method and path. */
export interface CorsConfig {
  space: string;
  corsId: string;
  method: string;
  path: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  allowCredentials: boolean;
  metadata?: Metadata;
}

/** The kinds of records the registry keeps, and the record type of each. */
export interface RecordKinds {
  eventType: EventType;
  function: FunctionRecord;
  subscription: Subscription;
  cors: CorsConfig;
}

export type RecordKind = keyof RecordKinds;

/** Everything registered, across spaces: what the routing table is compiled from. */
export interface RegistrySnapshot {
  eventTypes: EventType[];
  functions: FunctionRecord[];
  subscriptions: Subscription[];
  cors: CorsConfig[];
}
