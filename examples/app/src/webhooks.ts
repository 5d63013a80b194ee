// Webhooks: JSON POSTs about what the loop decided or what failed, signed, retried, never blocking the caller.
import { createHmac, randomUUID } from 'node:crypto';

/** What a webhook is sent about. */
export type WebhookEventKind = 'promotion' | 'refusal' | 'loss_limit_stop' | 'collector_failure' | 'job_failure';

/** One delivery's body. */
export interface WebhookEvent {
  readonly kind: WebhookEventKind;
  /** Milliseconds since the epoch when the event happened. */
  readonly atMs: number;
  readonly data: Readonly<Record<string, unknown>>;
}

/** Options of {@link createWebhooks}. */
export interface WebhookOptions {
  readonly urls: readonly string[];
  /** Key of the `X-Kflow-Signature` HMAC; without one, deliveries are unsigned. */
  readonly secret?: string;
  /** Attempts per delivery, the first included (default 5). */
  readonly attempts?: number;
  /** Wait before the second attempt, doubled for each next one (default 500 ms). */
  readonly backoffMs?: number;
  /** Time one attempt may take (default 10 s). */
  readonly timeoutMs?: number;
  /** Told about each delivery that failed all its attempts (default: a line on stderr). */
  readonly onGiveUp?: (url: string, event: WebhookEvent, reason: string) => void;
}

/** A delivery's outcome, for `kflow loop --json` and tests. */
export interface WebhookStats {
  readonly delivered: number;
  readonly failed: number;
  readonly pending: number;
}

export interface Webhooks {
  /** Queues `event` for every URL and returns at once. */
  send(kind: WebhookEventKind, data: Readonly<Record<string, unknown>>): void;
  stats(): WebhookStats;
  /** Waits for pending deliveries (their retries included) for at most `ms`, then stops retrying. */
  close(ms?: number): Promise<void>;
}

/**
 * The HMAC-SHA256 signature of a delivery, as sent in `X-Kflow-Signature`: `t=<unix ms>,v1=<hex>` over
 * `<unix ms>.<body>`, so a receiver can check the body and refuse replays of old deliveries.
 *
 * @example
 * const expected = webhookSignature(secret, timestamp, rawBody); // compare with timingSafeEqual
 */
export function webhookSignature(secret: string, timestampMs: number, body: string): string {
  return `t=${timestampMs},v1=${createHmac('sha256', secret).update(`${timestampMs}.${body}`).digest('hex')}`;
}

/**
 * Webhooks to `urls`: each event is POSTed as JSON to every URL with `X-Kflow-Event`, a delivery id
 * (`X-Kflow-Delivery`, the same across retries, so receivers can drop duplicates) and, with a secret, a
 * signature. A delivery is retried with exponential backoff on network errors, timeouts, 429 and 5xx;
 * other 4xx answers are final.
 *
 * @example
 * const hooks = createWebhooks({ urls: ['https://example.com/kflow'], secret: process.env.KFLOW_WEBHOOK_SECRET });
 * hooks.send('promotion', { candidate: { id: 7, version: 3 }, pairedT: 2.8 });
 * await hooks.close();
 */
export function createWebhooks(options: WebhookOptions): Webhooks {
  const attempts = options.attempts ?? 5;
  const backoffMs = options.backoffMs ?? 500;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const giveUp = options.onGiveUp ?? ((url, event, reason) => process.stderr.write(`webhook ${event.kind} to ${url} failed after ${attempts} attempts: ${reason}\n`));
  for (const url of options.urls) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--webhook ${url} is not a URL (http://… or https://…)`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--webhook ${url}: only http and https URLs can receive webhooks`);
  }
  const pending = new Set<Promise<void>>();
  const stopped = new AbortController();
  let delivered = 0;
  let failed = 0;

  const wait = (ms: number) =>
    new Promise<void>((done) => {
      const onAbort = () => {
        clearTimeout(timer);
        done();
      };
      const timer = setTimeout(() => {
        stopped.signal.removeEventListener('abort', onAbort);
        done();
      }, ms);
      stopped.signal.addEventListener('abort', onAbort, { once: true });
    });

  async function deliver(url: string, event: WebhookEvent): Promise<void> {
    const body = JSON.stringify(event);
    const id = randomUUID();
    let reason = '';
    for (let attempt = 1; attempt <= attempts && !stopped.signal.aborted; attempt++) {
      const now = Date.now();
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'x-kflow-event': event.kind,
        'x-kflow-delivery': id,
        'x-kflow-attempt': String(attempt),
        ...(options.secret === undefined ? {} : { 'x-kflow-signature': webhookSignature(options.secret, now, body) }),
      };
      try {
        const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.any([stopped.signal, AbortSignal.timeout(timeoutMs)]) });
        await response.body?.cancel();
        if (response.ok) {
          delivered++;
          return;
        }
        reason = `HTTP ${response.status}`;
        if (response.status < 500 && response.status !== 429) break;
      } catch (error) {
        reason = error instanceof Error ? (error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message) : String(error);
      }
      if (attempt < attempts) await wait(backoffMs * 2 ** (attempt - 1));
    }
    failed++;
    giveUp(url, event, stopped.signal.aborted ? `${reason} (stopped at shutdown)` : reason);
  }

  return {
    send(kind, data) {
      const event: WebhookEvent = { kind, atMs: Date.now(), data };
      for (const url of options.urls) {
        const p = deliver(url, event).finally(() => pending.delete(p));
        pending.add(p);
      }
    },
    stats: () => ({ delivered, failed, pending: pending.size }),
    async close(ms = 10_000) {
      const timer = setTimeout(() => stopped.abort(), ms);
      await Promise.all(pending);
      clearTimeout(timer);
      stopped.abort();
    },
  };
}
