import { AwsApi, type AwsApiOptions } from './client';

/** A received message, as SQS's JSON protocol names its fields. */
export interface SqsMessage {
  MessageId?: string;
  ReceiptHandle?: string;
  Body?: string;
  Attributes?: Record<string, string>;
  MessageAttributes?: Record<string, { DataType?: string; StringValue?: string }>;
}

/** Where an SQS queue is, and how to reach it; the endpoint defaults to the queue URL's own origin, as the SDK does. */
export interface SqsApiOptions extends Omit<AwsApiOptions, 'service' | 'region'> {
  queueUrl: string;
  region?: string;
}

/** SQS's JSON protocol (`AmazonSQS.<Operation>`) on the lean client. */
export class SqsApi {
  private readonly api: AwsApi;

  constructor(options: SqsApiOptions) {
    const { queueUrl, region, endpoint, ...connection } = options;
    const resolvedRegion = region ?? regionOfQueueUrl(queueUrl);
    this.api = new AwsApi({ ...connection, service: 'sqs', endpoint: endpoint ?? new URL(queueUrl).origin, ...(resolvedRegion ? { region: resolvedRegion } : {}) });
  }

  call<T = Record<string, unknown>>(operation: string, input: Record<string, unknown>, abortSignal?: AbortSignal): Promise<T> {
    // As the SDK does: errors then carry SQS's query-protocol codes too (`x-amzn-query-error`).
    return this.api.json<T>(`AmazonSQS.${operation}`, input, { headers: { 'x-amzn-query-mode': 'true' }, ...(abortSignal ? { abortSignal } : {}) });
  }

  async receive(input: Record<string, unknown>, abortSignal?: AbortSignal): Promise<SqsMessage[]> {
    const out = await this.call<{ Messages?: SqsMessage[] }>('ReceiveMessage', input, abortSignal);
    return out.Messages ?? [];
  }

  destroy(): void {
    this.api.destroy();
  }
}

/** `https://sqs.eu-west-1.amazonaws.com/…` → `eu-west-1`. */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https?:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}
