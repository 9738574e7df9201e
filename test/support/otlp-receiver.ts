import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as the receiver decoded it, in either OTLP/HTTP encoding. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** Empty for a root span. */
  parentSpanId: string;
  traceState: string;
  name: string;
  /** OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  links: Array<{ traceId: string; spanId: string }>;
  /** OTLP's StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  /** The resource's service.name. */
  serviceName: string;
  /** The resource's service.version ('' without one). */
  serviceVersion: string;
}

export const SPAN_KIND = { server: 2, client: 3, consumer: 5 } as const;
export const STATUS_ERROR = 2;

/**
 * A loopback OpenTelemetry collector: an HTTP server on 127.0.0.1 that takes OTLP/HTTP trace exports
 * (`POST /v1/traces`) in protobuf or JSON, decodes them and keeps the spans.
 */
export class OtlpReceiver {
  readonly spans: ReceivedSpan[] = [];
  /** Content types of the exports received, to tell which encoding the exporter used. */
  readonly contentTypes: string[] = [];
  private readonly server: Server;

  private constructor() {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const type = String(req.headers['content-type'] ?? '');
        if (req.method !== 'POST' || req.url !== '/v1/traces') {
          res.writeHead(404).end();
          return;
        }
        this.contentTypes.push(type);
        try {
          this.spans.push(...(type.includes('json') ? decodeJson(body) : decodeProtobuf(body)));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'text/plain' }).end(String(err));
          return;
        }
        // An empty ExportTraceServiceResponse is an empty body in either encoding.
        res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : 'application/x-protobuf' });
        res.end(type.includes('json') ? '{}' : '');
      });
    });
  }

  static async start(): Promise<OtlpReceiver> {
    const receiver = new OtlpReceiver();
    await new Promise<void>((resolve) => receiver.server.listen(0, '127.0.0.1', resolve));
    return receiver;
  }

  /** The base URL, as `--otlp-endpoint` or OTEL_EXPORTER_OTLP_ENDPOINT takes it. */
  get endpoint(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The spans of one trace. */
  trace(traceId: string): ReceivedSpan[] {
    return this.spans.filter((span) => span.traceId === traceId);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

// ---- OTLP/JSON -------------------------------------------------------------------------------

interface JsonKeyValue {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number };
}

function jsonAttributes(list: JsonKeyValue[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const { key, value } of list ?? []) {
    out[key] = value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue as number));
  }
  return out;
}

function decodeJson(body: Buffer): ReceivedSpan[] {
  const request = JSON.parse(body.toString('utf8')) as {
    resourceSpans?: Array<{ resource?: { attributes?: JsonKeyValue[] }; scopeSpans?: Array<{ spans?: any[] }> }>;
  };
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of request.resourceSpans ?? []) {
    const serviceName = String(jsonAttributes(resourceSpans.resource?.attributes)['service.name'] ?? '');
    const serviceVersion = String(jsonAttributes(resourceSpans.resource?.attributes)['service.version'] ?? '');
    for (const scope of resourceSpans.scopeSpans ?? []) {
      for (const span of scope.spans ?? []) {
        spans.push({
          traceId: span.traceId,
          spanId: span.spanId,
          parentSpanId: span.parentSpanId ?? '',
          traceState: span.traceState ?? '',
          name: span.name,
          kind: span.kind,
          attributes: jsonAttributes(span.attributes),
          links: (span.links ?? []).map((link: { traceId: string; spanId: string }) => ({ traceId: link.traceId, spanId: link.spanId })),
          status: { code: span.status?.code ?? 0, message: span.status?.message ?? '' },
          serviceName,
          serviceVersion,
        });
      }
    }
  }
  return spans;
}

// ---- OTLP/protobuf: a small reader of the wire format, for the fields of opentelemetry/proto/trace/v1 used here ----

type Field = { number: number; wire: number; value: bigint | Buffer };

/** The fields of one protobuf message, in order. */
function fields(buffer: Buffer): Field[] {
  const out: Field[] = [];
  let offset = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      const byte = buffer[offset++] as number;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  };
  while (offset < buffer.length) {
    const key = Number(varint());
    const wire = key & 0x07;
    const number = key >>> 3;
    if (wire === 0) out.push({ number, wire, value: varint() });
    else if (wire === 1) {
      out.push({ number, wire, value: buffer.readBigUInt64LE(offset) });
      offset += 8;
    } else if (wire === 2) {
      const length = Number(varint());
      out.push({ number, wire, value: buffer.subarray(offset, offset + length) });
      offset += length;
    } else if (wire === 5) {
      out.push({ number, wire, value: BigInt(buffer.readUInt32LE(offset)) });
      offset += 4;
    } else throw new Error(`unsupported wire type ${wire}`);
  }
  return out;
}

const bytesOf = (list: Field[], n: number): Buffer[] => list.filter((f) => f.number === n).map((f) => f.value as Buffer);
const firstBytes = (list: Field[], n: number): Buffer => bytesOf(list, n)[0] ?? Buffer.alloc(0);
const numberOf = (list: Field[], n: number): number => Number((list.find((f) => f.number === n)?.value as bigint | undefined) ?? 0n);

function protobufAttributes(list: Buffer[]): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {};
  for (const keyValue of list) {
    const kv = fields(keyValue);
    const key = firstBytes(kv, 1).toString('utf8');
    const value = fields(firstBytes(kv, 2))[0];
    if (!value) continue;
    if (value.number === 1) out[key] = (value.value as Buffer).toString('utf8');
    else if (value.number === 2) out[key] = value.value === 1n;
    else if (value.number === 3) out[key] = Number(BigInt.asIntN(64, value.value as bigint));
    else if (value.number === 4) {
      const double = Buffer.alloc(8);
      double.writeBigUInt64LE(value.value as bigint);
      out[key] = double.readDoubleLE();
    }
  }
  return out;
}

function decodeProtobuf(body: Buffer): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  for (const resourceSpans of bytesOf(fields(body), 1)) {
    const rs = fields(resourceSpans);
    const serviceName = String(protobufAttributes(bytesOf(fields(firstBytes(rs, 1)), 1))['service.name'] ?? '');
    const serviceVersion = String(protobufAttributes(bytesOf(fields(firstBytes(rs, 1)), 1))['service.version'] ?? '');
    for (const scopeSpans of bytesOf(rs, 2)) {
      for (const encoded of bytesOf(fields(scopeSpans), 2)) {
        const span = fields(encoded);
        const status = fields(firstBytes(span, 15));
        spans.push({
          traceId: firstBytes(span, 1).toString('hex'),
          spanId: firstBytes(span, 2).toString('hex'),
          traceState: firstBytes(span, 3).toString('utf8'),
          parentSpanId: firstBytes(span, 4).toString('hex'),
          name: firstBytes(span, 5).toString('utf8'),
          kind: numberOf(span, 6),
          attributes: protobufAttributes(bytesOf(span, 9)),
          links: bytesOf(span, 13).map((link) => {
            const l = fields(link);
            return { traceId: firstBytes(l, 1).toString('hex'), spanId: firstBytes(l, 2).toString('hex') };
          }),
          status: { code: numberOf(status, 3), message: firstBytes(status, 2).toString('utf8') },
          serviceName,
          serviceVersion,
        });
      }
    }
  }
  return spans;
}
