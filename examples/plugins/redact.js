// A redactor (sync): removes `data.password` and `data.card` from every incoming event before it is
// routed, by returning the event without them: no subscriber, log or dead letter ever sees them.
//
//   event-gateway --plugin ./examples/plugins/redact.js

const SECRET_FIELDS = ['password', 'card'];

/** @type {import('event-gateway').Plugin} */
module.exports = {
  name: 'redact',
  subscriptions: [{ eventType: 'eventgateway.event.received', type: 'sync' }],
  react(systemEvent) {
    const { event } = systemEvent.data;
    const data = event.data;
    if (typeof data !== 'object' || data === null || Array.isArray(data)) return undefined;
    if (!SECRET_FIELDS.some((field) => field in data)) return undefined;
    const redacted = { ...data };
    for (const field of SECRET_FIELDS) delete redacted[field];
    // Returning { event } replaces the incoming event (it is validated again like an incoming one).
    return { event: { ...event, data: redacted } };
  },
};
