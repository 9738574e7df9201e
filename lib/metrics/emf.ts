import type { GatewayMetrics } from '../gateway/metrics';

/** Where EMF lines go; stdout on Lambda, where CloudWatch Logs turns them into metrics. */
export type EmfSink = (line: string) => void;

export const EMF_NAMESPACE = 'EventGateway';

interface Series {
  dimensions: Record<string, string>;
  name: string;
  unit: 'Count' | 'Seconds';
  values: number[];
}

/** CloudWatch allows at most 100 values per metric in one EMF record. */
const MAX_VALUES = 100;

/**
 * The gateway's metrics in CloudWatch embedded metric format: figures are gathered during one
 * invocation and `flush` writes one EMF JSON line per metric and dimension set. Names are the
 * contract's Prometheus names; dimensions `space` + `eventType` (events) or `space`/`resource`/`operation`
 * (config). The backlog gauge is not reported: on AWS it is the queue's own CloudWatch metric.
 */
export class EmfMetrics implements GatewayMetrics {
  private series = new Map<string, Series>();

  constructor(
    private readonly sink: EmfSink = (line) => process.stdout.write(`${line}\n`),
    private readonly now: () => number = Date.now,
  ) {}

  eventReceived(space: string, type: string): void {
    this.add('eventgateway_events_received_total', 'Count', { space, eventType: type }, 1);
  }

  eventProcessed(space: string, type: string): void {
    this.add('eventgateway_events_processed_total', 'Count', { space, eventType: type }, 1);
  }

  eventDropped(space: string, type: string): void {
    this.add('eventgateway_events_dropped_total', 'Count', { space, eventType: type }, 1);
  }

  eventFiltered(space: string, type: string): void {
    this.add('eventgateway_events_filtered_total', 'Count', { space, eventType: type }, 1);
  }

  eventInvalid(space: string, type: string): void {
    this.add('eventgateway_events_invalid_total', 'Count', { space, eventType: type }, 1);
  }

  setBacklog(): void {}

  deliveryRetried(space: string, type: string): void {
    this.add('eventgateway_deliveries_retried_total', 'Count', { space, eventType: type }, 1);
  }

  deliveryDeadLettered(space: string, type: string): void {
    this.add('eventgateway_deliveries_deadlettered_total', 'Count', { space, eventType: type }, 1);
  }

  transformFailed(space: string, type: string): void {
    this.add('eventgateway_transform_failures_total', 'Count', { space, eventType: type }, 1);
  }

  pluginCall(plugin: string, eventType: string, outcome: 'ok' | 'error' | 'timeout', seconds: number): void {
    this.add('eventgateway_plugin_calls_total', 'Count', { plugin, eventType, outcome }, 1);
    this.add('eventgateway_plugin_duration_seconds', 'Seconds', { plugin, eventType }, seconds);
  }

  observeDeliveryLatency(seconds: number): void {
    this.add('eventgateway_delivery_latency_seconds', 'Seconds', {}, seconds);
  }

  observeProcessing(seconds: number): void {
    this.add('eventgateway_events_custom_processing_seconds', 'Seconds', {}, seconds);
  }

  configRequest(space: string, resource: string, operation: string, seconds: number): void {
    const dimensions = { space, resource, operation };
    this.add('eventgateway_config_requests_total', 'Count', dimensions, 1);
    this.add('eventgateway_config_request_duration_seconds', 'Seconds', dimensions, seconds);
  }

  /** Writes what was gathered since the last flush, and forgets it. */
  flush(): void {
    const series = this.series;
    this.series = new Map();
    const timestamp = this.now();
    for (const s of series.values()) {
      for (let i = 0; i < s.values.length; i += MAX_VALUES) this.sink(this.record(s, s.values.slice(i, i + MAX_VALUES), timestamp));
    }
  }

  private add(name: string, unit: Series['unit'], dimensions: Record<string, string>, value: number): void {
    const key = JSON.stringify([name, dimensions]);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { name, unit, dimensions, values: [] }));
    // Counts are summed in place; durations keep every observation so CloudWatch can compute percentiles.
    if (unit === 'Count' && s.values.length > 0) s.values[0] = (s.values[0] ?? 0) + value;
    else s.values.push(value);
  }

  private record(s: Series, values: number[], timestamp: number): string {
    return JSON.stringify({
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: EMF_NAMESPACE, Dimensions: [Object.keys(s.dimensions)], Metrics: [{ Name: s.name, Unit: s.unit }] }],
      },
      ...s.dimensions,
      [s.name]: values.length === 1 ? values[0] : values,
    });
  }
}
