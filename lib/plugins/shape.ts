import { PLUGIN_EVENT_TYPES, type Plugin } from './plugin';

/** A plugin module that cannot be used: the message names the module and what is wrong. */
export class PluginLoadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PluginLoadError';
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null;
}

/**
 * The plugin a loaded module exports: its default export or `module.exports` (a CommonJS module
 * imported from ES, or an ES module compiled to CommonJS, nests it once more under `default`).
 */
function exportedPlugin(module: unknown): unknown {
  let value = module;
  for (let i = 0; i < 2 && isObject(value) && !('react' in value) && 'default' in value; i++) value = value.default;
  return value;
}

/** What is wrong with a plugin's shape, or undefined when it is a plugin. */
function shapeProblem(value: unknown): string | undefined {
  if (!isObject(value)) return 'it exports no plugin object (export default { name, subscriptions, react } or module.exports = …)';
  if (typeof value.name !== 'string' || value.name.trim() === '') return '"name" must be a non-empty string';
  if (typeof value.react !== 'function') return '"react" must be a function (event, context) => …';
  const subscriptions = value.subscriptions;
  if (!Array.isArray(subscriptions) || subscriptions.length === 0) return '"subscriptions" must be a non-empty array of { eventType, type }';
  for (const [index, subscription] of subscriptions.entries()) {
    const at = `subscriptions[${index}]`;
    if (!isObject(subscription)) return `${at} must be an object { eventType, type }`;
    if (!(PLUGIN_EVENT_TYPES as readonly unknown[]).includes(subscription.eventType)) {
      return `${at}.eventType must be one of ${PLUGIN_EVENT_TYPES.join(', ')} (got ${JSON.stringify(subscription.eventType)})`;
    }
    if (subscription.type !== 'sync' && subscription.type !== 'async') return `${at}.type must be "sync" or "async" (got ${JSON.stringify(subscription.type)})`;
  }
  return undefined;
}

/** The plugin of a loaded module, or a PluginLoadError naming `where` (the file or package) and what is wrong. */
export function pluginOf(module: unknown, where: string): Plugin {
  const value = exportedPlugin(module);
  const problem = shapeProblem(value);
  if (problem) throw new PluginLoadError(`plugin ${where} has the wrong shape: ${problem}`);
  return value as Plugin;
}

/** Refuses two plugins of one name: metrics and logs tell plugins apart by name. */
export function checkDistinctNames(plugins: ReadonlyArray<{ plugin: Plugin; where: string }>): void {
  const seen = new Map<string, string>();
  for (const { plugin, where } of plugins) {
    const other = seen.get(plugin.name);
    if (other) throw new PluginLoadError(`plugins ${other} and ${where} are both named "${plugin.name}"; names must differ`);
    seen.set(plugin.name, where);
  }
}
