import type { CloudEventV01 } from './cloudevent';
import { AUTHORIZATION_EXTENSION, type CloudEventV1 } from './cloudevent-v1';

/** An event in either version the gateway speaks; the accessors below read both alike. */
export type CloudEvent = CloudEventV01 | CloudEventV1;

/** Whether an event is a CloudEvent 1.0 (it has `specversion`; 0.1 has `cloudEventsVersion`). */
export function isV1(event: CloudEvent): event is CloudEventV1 {
  return typeof (event as CloudEventV1).specversion === 'string';
}

export function eventTypeOf(event: CloudEvent): string {
  return isV1(event) ? event.type : event.eventType;
}

export function eventIdOf(event: CloudEvent): string {
  return isV1(event) ? event.id : event.eventID;
}

export function sourceOf(event: CloudEvent): string {
  return event.source;
}

export function specVersionOf(event: CloudEvent): string {
  return isV1(event) ? event.specversion : event.cloudEventsVersion;
}

/** 1.0 attribute names and where 0.1 keeps the same thing; other names are 0.1 extensions. */
const V01_NAMES: Record<string, keyof CloudEventV01> = {
  specversion: 'cloudEventsVersion',
  id: 'eventID',
  source: 'source',
  type: 'eventType',
  time: 'eventTime',
  dataschema: 'schemaURL',
  datacontenttype: 'contentType',
  eventtypeversion: 'eventTypeVersion',
};

/**
 * An attribute or extension by its 1.0 name, whatever the event's version (`type` reads 0.1's
 * `eventType`, an unknown name reads a 0.1 extension). Used by subscription filters.
 */
export function attributeOf(event: CloudEvent, name: string): unknown {
  if (name === 'data' || name === 'data_base64') return undefined;
  if (isV1(event)) return event[name];
  const v01 = V01_NAMES[name];
  return v01 ? event[v01] : event.extensions?.[name];
}

/** Authorization from an authorizer, attached where each version's subscribers look for it. */
export function withAuthorization(event: CloudEvent, authorization: unknown): CloudEvent {
  if (isV1(event)) return { ...event, [AUTHORIZATION_EXTENSION]: JSON.stringify(authorization) };
  const gatewayExtension = { ...((event.extensions?.eventgateway as object | undefined) ?? {}), authorization };
  return { ...event, extensions: { ...event.extensions, eventgateway: gatewayExtension } };
}
