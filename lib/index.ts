/**
 * What the package offers to code outside the gateway: the plugin interface, so that a plugin written
 * in TypeScript can `import type { Plugin } from 'event-gateway'`.
 */
export type {
  Plugin,
  PluginCloudEvent,
  PluginContext,
  PluginEventType,
  PluginLogger,
  PluginReaction,
  PluginSubscription,
  SystemEvent,
} from './plugins/plugin';
export { PLUGIN_EVENT_TYPES } from './plugins/plugin';
