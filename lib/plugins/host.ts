import { GatewayError } from '../errors';
import { eventTypeOf, type CloudEvent } from '../events/accessors';
import { isSystemEventType } from '../events/cloudevent';
import { flattenHeaders, gatewayEvent, validatedEvent } from '../events/parse';
import type { IncomingRequest } from '../events/request';
import type { Logger } from '../logger';
import type { Plugin, PluginContext, PluginEventType, PluginLogger, SystemEvent } from './plugin';

/** How a plugin call ended, as counted in `eventgateway_plugin_calls_total{outcome}`. */
export type PluginOutcome = 'ok' | 'error' | 'timeout';

/** What the plugin host reports (the gateway's metrics implement it). */
export interface PluginMetrics {
  pluginCall(plugin: string, eventType: string, outcome: PluginOutcome, seconds: number): void;
}

export interface PluginHostOptions {
  /** Longest wait for one reaction, in ms (`--plugin-timeout`); a timeout counts as an error. */
  timeoutMs: number;
  logger: Logger;
  metrics: PluginMetrics;
  /**
   * Keep async reactions to be awaited by `settled()`: on Lambda, work still running when the
   * handler returns is frozen with the environment, so the handlers wait for it.
   */
  trackAsync?: boolean;
}

/**
 * A sync plugin's refusal: the status of the plugin's error when it is 400–499, else 403, and the
 * error's message. A timeout is a refusal too.
 */
export class PluginRefusal extends GatewayError {
  constructor(message: string, statusCode: number, options?: { cause?: unknown }) {
    super(message, statusCode, { ...options, expose: true });
  }
}

/** The status a refusal answers with: the plugin's own when it is a client error, else 403. */
function refusalStatus(err: unknown): number {
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && Number.isInteger(status) && status >= 400 && status <= 499 ? status : 403;
}

function messageOf(err: unknown): string {
  const message = (err as { message?: unknown } | null)?.message;
  return typeof message === 'string' && message !== '' ? message : String(err);
}

class PluginTimeout extends Error {}

/** One plugin's subscription to one system event type. */
interface Reaction {
  plugin: Plugin;
  sync: boolean;
  logger: PluginLogger;
}

