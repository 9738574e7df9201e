import { requestFromApiGateway, responseToApiGateway } from '../../lib/aws/apigw';
import { lambdaMetrics, PowertoolsGatewayMetrics } from '../../lib/aws/metrics';
import { sampleEvent } from '../support/lambda-events';
import { LambdaOutput } from '../support/lambda-output';

describe('API Gateway v2 adapter', () => {
  it('turns the sample event into the neutral request, cookies back into one header', () => {
    const req = requestFromApiGateway(sampleEvent('apigw-events-emit.json'));
    expect(req).toMatchObject({ method: 'POST', path: '/', query: '', host: 'f6g7h8i9j0.execute-api.us-east-1.amazonaws.com' });
    expect(req.headers.cookie).toBe('session=abc123; theme=dark');
    expect(JSON.parse(req.body.toString())).toMatchObject({ eventType: 'user.created' });
  });

  it('decodes a base64 body and keeps the raw query string', () => {
    const event = sampleEvent('apigw-config-list-functions.json');
    event.body = Buffer.from([0, 1, 2, 255]).toString('base64');
    event.isBase64Encoded = true;
    const req = requestFromApiGateway(event);
    expect([...req.body]).toEqual([0, 1, 2, 255]);
    expect(req.query).toBe('metadata.team=growth');
  });

  it('sends binary response bodies base64-encoded and text as is', () => {
    expect(responseToApiGateway({ statusCode: 200, headers: {}, body: Buffer.from([255, 0]) })).toEqual({ statusCode: 200, headers: {}, body: '/wA=', isBase64Encoded: true });
    expect(responseToApiGateway({ statusCode: 202, headers: { a: 'b' }, body: '' })).toEqual({ statusCode: 202, headers: { a: 'b' }, body: '', isBase64Encoded: false });
  });
});

describe('EMF metrics through Powertools', () => {
  it('writes one EMF document per metric and dimension set, counts summed, durations kept, then forgets them', () => {
    const stdout = new LambdaOutput().start();
    try {
      const metrics = new PowertoolsGatewayMetrics(lambdaMetrics());
      metrics.eventReceived('default', 'user.created');
      metrics.eventReceived('default', 'user.created');
      metrics.eventReceived('other', 'user.created');
      metrics.observeProcessing(0.25);
      metrics.observeProcessing(0.5);
      metrics.flush();
      metrics.metrics.publishStoredMetrics();
      const records = stdout.metrics();
      expect(records).toContainEqual({
        _aws: {
          Timestamp: expect.any(Number),
          CloudWatchMetrics: [{ Namespace: 'EventGateway', Dimensions: [['space', 'eventType']], Metrics: [{ Name: 'eventgateway_events_received_total', Unit: 'Count' }] }],
        },
        space: 'default',
        eventType: 'user.created',
        eventgateway_events_received_total: 2,
      });
      expect(records).toContainEqual(expect.objectContaining({ space: 'other', eventgateway_events_received_total: 1 }));
      const processing = records.find((r) => 'eventgateway_events_custom_processing_seconds' in r);
      expect(processing?.eventgateway_events_custom_processing_seconds).toEqual([0.25, 0.5]);
      expect(processing?._aws.CloudWatchMetrics[0].Dimensions).toEqual([]);
      const count = stdout.lines.length;
      metrics.flush();
      metrics.metrics.publishStoredMetrics();
      expect(stdout.metrics()).toHaveLength(count);
    } finally {
      stdout.stop();
    }
  });
});
