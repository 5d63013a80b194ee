import type { WebSocket } from 'ws';
import type { BookView, OrderbookCommand } from './protocol';

/** Limits that keep a slow browser from ever slowing the producer. */
export interface StreamLimits {
  /** Orderbook updates per market and client per second (default 10). */
  readonly maxPerSecond?: number;
  /** Messages a client may have queued before it is disconnected (default 2,000). */
  readonly maxQueuedMessages?: number;
  /** Bytes the socket may hold unsent before the client gets nothing more until it drains (default 1 MiB). */
  readonly highWaterBytes?: number;
}

/** How often produced messages become frames: rare enough to batch, often enough for a live view. */
const FLUSH_MS = 50;

/** Close code for a client that does not keep up (application range). */
export const SLOW_CONSUMER_CLOSE = 4008;

interface QueueClient {
  readonly ws: WebSocket;
  /** Frames not sent yet (each a JSON array of messages), and how many messages they hold. */
  readonly queue: { readonly text: string; readonly count: number }[];
  queued: number;
}

interface BookClient {
  readonly ws: WebSocket;
  all: boolean;
  readonly tickers: Set<string>;
  /** Subscribed markets whose book changed since it was last sent. */
  readonly dirty: Set<string>;
  readonly lastSentMs: Map<string, number>;
}

/**
 * Fan-out of live data to WebSocket clients, decoupled from the producers: producers only append to an
 * array or mark a ticker dirty (O(1), on their own path); a timer (every 50 ms) turns that into frames.
 * Every frame is a JSON array of messages. Queued channels (actions, training) send one frame per flush
 * with the messages since the last, serialized once for every client; order books are conflated per
 * market (the latest book, at most `maxPerSecond` times a second), one frame per client and flush. A client that falls `maxQueuedMessages`
 * behind is disconnected with close code 4008, and nothing is sent to a socket holding more than
 * `highWaterBytes` unsent.
 */
export class StreamHub {
  private readonly maxPerSecond: number;
  private readonly maxQueued: number;
  private readonly highWater: number;
  private readonly queueClients = new Map<string, Set<QueueClient>>();
  private readonly bookClients = new Set<BookClient>();
  /** Raw messages produced since the last flush, per channel. */
  private readonly produced = new Map<string, unknown[]>();
  /** Markets whose book changed since the last flush. */
  private readonly changed = new Set<string>();
  private readonly timer: ReturnType<typeof setInterval>;
  /** Clients closed for not keeping up. */
  disconnectedSlow = 0;

  /**
   * `bookOf` gives a market's current book; `toMessage` turns what producers publish on a channel into
   * its wire message, at flush time (off the producer's path; default: as published).
   */
  constructor(
    private readonly bookOf: (ticker: string) => BookView | undefined,
    limits: StreamLimits = {},
    private readonly toMessage: Readonly<Record<string, (published: never) => unknown>> = {},
  ) {
    this.maxPerSecond = limits.maxPerSecond ?? 10;
    this.maxQueued = limits.maxQueuedMessages ?? 2_000;
    this.highWater = limits.highWaterBytes ?? 1 << 20;
    this.timer = setInterval(() => this.flush(), FLUSH_MS);
    this.timer.unref();
  }

  get clients(): number {
    let n = this.bookClients.size;
    for (const set of this.queueClients.values()) n += set.size;
    return n;
  }

  /** A producer's message for every client of `channel` (O(1): mapped, serialized and sent by the next flush). */
  publish(channel: string, message: unknown): void {
    let list = this.produced.get(channel);
    if (list === undefined) this.produced.set(channel, (list = []));
    list.push(message);
  }

  /** A market's book changed (O(1)). */
  bookChanged(ticker: string): void {
    this.changed.add(ticker);
  }

  /** A client of a queued channel (`actions`, `training`). */
  addQueueClient(channel: string, ws: WebSocket): void {
    const client: QueueClient = { ws, queue: [], queued: 0 };
    let set = this.queueClients.get(channel);
    if (set === undefined) this.queueClients.set(channel, (set = new Set()));
    set.add(client);
    ws.on('close', () => set.delete(client));
  }

