import { ValidationError } from '../errors';
import { canAnswer, maskProvider, providerSchemas } from '../providers/config';
import { PathConflictError, PathTree } from '../routing/path-tree';
import { parseCors, parseEventType, parseFunction, parseSubscription } from './parse';
import {
  alreadyExists,
  corsNames,
  eventTypeNames,
  functionNames,
  immutableField,
  invalid,
  notFound,
  subscriptionNames,
  type ResourceNames,
} from './resources';
import {
  MissingReferenceError,
  RecordExistsError,
  RecordMissingError,
  ReferencedRecordError,
  type RecordKey,
  type RegistryStore,
} from './store';
import type { CorsConfig, EventType, FunctionRecord, Metadata, RecordKind, RecordKinds, Subscription } from './types';

/** `metadata.<key>=<value>` pairs a list must match, all of them. */
export type MetadataFilter = Record<string, string>;

const MASK = '*****';

/** Bounds that keep one space from exhausting the gateway. */
export interface RegistryLimits {
  /** Most records of each kind (event types, functions, subscriptions, CORS) in one space. */
  maxRecordsPerSpace?: number;
}

const pluralOf: Record<RecordKind, string> = {
  eventType: 'event types',
  function: 'functions',
  subscription: 'subscriptions',
  cors: 'CORS configurations',
};

const namesOf: Record<RecordKind, ResourceNames> = {
  eventType: eventTypeNames,
  function: functionNames,
  subscription: subscriptionNames,
  cors: corsNames,
};

function matchesFilter(metadata: Metadata | undefined, filter: MetadataFilter): boolean {
  return Object.entries(filter).every(([key, value]) => metadata?.[key] === value);
}

/**
 * The registry's use cases: validation, IDs, referential rules and the contract's messages, over any
 * store. Listeners hear of every successful change, so that routing follows at once.
 */
