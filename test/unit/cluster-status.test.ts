import { clusterStatus } from '../../lib/health';

describe('clusterStatus', () => {
  it('is ok when the primary and every worker are', () => {
    expect(clusterStatus({ status: 'ok' }, [{ status: 'ok' }, { status: 'ok' }])).toEqual({ status: 'ok' });
  });

  it('names the worker a reason comes from, and gives a reason shared by several processes once', () => {
    const registry = 'unavailable: connect ECONNREFUSED';
    const status = clusterStatus({ status: 'degraded', registry }, [
      { status: 'degraded', registry, queue: 'unavailable: database or disk is full' },
      { status: 'degraded', registry },
    ]);
    expect(status).toEqual({
      status: 'degraded',
      registry: 'unavailable: connect ECONNREFUSED (primary, worker 0, worker 1)',
      queue: 'unavailable: database or disk is full (worker 0)',
    });
  });

  it('counts the workers that did not answer as degraded', () => {
    expect(clusterStatus({ status: 'ok' }, [{ status: 'ok' }, undefined, undefined])).toEqual({ status: 'degraded', workers: '2 of 3 not answering' });
  });
});
