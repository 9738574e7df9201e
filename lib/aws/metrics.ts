import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { GatewayMetrics } from '../gateway/metrics';
import type { Logger } from '@aws-lambda-powertools/logger';
import { SERVICE_NAME } from './logging';

export const METRICS_NAMESPACE = 'EventGateway';

/**
 * Powertools Metrics for the handlers, namespace EventGateway. Its default `service` dimension is
 * cleared: the gateway's metrics keep the dimension sets the dashboard searches for (`space`,
 * `eventType`), and the cold-start metric its `function_name`.
 */
export function lambdaMetrics(log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'> = console): Metrics {
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME, logger: withoutEmptyMetricsWarning(log) });
  metrics.clearDefaultDimensions();
  return metrics;
}

/**
 * Powertools' own warnings through the handlers' logger, except the one that the invocation's document
 * was empty: most invocations' metrics have dimensions and go out as single-metric documents, so that
 * one would be logged by nearly every invocation and say nothing.
 */
function withoutEmptyMetricsWarning(log: Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>) {
  return {
    debug: (...args: unknown[]) => log.debug(String(args[0] ?? '')),
    info: (...args: unknown[]) => log.info(String(args[0] ?? '')),
    error: (...args: unknown[]) => log.error(String(args[0] ?? '')),
    warn: (...args: unknown[]) => {
      if (!String(args[0]).startsWith('No application metrics to publish')) log.warn(String(args[0] ?? ''));
    },
  };
}

type Unit = typeof MetricUnit.Count | typeof MetricUnit.Seconds;

interface Series {
  dimensions: Record<string, string>;
  name: string;
  unit: Unit;
  values: number[];
}

/**
 * The gateway's metrics as EMF through Powertools. Figures are gathered during one invocation and
 * handed to Powertools by `flush` (the handlers' middleware calls it before `logMetrics` publishes):
 * counts summed per metric and dimension set, durations kept one by one so CloudWatch can compute
 * percentiles. Names are the contract's Prometheus names; dimensions `space` + `eventType` (events)
 * or `space`/`resource`/`operation` (config). The backlog gauge is not reported: on AWS it is the
 * queue's own CloudWatch metric.
 */
export class PowertoolsGatewayMetrics implements GatewayMetrics {
  private series = new Map<string, Series>();

  constructor(readonly metrics: Metrics) {}

  eventReceived(space: string, type: string): void {
    this.add('eventgateway_events_received_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  eventProcessed(space: string, type: string): void {
    this.add('eventgateway_events_processed_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  eventDropped(space: string, type: string): void {
    this.add('eventgateway_events_dropped_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  eventInvalid(space: string, type: string): void {
    this.add('eventgateway_events_invalid_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  eventFiltered(space: string, type: string): void {
    this.add('eventgateway_events_filtered_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  transformFailed(space: string, type: string): void {
    this.add('eventgateway_transform_failures_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  setBacklog(): void {}

  deliveryRetried(space: string, type: string): void {
    this.add('eventgateway_deliveries_retried_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  deliveryDeadLettered(space: string, type: string): void {
    this.add('eventgateway_deliveries_deadlettered_total', MetricUnit.Count, { space, eventType: type }, 1);
  }

  observeDeliveryLatency(seconds: number): void {
    this.add('eventgateway_delivery_latency_seconds', MetricUnit.Seconds, {}, seconds);
  }

  /** A target's circuit changed state in this execution environment (the log line says more). */
  circuitChanged(space: string, functionId: string, state: string): void {
    this.add('eventgateway_target_circuit_transitions_total', MetricUnit.Count, { space, function: functionId, state }, 1);
  }

  observeProcessing(seconds: number): void {
    this.add('eventgateway_events_custom_processing_seconds', MetricUnit.Seconds, {}, seconds);
  }

  configRequest(space: string, resource: string, operation: string, seconds: number): void {
    const dimensions = { space, resource, operation };
    this.add('eventgateway_config_requests_total', MetricUnit.Count, dimensions, 1);
    this.add('eventgateway_config_request_duration_seconds', MetricUnit.Seconds, dimensions, seconds);
  }

  pluginCall(plugin: string, eventType: string, outcome: 'ok' | 'error' | 'timeout', seconds: number): void {
    this.add('eventgateway_plugin_calls_total', MetricUnit.Count, { plugin, eventType, outcome }, 1);
    this.add('eventgateway_plugin_duration_seconds', MetricUnit.Seconds, { plugin, eventType }, seconds);
  }

  /**
   * Hands what was gathered since the last flush to Powertools, and forgets it. A series without
   * dimensions goes into the invocation's document (published by `logMetrics`); one with dimensions
   * is a single-metric document of its own, since one EMF document has one value per dimension name.
   */
  flush(): void {
    const series = this.series;
    this.series = new Map();
    for (const s of series.values()) {
      if (Object.keys(s.dimensions).length === 0) {
        for (const value of s.values) this.metrics.addMetric(s.name, s.unit, value);
        continue;
      }
      for (const value of s.values) {
        // A single metric gets the `service` default dimension again: cleared, as on the main instance.
        const single = this.metrics.singleMetric();
        single.clearDefaultDimensions();
        single.addDimensions(s.dimensions).addMetric(s.name, s.unit, value);
      }
    }
  }

  private add(name: string, unit: Unit, dimensions: Record<string, string>, value: number): void {
    const key = JSON.stringify([name, dimensions]);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { name, unit, dimensions, values: [] }));
    if (unit === MetricUnit.Count && s.values.length > 0) s.values[0] = (s.values[0] ?? 0) + value;
    else s.values.push(value);
  }
}
