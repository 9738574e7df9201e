import { checkFields, checkShape, rules, type FieldCheck, type Rule, type Shape } from '../registry/validation';

/** Optional static AWS credentials of a function; without them the default provider chain is used. */
export interface AwsCredentialFields {
  awsAccessKeyId?: string;
  awsSecretAccessKey?: string;
  awsSessionToken?: string;
  /** (ext) Endpoint override, for LocalStack and tests. */
  endpoint?: string;
}

export interface HttpConfig {
  url: string;
  /** (ext) Signs each delivery with Standard Webhooks headers; `whsec_<base64>` or any other string. */
  signingSecret?: string;
}
export interface LambdaConfig extends AwsCredentialFields {
  arn: string;
  region: string;
}
export interface SqsConfig extends AwsCredentialFields {
  queueUrl: string;
  region: string;
}
export interface KinesisConfig extends AwsCredentialFields {
  streamName: string;
  region: string;
  /** Which event attribute becomes the record's partition key; `eventID` when absent. */
  partitionKey?: 'eventType' | 'eventID';
}
export interface FirehoseConfig extends AwsCredentialFields {
  deliveryStreamName: string;
  region: string;
}
export interface EventBridgeConfig extends AwsCredentialFields {
  eventBusName: string;
  region: string;
  source?: string;
  detailType?: string;
}
/** The fields of a Google service-account key file (JSON) that minting an ID token needs. */
export interface GoogleServiceAccountKey {
  client_email: string;
  private_key: string;
  private_key_id?: string;
  /** Where the signed assertion is exchanged; Google's token endpoint when absent. */
  token_uri?: string;
}
export interface GoogleCloudFunctionConfig {
  url: string;
  /** Static bearer token (an ID token) sent as `Authorization: Bearer`. */
  token?: string;
  /** A service-account key from which ID tokens are minted (instead of `token`). */
  serviceAccountKey?: GoogleServiceAccountKey;
  /** Audience of minted ID tokens; the URL without its query when absent. */
  audience?: string;
}
export interface AzureFunctionConfig {
  url: string;
  functionKey?: string;
}
export interface OpenWhiskConfig {
  apiHost: string;
  namespace: string;
  action: string;
  auth?: string;
}

/** Every function type and the shape of its `provider` object. */
export interface ProviderConfigs {
  http: HttpConfig;
  awslambda: LambdaConfig;
  awssqs: SqsConfig;
  awskinesis: KinesisConfig;
  awsfirehose: FirehoseConfig;
  awseventbridge: EventBridgeConfig;
  gcloudfunction: GoogleCloudFunctionConfig;
  azurefunction: AzureFunctionConfig;
  openwhisk: OpenWhiskConfig;
}

export type FunctionType = keyof ProviderConfigs;

/** A function's target: the union keyed on `type`, so every switch over it must be exhaustive. */
export type FunctionTarget = { [K in FunctionType]: { type: K; provider: ProviderConfigs[K] } }[FunctionType];

interface ProviderSchema {
  /** Go struct name used in validation messages. */
  struct: string;
  shape: Shape;
  fields: (p: Record<string, unknown>) => FieldCheck[];
  /** Fields stored but never returned. */
  secrets: readonly string[];
  /** Whether the target answers, so that it can serve a sync subscription. */
  answers: boolean;
}

const awsShape: Shape = { awsAccessKeyId: 'string', awsSecretAccessKey: 'string', awsSessionToken: 'string', endpoint: 'string', region: 'string' };
const awsSecrets = ['awsSecretAccessKey', 'awsSessionToken'] as const;
const awsRegion = (p: Record<string, unknown>): FieldCheck => ['Region', p.region, [rules.required]];
const awsEndpoint = (p: Record<string, unknown>): FieldCheck => ['Endpoint', p.endpoint, [rules.optional(rules.url)]];

/**
 * A `whsec_` secret must be base64 of at least 16 bytes; any other must be at least 16 characters.
 * The mask is accepted: an update that sends it back keeps the stored secret.
 */
const signingSecretRule: FieldCheck[2][number] = [
  'signingSecret',
  (v) => {
    if (typeof v !== 'string') return false;
    if (v === '*****') return true;
    if (!v.startsWith('whsec_')) return v.length >= 16;
    const encoded = v.slice('whsec_'.length);
    return /^[A-Za-z0-9+/]+={0,2}$/.test(encoded) && Buffer.from(encoded, 'base64').length >= 16;
  },
];

/** What a secret reads as in responses. */
const MASKED = '*****';

/** A key file needs at least `client_email` and a PEM `private_key`; `token_uri` must be a URL if given. */
const serviceAccountKey: Rule = [
  'serviceaccountkey',
  (v) => {
    if (v === MASKED) return true;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
    const key = v as Record<string, unknown>;
    const isText = (x: unknown) => typeof x === 'string' && x !== '';
    const tokenUriOk = key.token_uri === undefined || (typeof key.token_uri === 'string' && rules.url[1](key.token_uri));
    return isText(key.client_email) && isText(key.private_key) && String(key.private_key).includes('PRIVATE KEY') && tokenUriOk;
  },
];

