/** A CloudEvent 0.1, the version the original gateway speaks; field names are the spec's. */
export interface CloudEventV01 {
  eventType: string;
  eventTypeVersion?: string;
  cloudEventsVersion: string;
  source: string;
  eventID: string;
  eventTime?: string;
  schemaURL?: string;
  contentType?: string;
  extensions?: Record<string, unknown>;
  data?: unknown;
}

/** Every event type starting with this is the gateway's own. */
export const SYSTEM_EVENT_PREFIX = 'eventgateway.';

/** The built-in type of events made from plain HTTP requests. */
export const HTTP_REQUEST_EVENT = 'http.request';

/** Source of the events the gateway creates itself. */
export const GATEWAY_SOURCE = 'https://serverless.com/event-gateway/#transformationVersion=0.1';

/** The extension marking an event the gateway created or transformed. */
export const TRANSFORMED_EXTENSION = { eventgateway: { transformed: 'true', 'transformation-version': '0.1' } };

export function isSystemEventType(type: string): boolean {
  return type.startsWith(SYSTEM_EVENT_PREFIX);
}

const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:|^\/|^[^\s:]+$/;

/** Whether a value is a non-empty URI-reference, as CloudEvents' `source` must be. */
export function isUriReference(value: string): boolean {
  return value.length > 0 && !/\s/.test(value) && URI.test(value);
}

/**
 * Checks a value against CloudEvents 0.1; returns the validator-style detail of each failed attribute,
 * or undefined when it is a valid event.
 */
export function validateCloudEventV01(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'the event must be a JSON object';
  const event = value as Record<string, unknown>;
  const failures: string[] = [];
  const fail = (field: string, tag: string) =>
    failures.push(`Key: 'CloudEvent.${field}' Error:Field validation for '${field}' failed on the '${tag}' tag`);
  const requireString = (key: string, field: string) => {
    if (typeof event[key] !== 'string' || event[key] === '') fail(field, 'required');
  };
  requireString('eventType', 'EventType');
  requireString('cloudEventsVersion', 'CloudEventsVersion');
  requireString('eventID', 'EventID');
  if (typeof event.source !== 'string' || event.source === '') fail('Source', 'required');
  else if (!isUriReference(event.source)) fail('Source', 'uri');
  if (event.extensions !== undefined && (typeof event.extensions !== 'object' || event.extensions === null || Array.isArray(event.extensions))) {
    fail('Extensions', 'map');
  }
  for (const key of ['eventTypeVersion', 'eventTime', 'schemaURL', 'contentType'] as const) {
    if (event[key] !== undefined && typeof event[key] !== 'string') fail(key[0]?.toUpperCase() + key.slice(1), 'string');
  }
  return failures.length > 0 ? failures.join('\n') : undefined;
}
