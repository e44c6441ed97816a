/**
 * Per-connection and per-address limits of the API. Every limit has a
 * config key in config/node.json `api` (schema: chain/devnet/home.ts) and an
 * error code the client sees; chain/api/README.md lists them.
 */

export interface ApiLimitsConfig {
  /** Largest client frame handled (bytes). Larger frames up to 4× get an error, beyond that the socket is closed (1009). */
  max_frame_bytes: number;
  /** Subscriptions one connection may hold. */
  max_subscriptions: number;
  /** Open connections from one remote address. */
  max_connections_per_ip: number;
  /** Client messages per second per connection (token bucket, burst = the same number). */
  max_messages_per_second: number;
  /**
   * Client messages per second from one remote address, all its connections together (token bucket):
   * without it, one address could open max_connections_per_ip connections and send each at the full rate.
   */
  max_messages_per_second_per_ip: number;
  /** Ping interval; a peer that has not answered the previous ping is dropped. */
  heartbeat_ms: number;
  /** Bytes queued for a connection beyond which it is a slow consumer and is disconnected. */
  max_buffered_bytes: number;
  /** How long a slow consumer gets to read the error and the close frame before the socket is destroyed. */
  slow_consumer_grace_ms: number;
  /** Blocks after which a submitted tx that was not included is reported as timed out. */
  inclusion_timeout_blocks: number;
}

export const DEFAULT_LIMITS: ApiLimitsConfig = {
  max_frame_bytes: 1024 * 1024,
  max_subscriptions: 100,
  max_connections_per_ip: 50,
  max_messages_per_second: 200,
  max_messages_per_second_per_ip: 1000,
  heartbeat_ms: 30_000,
  max_buffered_bytes: 8 * 1024 * 1024,
  slow_consumer_grace_ms: 2_000,
  inclusion_timeout_blocks: 100,
};

/** WebSocket close codes the server uses (4000–4999: application codes). */
export const CLOSE = {
  frameTooLarge: 1009,
  rateLimited: 4029,
  tooManyConnections: 4030,
  slowConsumer: 4031,
  shuttingDown: 1001,
} as const;

/** A token bucket: `rate` tokens per second, at most `rate` in store. */
export class TokenBucket {
  private tokens: number;
  private last: number;
  /** Refusals in the current one-second window (to drop a peer that keeps flooding). */
  private refusals = 0;
  private windowStart: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
    this.windowStart = now;
  }

  /** Whether the bucket has refilled completely (forgetting it then loses nothing). */
  isFull(now: number): boolean {
    return this.tokens + ((now - this.last) / 1000) * this.rate >= this.rate;
  }

  /** Take one token: 'ok', 'refused', or 'flood' when refusals in the last second passed the rate itself. */
  take(now: number): 'ok' | 'refused' | 'flood' {
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 'ok';
    }
    if (now - this.windowStart >= 1000) {
      this.windowStart = now;
      this.refusals = 0;
    }
    this.refusals++;
    return this.refusals > this.rate ? 'flood' : 'refused';
  }
}

/** Open connections per remote address. */
export class AddressCounter {
  private readonly counts = new Map<string, number>();

  tryAdd(ip: string, max: number): boolean {
    const n = this.counts.get(ip) ?? 0;
    if (n >= max) return false;
    this.counts.set(ip, n + 1);
    return true;
  }

  remove(ip: string): void {
    const n = (this.counts.get(ip) ?? 0) - 1;
    if (n <= 0) this.counts.delete(ip);
    else this.counts.set(ip, n);
  }

  count(ip: string): number {
    return this.counts.get(ip) ?? 0;
  }
}
