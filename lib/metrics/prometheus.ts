import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { CIRCUIT_STATE_VALUE, type CircuitState } from '../delivery/circuit-breaker';
import type { GatewayMetrics } from '../gateway/metrics';
import type { RegistryStore } from '../registry/store';
import type { RecordKind } from '../registry/types';

/** The contract's metrics in Prometheus form, plus the registry totals read from the store at scrape time. */
export class PrometheusMetrics implements GatewayMetrics {
  readonly registry = new Registry();
  private readonly received: Counter<'space' | 'type'>;
  private readonly processed: Counter<'space' | 'type'>;
  private readonly dropped: Counter<'space' | 'type'>;
  private readonly filtered: Counter<'space' | 'type'>;
  private readonly invalid: Counter<'space' | 'type'>;
  private readonly backlog: Gauge;
  private readonly processing: Histogram;
  private readonly configRequests: Counter<'space' | 'resource' | 'operation'>;
  private readonly configDuration: Histogram;
  private readonly retried: Counter<'space' | 'type'>;
  private readonly deadLettered: Counter<'space' | 'type'>;
  private readonly deliveryLatency: Histogram;
  private readonly transformFailures: Counter<'space' | 'type'>;
  private readonly pluginCalls: Counter<'plugin' | 'eventType' | 'outcome'>;
  private readonly pluginDuration: Histogram<'plugin' | 'eventType'>;
  private readonly circuitState: Gauge<'space' | 'function'>;
  private readonly circuitTransitions: Counter<'space' | 'function' | 'state'>;

