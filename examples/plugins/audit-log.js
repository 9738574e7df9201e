// An audit logger (async): one log line per event received and per function call, through the
// gateway's own logger (JSON lines in production). The gateway does not wait for it; an error here
// is logged and changes nothing.
//
//   event-gateway --plugin ./examples/plugins/audit-log.js

/** @type {import('event-gateway').Plugin} */
module.exports = {
  name: 'audit-log',
  subscriptions: [
    { eventType: 'eventgateway.event.received', type: 'async' },
    { eventType: 'eventgateway.function.invoked', type: 'async' },
    { eventType: 'eventgateway.function.invocationFailed', type: 'async' },
  ],
  async react(systemEvent, context) {
    const { event, path, error } = systemEvent.data;
    context.logger.info(
      {
        audit: systemEvent.eventType,
        eventType: event.eventType ?? event.type,
        eventId: event.eventID ?? event.id,
        source: event.source,
        ...(path === undefined ? {} : { path }),
        ...(context.space === undefined ? {} : { space: context.space, functionId: context.functionId }),
        ...(error === undefined ? {} : { error: error.message }),
      },
      'audit',
    );
  },
};
