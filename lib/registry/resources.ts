import { AlreadyExistsError, NotFoundError, ValidationError } from '../errors';

/** How each resource is named in the contract's messages. */
export interface ResourceNames {
  /** Prefix of the "doesn't validate" message, e.g. `Function`. */
  invalid: string;
  /** Go struct name used in validator keys, e.g. `Function`. */
  struct: string;
  exists: (id: string) => string;
  missing: (id: string) => string;
}

export const eventTypeNames: ResourceNames = {
  invalid: 'Event Type',
  struct: 'Type',
  exists: (id) => `Event Type "${id}" already exists.`,
  missing: (id) => `Event Type "${id}" not found.`,
};

export const functionNames: ResourceNames = {
  invalid: 'Function',
  struct: 'Function',
  exists: (id) => `Function "${id}" already registered.`,
  missing: (id) => `Function "${id}" not found.`,
};

export const subscriptionNames: ResourceNames = {
  invalid: 'Subscription',
  struct: 'Subscription',
  exists: (id) => `Subscription "${id}" already exists.`,
  missing: (id) => `Subscription "${id}" not found.`,
};

export const corsNames: ResourceNames = {
  invalid: 'CORS configuration',
  struct: 'CORS',
  exists: (id) => `CORS configuration "${id}" already exists.`,
  missing: (id) => `CORS configuration "${id}" not found.`,
};

/** The contract's 400 for a body that fails validation. */
export function invalid(names: ResourceNames, detail: string): ValidationError {
  return new ValidationError(`${names.invalid} doesn't validate. Validation error: ${detail}`);
}

export function alreadyExists(names: ResourceNames, id: string): AlreadyExistsError {
  return new AlreadyExistsError(names.exists(id));
}

export function notFound(names: ResourceNames, id: string): NotFoundError {
  return new NotFoundError(names.missing(id));
}

/** The contract's 400 for an update that changes a field fixed at creation. */
export function immutableField(resource: 'subscription' | 'CORS configuration', field: string): ValidationError {
  return new ValidationError(`Invalid update. '${field}' of existing ${resource} cannot be updated.`);
}
