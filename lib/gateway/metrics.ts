/** What the gateway counts; adapters expose it (Prometheus locally, CloudWatch EMF on AWS). */
export interface GatewayMetrics {
  eventReceived(space: string, type: string): void;
  eventProcessed(space: string, type: string): void;
  eventDropped(space: string, type: string): void;
  /** An event a subscriber's filters kept from it (once per subscriber). */
  eventFiltered(space: string, type: string): void;
  /** An event whose data failed its type's schema (it was refused with 400). */
  eventInvalid(space: string, type: string): void;
  setBacklog(size: number): void;
  /** Time spent delivering one event to one target, in seconds. */
  observeProcessing(seconds: number): void;
  configRequest(space: string, resource: string, operation: string, seconds: number): void;
  /** A failed async delivery that will be tried again. */
  deliveryRetried(space: string, type: string): void;
  /** An async delivery that ran out of retries. */
  deliveryDeadLettered(space: string, type: string): void;
  /** Time from accepting an event to delivering it to one subscriber, in seconds. */
  observeDeliveryLatency(seconds: number): void;
  /** A delivery whose subscription's transform failed (an error, a timeout, no result). */
  transformFailed(space: string, type: string): void;
  /** One plugin reaction: how it ended and how long it took. */
  pluginCall(plugin: string, eventType: string, outcome: 'ok' | 'error' | 'timeout', seconds: number): void;
}

/** Metrics that go nowhere, for tests and tools that do not report. */
export const noMetrics: GatewayMetrics = {
  eventReceived: () => {},
  eventProcessed: () => {},
  eventDropped: () => {},
  eventFiltered: () => {},
  eventInvalid: () => {},
  setBacklog: () => {},
  observeProcessing: () => {},
  configRequest: () => {},
  deliveryRetried: () => {},
  deliveryDeadLettered: () => {},
  observeDeliveryLatency: () => {},
  transformFailed: () => {},
  pluginCall: () => {},
};