  /** A client of the order-book stream; its commands (subscribe / unsubscribe) arrive as messages. */
  addBookClient(ws: WebSocket): void {
    const client: BookClient = { ws, all: false, tickers: new Set(), dirty: new Set(), lastSentMs: new Map() };
    this.bookClients.add(client);
    ws.on('close', () => this.bookClients.delete(client));
    ws.on('message', (data) => {
      let command: OrderbookCommand;
      try {
        command = JSON.parse(String(data)) as OrderbookCommand;
        if ((command.type !== 'subscribe' && command.type !== 'unsubscribe') || !Array.isArray(command.tickers)) throw new Error('bad command');
      } catch {
        this.sendNow(client.ws, { type: 'error', message: 'expected {"type":"subscribe"|"unsubscribe","tickers":[...]}' });
        return;
      }
      const tickers = command.tickers.filter((t): t is string => typeof t === 'string');
      if (command.type === 'unsubscribe') {
        for (const t of tickers) {
          if (t === '*') client.all = false;
          client.tickers.delete(t);
          client.dirty.delete(t);
        }
        return;
      }
      this.sendNow(client.ws, { type: 'subscribed', tickers, maxPerSecond: this.maxPerSecond });
      for (const t of tickers) {
        if (t === '*') client.all = true;
        else client.tickers.add(t);
      }
      // The snapshot of each market now; updates follow as its book changes.
      for (const t of tickers) {
        if (t === '*') continue;
        const book = this.bookOf(t);
        if (book !== undefined) this.sendNow(client.ws, { type: 'snapshot', book });
        client.lastSentMs.set(t, Date.now());
      }
    });
  }

  /** Stops the timer and drops every client. */
  close(): void {
    clearInterval(this.timer);
    for (const c of this.bookClients) c.ws.terminate();
    for (const set of this.queueClients.values()) for (const c of set) c.ws.terminate();
  }

  private flush(): void {
    // Queued channels: one frame per flush (a JSON array of the messages produced since the last), built
    // once and shared by every client; a client that is behind queues it.
    for (const [channel, messages] of this.produced) {
      if (messages.length === 0) continue;
      const map = this.toMessage[channel] as ((published: unknown) => unknown) | undefined;
      const frame = { text: JSON.stringify(map === undefined ? messages : messages.map(map)), count: messages.length };
      messages.length = 0;
      for (const client of this.queueClients.get(channel) ?? []) {
        client.queue.push(frame);
        client.queued += frame.count;
      }
    }
    for (const set of this.queueClients.values()) {
      for (const client of set) {
        let sent = 0;
        while (sent < client.queue.length && client.ws.bufferedAmount < this.highWater) {
          const frame = client.queue[sent++]!;
          client.ws.send(frame.text);
          client.queued -= frame.count;
        }
        if (sent > 0) client.queue.splice(0, sent);
        // What the socket could not take waits; too much waiting means the client does not keep up.
        if (client.queued > this.maxQueued) {
          client.queue.length = 0;
          client.queued = 0;
          this.dropSlow(client.ws);
        }
      }
    }
    // Order books: mark, conflate, rate-limit per market, skip sockets that are backed up.
    if (this.bookClients.size === 0) {
      this.changed.clear();
      return;
    }
    const now = Date.now();
    // One view and one JSON text per market and flush, shared by every client that gets it.
    const texts = new Map<string, string | undefined>();
    for (const client of this.bookClients) {
      for (const t of this.changed) if (client.all || client.tickers.has(t)) client.dirty.add(t);
      if (client.dirty.size === 0 || client.ws.bufferedAmount >= this.highWater) continue;
      const due: string[] = [];
      for (const t of client.dirty) {
        if (now - (client.lastSentMs.get(t) ?? 0) < 1000 / this.maxPerSecond) continue;
        let text = texts.get(t);
        if (!texts.has(t)) {
          const view = this.bookOf(t);
          texts.set(t, (text = view === undefined ? undefined : JSON.stringify({ type: 'book', book: view })));
        }
        client.dirty.delete(t);
        if (text === undefined) continue;
        client.lastSentMs.set(t, now);
        due.push(text);
      }
      // One frame per client and flush: a JSON array of the books due.
      if (due.length > 0) client.ws.send(`[${due.join(',')}]`);
      if (client.dirty.size > this.maxQueued) this.dropSlow(client.ws);
    }
    this.changed.clear();
  }

  private sendNow(ws: WebSocket, message: unknown): void {
    if (ws.bufferedAmount < this.highWater) ws.send(JSON.stringify([message]));
  }

  private dropSlow(ws: WebSocket): void {
    this.disconnectedSlow++;
    ws.close(SLOW_CONSUMER_CLOSE, 'slow consumer: too far behind');
    // A socket that does not read may never complete the closing handshake; one that reads again gets
    // a few seconds to reach the close frame behind its backlog.
    setTimeout(() => ws.terminate(), 5000).unref();
  }
}