export class RegistryService {
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly store: RegistryStore,
    private readonly limits: RegistryLimits = {},
  ) {}

  /** Registers a listener called after every successful write. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  // Event types

  async createEventType(space: string, body: unknown): Promise<EventType> {
    const eventType = parseEventType(space, body);
    await this.checkAuthorizerAnswers(eventType);
    await this.write('create', 'eventType', eventType.name, eventType, this.authorizerRefs(eventType));
    return eventType;
  }

  async getEventType(space: string, name: string): Promise<EventType> {
    return this.require('eventType', space, name);
  }

  async listEventTypes(space: string, filter: MetadataFilter = {}): Promise<EventType[]> {
    return this.listFiltered('eventType', space, filter);
  }

  async updateEventType(space: string, name: string, body: unknown): Promise<EventType> {
    const eventType = parseEventType(space, body, name);
    await this.checkAuthorizerAnswers(eventType);
    await this.write('update', 'eventType', name, eventType, this.authorizerRefs(eventType));
    return eventType;
  }

  async deleteEventType(space: string, name: string): Promise<void> {
    await this.remove('eventType', space, name);
  }

  // Functions

  async createFunction(space: string, body: unknown): Promise<FunctionRecord> {
    const fn = this.keepMaskedSecrets(parseFunction(space, body), undefined);
    await this.write('create', 'function', fn.functionId, fn, []);
    return this.presentFunction(fn);
  }

  async getFunction(space: string, functionId: string): Promise<FunctionRecord> {
    return this.presentFunction(await this.require('function', space, functionId));
  }

  async listFunctions(space: string, filter: MetadataFilter = {}): Promise<FunctionRecord[]> {
    return (await this.listFiltered('function', space, filter)).map((fn) => this.presentFunction(fn));
  }

  async updateFunction(space: string, functionId: string, body: unknown): Promise<FunctionRecord> {
    const parsed = parseFunction(space, body, functionId);
    const existing = await this.require('function', space, functionId);
    const fn = this.keepMaskedSecrets(parsed, existing);
    if (!canAnswer(fn.type)) await this.checkAnswersNothing(fn);
    await this.write('update', 'function', functionId, fn, []);
    return this.presentFunction(fn);
  }

  async deleteFunction(space: string, functionId: string): Promise<void> {
    await this.remove('function', space, functionId);
  }

  // Subscriptions

  async createSubscription(space: string, body: unknown): Promise<Subscription> {
    const subscription = parseSubscription(space, body);
    const eventType = await this.store.get({ space, kind: 'eventType', id: subscription.eventType });
    if (!eventType) throw notFound(eventTypeNames, subscription.eventType);
    const fn = await this.store.get({ space, kind: 'function', id: subscription.functionId });
    if (!fn) throw notFound(functionNames, subscription.functionId);
    if (await this.store.get({ space, kind: 'subscription', id: subscription.subscriptionId })) {
      throw alreadyExists(subscriptionNames, subscription.subscriptionId);
    }
    if (subscription.type === 'sync') await this.checkSyncSubscription(subscription, fn);
    await this.write('create', 'subscription', subscription.subscriptionId, subscription, this.subscriptionRefs(subscription));
    return subscription;
  }

  async getSubscription(space: string, id: string): Promise<Subscription> {
    return this.require('subscription', space, id);
  }

  async listSubscriptions(space: string, filter: MetadataFilter = {}): Promise<Subscription[]> {
    return this.listFiltered('subscription', space, filter);
  }

  /** Only metadata may change; any other field that differs is refused with the contract's message. */
  async updateSubscription(space: string, id: string, body: unknown): Promise<Subscription> {
    const next = parseSubscription(space, body);
    const existing = await this.require('subscription', space, id);
    const fixed = [
      ['Type', 'type'],
      ['EventType', 'eventType'],
      ['FunctionID', 'functionId'],
      ['Path', 'path'],
      ['Method', 'method'],
    ] as const;
    for (const [field, key] of fixed) {
      if (existing[key] !== next[key]) throw immutableField('subscription', field);
    }
    const updated: Subscription = { ...next, subscriptionId: existing.subscriptionId };
    await this.write('update', 'subscription', id, updated, this.subscriptionRefs(updated));
    return updated;
  }

  async deleteSubscription(space: string, id: string): Promise<void> {
    await this.remove('subscription', space, id);
  }

  // CORS

  async createCors(space: string, body: unknown): Promise<CorsConfig> {
    const cors = parseCors(space, body);
    await this.write('create', 'cors', cors.corsId, cors, []);
    return cors;
  }

  async getCors(space: string, id: string): Promise<CorsConfig> {
    return this.require('cors', space, id);
  }

  async listCors(space: string, filter: MetadataFilter = {}): Promise<CorsConfig[]> {
    return this.listFiltered('cors', space, filter);
  }

  async updateCors(space: string, id: string, body: unknown): Promise<CorsConfig> {
    const next = parseCors(space, body);
    const existing = await this.require('cors', space, id);
    if (next.method !== existing.method) throw immutableField('CORS configuration', 'Method');
    if (next.path !== existing.path) throw immutableField('CORS configuration', 'Path');
    await this.write('update', 'cors', id, next, []);
    return next;
  }

  async deleteCors(space: string, id: string): Promise<void> {
    await this.remove('cors', space, id);
  }

  // Shared steps

  private async require<K extends RecordKind>(kind: K, space: string, id: string): Promise<RecordKinds[K]> {
    const record = await this.store.get({ space, kind, id });
    if (!record) throw notFound(namesOf[kind], id);
    return record;
  }

  private async listFiltered<K extends RecordKind>(kind: K, space: string, filter: MetadataFilter): Promise<Array<RecordKinds[K]>> {
    const records = await this.store.list(space, kind);
    return records.filter((r) => matchesFilter(r.metadata, filter));
  }

  private async write<K extends RecordKind>(
    op: 'create' | 'update',
    kind: K,
    id: string,
    value: RecordKinds[K],
    references: RecordKey[],
  ): Promise<void> {
    const write = { key: { space: value.space, kind, id }, value, references };
    if (op === 'create') await this.checkRoom(value.space, kind);
    try {
      await (op === 'create' ? this.store.create(write) : this.store.update(write));
    } catch (err) {
      throw this.translate(err, kind, id);
    }
    this.changed();
  }

  /**
   * Refuses a create beyond the per-space limit. Counted before the write, so concurrent creates may
   * pass it by a few; it bounds growth, it is not an exact quota.
   */
  private async checkRoom(space: string, kind: RecordKind): Promise<void> {
    const limit = this.limits.maxRecordsPerSpace;
    if (limit === undefined) return;
    const count = this.store.count ? await this.store.count(space, kind) : (await this.store.list(space, kind)).length;
    if (count >= limit) throw new ValidationError(`Space "${space}" has reached the limit of ${limit} ${pluralOf[kind]}.`);
  }

  private async remove(kind: RecordKind, space: string, id: string): Promise<void> {
    try {
      await this.store.delete({ space, kind, id });
    } catch (err) {
      throw this.translate(err, kind, id);
    }
    this.changed();
  }

  /** Maps store errors to the contract's errors; anything unknown passes through as a 500. */
  private translate(err: unknown, kind: RecordKind, id: string): unknown {
    if (err instanceof RecordExistsError) return alreadyExists(namesOf[kind], id);
    if (err instanceof RecordMissingError) return notFound(namesOf[kind], id);
    if (err instanceof MissingReferenceError) {
      if (kind === 'eventType') return new ValidationError("Authorizer function doesn't exists.");
      return notFound(namesOf[err.reference.kind], err.reference.id);
    }
    if (err instanceof ReferencedRecordError) return this.stillReferenced(err);
    return err;
  }

  private stillReferenced(err: ReferencedRecordError): ValidationError {
    if (err.key.kind === 'eventType') {
      return new ValidationError('Event type cannot be deleted because there are subscriptions using it.');
    }
    if (err.referrer.kind === 'eventType') {
      return new ValidationError(
        `Function ${err.key.id} cannot be deleted because is used as an authorizer for ${err.referrer.id} event type.`,
      );
    }
    return new ValidationError("Function cannot be deleted because it's subscribed to a least one event.");
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }

  private authorizerRefs(eventType: EventType): RecordKey[] {
    return eventType.authorizerId ? [{ space: eventType.space, kind: 'function', id: eventType.authorizerId }] : [];
  }

  private subscriptionRefs(s: Subscription): RecordKey[] {
    return [
      { space: s.space, kind: 'eventType', id: s.eventType },
      { space: s.space, kind: 'function', id: s.functionId },
    ];
  }

  /** A sync subscription needs a function that answers, and a route no other sync subscription makes ambiguous. */
  private async checkSyncSubscription(subscription: Subscription, fn: FunctionRecord): Promise<void> {
    if (!canAnswer(fn.type)) {
      throw new ValidationError(
        `Subscription doesn't validate. Validation error: function type "${fn.type}" cannot answer a sync subscription; subscribe it asynchronously.`,
      );
    }
    const tree = new PathTree<string>();
    const existing = await this.store.list(subscription.space, 'subscription');
    for (const s of existing) {
      if (s.type === 'sync' && s.method === subscription.method && s.eventType === subscription.eventType) tree.add(s.path, s.subscriptionId);
    }
    try {
      tree.add(subscription.path, subscription.subscriptionId);
    } catch (err) {
      if (err instanceof PathConflictError) throw new ValidationError(`Subscription path conflict: ${err.message}`);
      throw err;
    }
  }

  /** A function that cannot answer must not become the target of a sync subscription, nor an authorizer. */
  private async checkAnswersNothing(fn: FunctionRecord): Promise<void> {
    const subscriptions = await this.store.list(fn.space, 'subscription');
    const sync = subscriptions.find((s) => s.type === 'sync' && s.functionId === fn.functionId);
    if (sync) {
      throw new ValidationError(
        `Function doesn't validate. Validation error: function type "${fn.type}" cannot answer sync subscription "${sync.subscriptionId}"; delete it or subscribe asynchronously.`,
      );
    }
    const authorized = (await this.store.list(fn.space, 'eventType')).find((e) => e.authorizerId === fn.functionId);
    if (authorized) {
      throw new ValidationError(
        `Function doesn't validate. Validation error: function type "${fn.type}" cannot answer as the authorizer of event type "${authorized.name}".`,
      );
    }
  }

  /** An authorizer must answer (allow or deny): a connector only takes events. A missing one is the store's to refuse. */
  private async checkAuthorizerAnswers(eventType: EventType): Promise<void> {
    if (!eventType.authorizerId) return;
    const fn = await this.store.get({ space: eventType.space, kind: 'function', id: eventType.authorizerId });
    if (fn && !canAnswer(fn.type)) {
      throw new ValidationError(
        `Event Type doesn't validate. Validation error: function type "${fn.type}" cannot answer as an authorizer; use a function that answers.`,
      );
    }
  }

    private presentFunction(fn: FunctionRecord): FunctionRecord {
    return { ...fn, provider: maskProvider(fn.type, fn.provider) } as FunctionRecord;
  }

  /** A client that sends back a masked secret (from a GET) means "keep the stored one". */
  private keepMaskedSecrets(next: FunctionRecord, existing: FunctionRecord | undefined): FunctionRecord {
    const provider: Record<string, unknown> = { ...next.provider };
    const old = (existing?.type === next.type ? existing.provider : {}) as unknown as Record<string, unknown>;
    for (const key of providerSchemas[next.type].secrets as readonly string[]) {
      if (provider[key] !== MASK) continue;
      // The mask stands for a stored secret; with none to keep, storing it would make "*****" the secret.
      if (old[key] === undefined) throw invalid(functionNames, `'${key}' is the mask of a stored secret, but there is no stored secret to keep; send the secret itself`);
      provider[key] = old[key];
    }
    return { ...next, provider } as unknown as FunctionRecord;
  }
}
