/** How spans are exported (OTLP over HTTP); decided once at start-up. */
export interface TracingConfig {
  /**
   * OTLP/HTTP base URL from `--otlp-endpoint` (traces go to `<url>/v1/traces`). Absent: the exporter
   * reads `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` / `OTEL_EXPORTER_OTLP_ENDPOINT` itself.
   */
  endpoint?: string;
  protocol: OtlpProtocol;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json';

const PROTOCOLS: readonly string[] = ['http/protobuf', 'http/json'];

/**
 * Whether to start the OpenTelemetry SDK, from `--otlp-endpoint` and the standard environment
 * variables: only when an OTLP endpoint is given, and neither `OTEL_SDK_DISABLED=true` nor
 * `OTEL_TRACES_EXPORTER=none` says otherwise. Undefined: no SDK (trace context is still propagated).
 * Throws on a protocol this build cannot speak (gRPC), rather than export nothing in silence.
 */
export function tracingConfig(env: NodeJS.ProcessEnv, otlpEndpoint?: string): TracingConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? 'otlp').split(',').map((name) => name.trim().toLowerCase());
  if (exporters.includes('none')) return undefined;
  const fromEnv = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  if (otlpEndpoint === undefined && fromEnv === undefined) return undefined;
  if (!exporters.includes('otlp')) throw new Error(`OTEL_TRACES_EXPORTER=${env.OTEL_TRACES_EXPORTER ?? ''} is not supported: use otlp (or none)`);
  const protocol = nonEmpty(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? nonEmpty(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? 'http/protobuf';
  if (!PROTOCOLS.includes(protocol)) {
    throw new Error(`OTLP protocol "${protocol}" is not supported: use http/protobuf (a collector's port 4318) or http/json`);
  }
  return { protocol: protocol as OtlpProtocol, ...(otlpEndpoint !== undefined ? { endpoint: otlpEndpoint } : {}) };
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}