/** Go's `excluded_with`: the field must be absent when the other one is present. */
const excludedWith = (other: string, otherValue: unknown): Rule => [`excluded_with=${other}`, (v) => v === undefined || v === '' || otherValue === undefined];

/** Per-type validation and metadata of provider configs, one entry per function type. */
export const providerSchemas = {
  http: {
    struct: 'HTTP',
    shape: { url: 'string', signingSecret: 'string' },
    fields: (p) => [
      ['URL', p.url, [rules.required, rules.url]],
      ['SigningSecret', p.signingSecret, [rules.optional(signingSecretRule)]],
    ],
    secrets: ['signingSecret'],
    answers: true,
  },
  awslambda: {
    struct: 'AWSLambda',
    shape: { ...awsShape, arn: 'string' },
    fields: (p) => [['ARN', p.arn, [rules.required]], awsRegion(p), awsEndpoint(p)],
    secrets: awsSecrets,
    answers: true,
  },
  awssqs: {
    struct: 'AWSSQS',
    shape: { ...awsShape, queueUrl: 'string' },
    fields: (p) => [['QueueURL', p.queueUrl, [rules.required]], awsRegion(p), awsEndpoint(p)],
    secrets: awsSecrets,
    answers: false,
  },
  awskinesis: {
    struct: 'AWSKinesis',
    shape: { ...awsShape, streamName: 'string', partitionKey: 'string' },
    fields: (p) => [
      ['StreamName', p.streamName, [rules.required]],
      awsRegion(p),
      ['PartitionKey', p.partitionKey, [rules.optional(rules.oneOf(['eventType', 'eventID']))]],
      awsEndpoint(p),
    ],
    secrets: awsSecrets,
    answers: false,
  },
  awsfirehose: {
    struct: 'AWSFirehose',
    shape: { ...awsShape, deliveryStreamName: 'string' },
    fields: (p) => [['DeliveryStreamName', p.deliveryStreamName, [rules.required]], awsRegion(p), awsEndpoint(p)],
    secrets: awsSecrets,
    answers: false,
  },
  awseventbridge: {
    struct: 'AWSEventBridge',
    shape: { ...awsShape, eventBusName: 'string', source: 'string', detailType: 'string' },
    fields: (p) => [['EventBusName', p.eventBusName, [rules.required]], awsRegion(p), awsEndpoint(p)],
    secrets: awsSecrets,
    answers: false,
  },
  gcloudfunction: {
    struct: 'GoogleCloudFunction',
    // serviceAccountKey is checked by its rule: a GET masks it to a string, which a PUT may send back.
    shape: { url: 'string', token: 'string', audience: 'string' },
    fields: (p) => [
      ['URL', p.url, [rules.required, rules.url]],
      ['Token', p.token, [excludedWith('ServiceAccountKey', p.serviceAccountKey)]],
      ['ServiceAccountKey', p.serviceAccountKey, [rules.optional(serviceAccountKey)]],
    ],
    secrets: ['token', 'serviceAccountKey'],
    answers: true,
  },
  azurefunction: {
    struct: 'AzureFunction',
    shape: { url: 'string', functionKey: 'string' },
    fields: (p) => [['URL', p.url, [rules.required, rules.url]]],
    secrets: ['functionKey'],
    answers: true,
  },
  openwhisk: {
    struct: 'OpenWhisk',
    shape: { apiHost: 'string', namespace: 'string', action: 'string', auth: 'string' },
    fields: (p) => [
      ['APIHost', p.apiHost, [rules.required, rules.url]],
      ['Namespace', p.namespace, [rules.required]],
      ['Action', p.action, [rules.required]],
    ],
    secrets: ['auth'],
    answers: true,
  },
} satisfies Record<FunctionType, ProviderSchema>;

export const functionTypes = Object.keys(providerSchemas) as FunctionType[];

export function isFunctionType(value: unknown): value is FunctionType {
  return typeof value === 'string' && Object.hasOwn(providerSchemas, value);
}

/** The validator detail for a provider config of a known type, or undefined when it is valid. */
export function validateProvider(type: FunctionType, provider: Record<string, unknown>): string | undefined {
  const schema: ProviderSchema = providerSchemas[type];
  return checkShape(schema.struct, provider, schema.shape) ?? checkFields(schema.struct, schema.fields(provider));
}

/** A copy of the provider config with secrets replaced, for responses and logs. */
export function maskProvider(type: FunctionType, provider: object): object {
  const secrets: readonly string[] = providerSchemas[type].secrets;
  if (secrets.length === 0) return provider;
  const masked: Record<string, unknown> = { ...provider };
  for (const key of secrets) if (masked[key] !== undefined) masked[key] = MASKED;
  return masked;
}

/** Whether a function of this type can answer a sync subscription. */
export function canAnswer(type: FunctionType): boolean {
  return providerSchemas[type].answers;
}
