import { afterEach, describe, expect, it } from 'vitest';
import { webhookReceiver as receiver } from './webhookReceiver.testing';
import { type WebhookEvent, createWebhooks, webhookSignature } from './webhooks';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('webhooks', () => {
  it('POSTs signed JSON, retries 5xx with the same delivery id, and counts the delivery', async () => {
    const r = await receiver([503, 500]);
    closers.push(r.close);
    const hooks = createWebhooks({ urls: [r.url], secret: 's3cret', backoffMs: 10 });
    hooks.send('promotion', { candidate: { id: 2, version: 2 }, pairedT: 2.5 });
    expect(hooks.stats().pending).toBe(1);
    await hooks.close();
    expect(hooks.stats()).toEqual({ delivered: 1, failed: 0, pending: 0 });
    expect(r.received).toHaveLength(3);
    expect(new Set(r.received.map((x) => x.headers['x-kflow-delivery'])).size).toBe(1);
    expect(r.received.map((x) => x.headers['x-kflow-attempt'])).toEqual(['1', '2', '3']);
    const last = r.received[2]!;
    const event = JSON.parse(last.body) as WebhookEvent;
    expect(event).toMatchObject({ kind: 'promotion', data: { pairedT: 2.5 } });
    expect(last.headers['x-kflow-event']).toBe('promotion');
    const signature = String(last.headers['x-kflow-signature']);
    const t = Number(/^t=(\d+),/.exec(signature)![1]);
    expect(signature).toBe(webhookSignature('s3cret', t, last.body));
    expect(signature).not.toBe(webhookSignature('other', t, last.body));
  });

  it('gives up on a 4xx at once and on an unreachable receiver after its attempts, saying why', async () => {
    const r = await receiver([400]);
    closers.push(r.close);
    const given: string[] = [];
    const dead = await receiver([]);
    await dead.close();
    const hooks = createWebhooks({ urls: [r.url, dead.url], attempts: 3, backoffMs: 5, onGiveUp: (url, e, why) => given.push(`${url === r.url ? 'r' : 'dead'} ${e.kind} ${why}`) });
    hooks.send('job_failure', { job: 'j1' });
    await hooks.close();
    expect(r.received).toHaveLength(1);
    expect(given.sort()).toEqual([expect.stringMatching(/^dead job_failure fetch failed: .*ECONNREFUSED/), 'r job_failure HTTP 400']);
    expect(hooks.stats()).toEqual({ delivered: 0, failed: 2, pending: 0 });
  });

  it('close stops retrying after its deadline, and bad URLs are refused up front', async () => {
    const r = await receiver([503, 503, 503, 503, 503]);
    closers.push(r.close);
    const given: string[] = [];
    const hooks = createWebhooks({ urls: [r.url], backoffMs: 60_000, onGiveUp: (_u, _e, why) => given.push(why) });
    hooks.send('refusal', {});
    const t0 = performance.now();
    await hooks.close(200);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(given).toEqual(['HTTP 503 (stopped at shutdown)']);
    expect(() => createWebhooks({ urls: ['not a url'] })).toThrow(/is not a URL/);
    expect(() => createWebhooks({ urls: ['ftp://x/y'] })).toThrow(/only http and https/);
  });
});
