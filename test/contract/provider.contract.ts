import { defaultProviderDeps, type ProviderDeps, type ProviderDepsOptions } from '../../lib/providers/index';
import type { Provider, TargetFailure } from '../../lib/providers/provider';
import { closedPortUrl } from '../support/ports';
import { TestTarget } from '../support/target';
import { failureOf } from '../support/waiting';

/** One provider type with a real stand-in for its target on loopback. */
export interface ProviderHarness {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** A provider whose target takes the event. */
  working(deps: ProviderDeps): Provider;
  /** The events the stand-in got, parsed from what it stored. */
  received(): Promise<unknown[]>;
  /** A provider whose target refuses the call (missing resource, failing function…). */
  refusing(deps: ProviderDeps): Provider;
  /** The reason a refusal must be reported with. */
  refusal: TargetFailure;
  /** A provider aimed at a base URL: nothing listening there, or a server that never answers. */
  aimedAt(url: string, deps: ProviderDeps): Provider;
  /** A secret of the configs above, which no error message may contain. */
  secret: string;
}

const event = (eventID: string) => ({ eventType: 'user.created', cloudEventsVersion: '0.1', source: '/contract', eventID, contentType: 'application/json', data: { name: 'Ada' } });

/** How a gateway's provider dependencies are made: the local server's (undici) by default, or the Lambda handlers' (node:http). */
export interface DepsMaker {
  name: string;
  make(options: ProviderDepsOptions): ProviderDeps;
}

const localDeps: DepsMaker = { name: 'undici', make: defaultProviderDeps };

/** The behaviour every provider must have, run against each type's stand-in. */
export function providerContract(harness: ProviderHarness, depsMaker: DepsMaker = localDeps): void {
  describe(`provider contract: ${harness.name} (${depsMaker.name})`, () => {
    let deps: ProviderDeps;
    beforeAll(async () => {
      deps = depsMaker.make({ timeoutMs: 500, targetNetworks: { allowLoopback: true } });
      await harness.start();
    });
    afterAll(async () => {
      await harness.stop();
      await deps.close();
    });

    it('delivers the event and resolves with the answer', async () => {
      const sent = event('contract-ok-1');
      const answer = await harness.working(deps).invoke(JSON.stringify(sent), { deliveryId: 'delivery-1', eventId: sent.eventID, eventType: sent.eventType });
      expect(Buffer.isBuffer(answer)).toBe(true);
      expect(await harness.received()).toContainEqual(sent);
    });

    it(`reports a refused call as "${harness.refusal}", without secrets in the message`, async () => {
      const err = await failureOf(harness.refusing(deps).invoke(JSON.stringify(event('contract-refused')), { eventId: 'contract-refused', eventType: 'user.created' }));
      expect(err.reason).toBe(harness.refusal);
      expect(err.message).not.toContain(harness.secret);
    });

    it('reports a target where nothing listens as unreachable', async () => {
      const err = await failureOf(harness.aimedAt(await closedPortUrl(), deps).invoke(JSON.stringify(event('contract-unreachable'))));
      expect(err.reason).toBe('unreachable');
      expect(err.retryable).toBe(true);
      expect(err.message).not.toContain(harness.secret);
    });

    it('gives up on a target that does not answer in time', async () => {
      const silent = await TestTarget.start();
      silent.behaviour = () => 'hang';
      try {
        const err = await failureOf(harness.aimedAt(silent.url.replace(/\/$/, ''), deps).invoke(JSON.stringify(event('contract-timeout'))));
        expect(err.reason).toBe('timeout');
        expect(err.retryable).toBe(true);
      } finally {
        await silent.close();
      }
    });
  });
}