  constructor(store: RegistryStore) {
    const registers = [this.registry];
    const labelNames = ['space', 'type'] as const;
    this.received = new Counter({ name: 'eventgateway_events_received_total', help: 'Events received.', labelNames, registers });
    this.processed = new Counter({ name: 'eventgateway_events_processed_total', help: 'Events processed.', labelNames, registers });
    this.dropped = new Counter({ name: 'eventgateway_events_dropped_total', help: 'Events dropped because the backlog was full.', labelNames, registers });
    this.filtered = new Counter({
      name: 'eventgateway_events_filtered_total',
      help: 'Deliveries not made because a subscription filter did not match the event.',
      labelNames,
      registers,
    });
    this.invalid = new Counter({ name: 'eventgateway_events_invalid_total', help: "Events refused because their data failed their type's schema.", labelNames, registers });
    // In a cluster each process has its own backlog: the aggregate is their sum.
    this.backlog = new Gauge({ name: 'eventgateway_events_backlog', help: 'Async deliveries waiting for a worker.', registers, aggregator: 'sum' });
    this.processing = new Histogram({
      name: 'eventgateway_events_custom_processing_seconds',
      help: 'Time to deliver an event to one target.',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.configRequests = new Counter({
      name: 'eventgateway_config_requests_total',
      help: 'Config API requests.',
      labelNames: ['space', 'resource', 'operation'],
      registers,
    });
    this.configDuration = new Histogram({
      name: 'eventgateway_config_request_duration_seconds',
      help: 'Config API request duration.',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.retried = new Counter({ name: 'eventgateway_deliveries_retried_total', help: 'Async delivery attempts that failed and will be retried.', labelNames, registers });
    this.deadLettered = new Counter({ name: 'eventgateway_deliveries_deadlettered_total', help: 'Async deliveries that ran out of retries.', labelNames, registers });
    this.deliveryLatency = new Histogram({
      name: 'eventgateway_delivery_latency_seconds',
      help: 'Time from accepting an event to delivering it to one subscriber.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120, 600, 3600],
      registers,
    });
    this.transformFailures = new Counter({
      name: 'eventgateway_transform_failures_total',
      help: 'Deliveries not made because the subscription transform failed (error, timeout or no result).',
      labelNames,
      registers,
    });
    this.pluginCalls = new Counter({
      name: 'eventgateway_plugin_calls_total',
      help: 'Plugin reactions to system events, by how they ended (ok, error, timeout).',
      labelNames: ['plugin', 'eventType', 'outcome'],
      registers,
    });
    this.pluginDuration = new Histogram({
      name: 'eventgateway_plugin_duration_seconds',
      help: 'Time a plugin took to react to a system event.',
      labelNames: ['plugin', 'eventType'],
      buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
      registers,
    });
    this.circuitState = new Gauge({
      name: 'eventgateway_target_circuit_state',
      help: "State of a target's circuit breaker: 0 closed, 1 half-open, 2 open (only targets that have failed appear).",
      labelNames: ['space', 'function'],
      registers,
      // A state, not an amount: in a cluster each process has its own breaker, the aggregate shows the most open one.
      aggregator: 'max',
    });
    this.circuitTransitions = new Counter({
      name: 'eventgateway_target_circuit_transitions_total',
      help: "Changes of a target's circuit breaker, by the state entered.",
      labelNames: ['space', 'function', 'state'],
      registers,
    });
    const totals: Array<[string, RecordKind]> = [
      ['eventgateway_eventtypes_total', 'eventType'],
      ['eventgateway_functions_total', 'function'],
      ['eventgateway_subscriptions_total', 'subscription'],
    ];
    for (const [name, kind] of totals) {
      new Gauge({
        name,
        help: `Registered ${kind} records per space.`,
        labelNames: ['space'],
        registers,
        // In a cluster every process reads the same store: the aggregate takes the first (the primary's), not the sum.
        aggregator: 'first',
        async collect() {
          this.reset();
          const counts = new Map<string, number>();
          // While the registry is unavailable the rest of the metrics still matter most: leave these out.
          const records = await store.listAll(kind).catch(() => []);
          for (const record of records) counts.set(record.space, (counts.get(record.space) ?? 0) + 1);
          for (const [space, count] of counts) this.set({ space }, count);
        },
      });
    }
  }

  eventReceived(space: string, type: string): void {
    this.count(this.received, space, type);
  }
  eventProcessed(space: string, type: string): void {
    this.count(this.processed, space, type);
  }
  eventDropped(space: string, type: string): void {
    this.count(this.dropped, space, type);
  }
  eventFiltered(space: string, type: string): void {
    this.count(this.filtered, space, type);
  }
  eventInvalid(space: string, type: string): void {
    this.count(this.invalid, space, type);
  }
  setBacklog(size: number): void {
    this.backlog.set(size);
  }
  observeProcessing(seconds: number): void {
    this.processing.observe(seconds);
  }
  configRequest(space: string, resource: string, operation: string, seconds: number): void {
    this.configRequests.inc({ space, resource, operation });
    this.configDuration.observe(seconds);
  }

  deliveryRetried(space: string, type: string): void {
    this.count(this.retried, space, type);
  }
  deliveryDeadLettered(space: string, type: string): void {
    this.count(this.deadLettered, space, type);
  }
  observeDeliveryLatency(seconds: number): void {
    this.deliveryLatency.observe(seconds);
  }
  circuitChanged(space: string, functionId: string, state: CircuitState): void {
    this.circuitState.set({ space, function: functionId }, CIRCUIT_STATE_VALUE[state]);
    this.circuitTransitions.inc({ space, function: functionId, state });
  }

  transformFailed(space: string, type: string): void {
    this.count(this.transformFailures, space, type);
  }

  pluginCall(plugin: string, eventType: string, outcome: 'ok' | 'error' | 'timeout', seconds: number): void {
    this.pluginCalls.inc({ plugin, eventType, outcome });
    this.pluginDuration.observe({ plugin, eventType }, seconds);
  }

  /** Child counters per label pair, kept so that the hot path skips prom-client's label hashing. */
  private readonly children = new Map<Counter<'space' | 'type'>, Map<string, Counter.Internal>>();

  private count(counter: Counter<'space' | 'type'>, space: string, type: string): void {
    let byLabels = this.children.get(counter);
    if (!byLabels) this.children.set(counter, (byLabels = new Map()));
    const key = `${space}\u0000${type}`;
    let child = byLabels.get(key);
    if (!child) byLabels.set(key, (child = counter.labels(space, type)));
    child.inc();
  }

  /** The text exposition and its content type. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
