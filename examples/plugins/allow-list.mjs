// An allow-list by `source` (sync, an ES module): events whose source does not start with one of the
// allowed prefixes are refused with 403 before anything is routed. The prefixes come from
// ALLOWED_SOURCES (comma-separated), by default /users and /orders. Note that plain HTTP requests
// become `http.request` events whose source is the gateway's own URL: allow it to let them through.
//
//   ALLOWED_SOURCES=/users,/orders event-gateway --plugin ./examples/plugins/allow-list.mjs

const allowed = (process.env.ALLOWED_SOURCES ?? '/users,/orders')
  .split(',')
  .map((prefix) => prefix.trim())
  .filter((prefix) => prefix !== '');

/** @type {import('event-gateway').Plugin} */
export default {
  name: 'allow-list',
  subscriptions: [{ eventType: 'eventgateway.event.received', type: 'sync' }],
  react(systemEvent) {
    const { source } = systemEvent.data.event;
    if (typeof source === 'string' && allowed.some((prefix) => source.startsWith(prefix))) return;
    // statusCode 400–499 is the answer's status (403 is also the default); the message is the client's.
    throw Object.assign(new Error(`Source "${source}" is not allowed.`), { statusCode: 403 });
  },
};