/** A logger that names the plugin in every line and takes a plain message too (`logger.info('…')`). */
function loggerFor(logger: Logger, plugin: string): PluginLogger {
  const at =
    (level: keyof Logger) =>
    (obj: object | string, msg?: string): void => {
      if (typeof obj === 'string') logger[level]({ plugin }, obj);
      else logger[level]({ plugin, ...obj }, msg);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

const RECEIVED: PluginEventType = 'eventgateway.event.received';

/**
 * Runs plugins' reactions to the gateway's system events, in `--plugin` order: sync ones are awaited
 * (bounded by the timeout) and the first error stops the chain; async ones are not awaited and their
 * errors are logged. Costs one map lookup per hook when no plugin subscribed to that type.
 */
export class PluginHost {
  private readonly reactions = new Map<PluginEventType, Reaction[]>();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    plugins: readonly Plugin[],
    private readonly options: PluginHostOptions,
  ) {
    for (const plugin of plugins) {
      const logger = loggerFor(options.logger, plugin.name);
      for (const subscription of plugin.subscriptions) {
        const list = this.reactions.get(subscription.eventType) ?? [];
        list.push({ plugin, sync: subscription.type === 'sync', logger });
        this.reactions.set(subscription.eventType, list);
      }
    }
  }

  /** Whether any plugin reacts to this system event type. */
  reactsTo(type: PluginEventType): boolean {
    return this.reactions.has(type);
  }

  /**
   * `eventgateway.event.received`, before anything is routed: a sync plugin may refuse the event
   * (throws PluginRefusal) or replace it (`{ event }`, validated again like an incoming event).
   * Resolves with the event to route.
   */
  async received(event: CloudEvent, req: IncomingRequest): Promise<CloudEvent> {
    const reactions = this.reactions.get(RECEIVED);
    if (!reactions) return event;
    let current = event;
    let headers: Record<string, string> | undefined;
    for (const reaction of reactions) {
      const systemEvent = gatewayEvent(RECEIVED, { event: current, path: req.path, headers: (headers ??= flattenHeaders(req.headers)) }, 'application/json');
      if (!reaction.sync) {
        this.fire(reaction, RECEIVED, systemEvent, { logger: reaction.logger });
        continue;
      }
      const answer = await this.call(reaction, RECEIVED, systemEvent, { logger: reaction.logger });
      const replacement = (answer as { event?: unknown } | null | undefined)?.event;
      if (replacement !== undefined && replacement !== null) current = this.replacement(reaction.plugin.name, replacement);
    }
    return current;
  }

  /**
   * A system event about one function call (`…invoking`, `…invoked`, `…invocationFailed`). A sync
   * plugin's error on `invoking` throws PluginRefusal (that invocation is skipped); on the others it
   * is logged, the call having happened.
   */
  async aboutCall(type: PluginEventType, space: string, functionId: string, data: () => Record<string, unknown>): Promise<void> {
    const reactions = this.reactions.get(type);
    if (!reactions) return;
    const systemEvent = gatewayEvent(type, data(), 'application/json');
    for (const reaction of reactions) {
      const context: PluginContext = { space, functionId, logger: reaction.logger };
      if (!reaction.sync) {
        this.fire(reaction, type, systemEvent, context);
        continue;
      }
      if (type === 'eventgateway.function.invoking') {
        await this.call(reaction, type, systemEvent, context);
        continue;
      }
      await this.call(reaction, type, systemEvent, context).catch(() => undefined);
    }
  }

  /** Resolves once the async reactions started so far are done, when they are tracked (Lambda); else undefined. */
  settled(): Promise<void> | undefined {
    return this.pending.size > 0 ? Promise.all(this.pending).then(() => undefined) : undefined;
  }

  /** A sync reaction: awaited within the timeout; an error or a timeout becomes a PluginRefusal. */
  private async call(reaction: Reaction, type: PluginEventType, event: CloudEvent, context: PluginContext): Promise<unknown> {
    try {
      return await this.bounded(reaction, type, event, context);
    } catch (err) {
      throw new PluginRefusal(messageOf(err), refusalStatus(err), { cause: err });
    }
  }

  /** An async reaction: not awaited (unless tracked for Lambda); its error is logged. */
  private fire(reaction: Reaction, type: PluginEventType, event: CloudEvent, context: PluginContext): void {
    const running = this.bounded(reaction, type, event, context).then(
      () => undefined,
      () => undefined,
    );
    if (!this.options.trackAsync) return;
    this.pending.add(running);
    void running.finally(() => this.pending.delete(running));
  }

  /** Runs one reaction within the timeout, counting and timing it; rejects with its error or a timeout. */
  private async bounded(reaction: Reaction, type: PluginEventType, event: CloudEvent, context: PluginContext): Promise<unknown> {
    const { plugin } = reaction;
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new PluginTimeout(`Plugin ${plugin.name} timed out after ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    try {
      // A sync throw inside react is caught like a rejection.
      const answer = await Promise.race([Promise.resolve().then(() => plugin.react(event as unknown as SystemEvent, context)), timeout]);
      this.options.metrics.pluginCall(plugin.name, type, 'ok', (performance.now() - started) / 1000);
      return answer;
    } catch (err) {
      const outcome = err instanceof PluginTimeout ? 'timeout' : 'error';
      this.options.metrics.pluginCall(plugin.name, type, outcome, (performance.now() - started) / 1000);
      const level = reaction.sync && type !== 'eventgateway.function.invoked' && type !== 'eventgateway.function.invocationFailed' ? 'info' : 'warn';
      this.options.logger[level]({ plugin: plugin.name, eventType: type, outcome, err: messageOf(err) }, `plugin ${outcome === 'timeout' ? 'timed out' : 'failed'}`);
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A replacement event from a plugin, validated like an incoming one. */
  private replacement(plugin: string, value: unknown): CloudEvent {
    try {
      const event = validatedEvent(value);
      if (isSystemEventType(eventTypeOf(event))) throw new Error(`event type "${eventTypeOf(event)}" is reserved for the gateway's system events`);
      return event;
    } catch (err) {
      this.options.logger.warn({ plugin, err: messageOf(err) }, 'plugin returned an invalid event');
      throw new GatewayError('Plugin returned an invalid event', 500, { cause: err, expose: true });
    }
  }
}
