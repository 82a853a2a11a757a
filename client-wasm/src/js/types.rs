//! The TypeScript declarations of the JavaScript API that wasm-bindgen cannot derive: the
//! options objects, messages and errors.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(typescript_custom_section)]
const TS_TYPES: &'static str = r#"
/** Connection state. */
export type HowlState = "connecting" | "open" | "reconnecting" | "closed";

/** Options of `HowlClient.connect` / `new HowlClient`; every field is optional. */
export interface HowlOptions {
  /** Ping interval in ms (default 5000); 0 turns pings and dead-connection detection off. */
  pingIntervalMs?: number;
  /** After a ping, how long the server may stay silent before the connection counts as lost (default 10000). */
  pongTimeoutMs?: number;
  /** How long subscribe/unsubscribe, publish, history and presence wait for the server's answer (default 10000). */
  requestTimeoutMs?: number;
  /** How long opening the socket and receiving the server's `initial` may take (default 10000);
   * with `getToken`, also how long `getToken` may take before each attempt. */
  handshakeTimeoutMs?: number;
  /** How many `Subscription.publish` calls may wait while the client is reconnecting
   * (default 100); one more is rejected with "publish_queue_full". */
  publishQueueLimit?: number;
  /** `HowlClient.connect` only: reject with "timeout" (and close the client) unless open
   * within this many ms. */
  timeout?: number;
  /** `HowlClient.connect` only: reject with "aborted" (and close the client) when it aborts. */
  signal?: AbortSignal;
  /** Largest encoded publish frame in bytes (default 65536); 0 means no client-side limit. */
  maxFrameBytes?: number;
  /** Reconnect after a lost connection (default true). */
  reconnect?: boolean;
  /** Delay before the first reconnect attempt in ms (default 500). */
  reconnectInitialDelayMs?: number;
  /** Longest delay between attempts in ms (default 10000). */
  reconnectMaxDelayMs?: number;
  /** Growth factor of the delay, ≥ 1 (default 2). */
  reconnectMultiplier?: number;
  /** Fraction in [0, 1] by which each delay is randomly shortened (default 0.5). */
  reconnectJitter?: number;
  /** Consecutive failed attempts before giving up; null retries forever (default null). */
  reconnectMaxAttempts?: number | null;
  /** Connection token (JWT) for a hub in secured mode, the same on every connection. It
   * cannot be renewed: when it expires the client closes with "token_expired". Not with
   * `getToken`. */
  token?: string;
  /** Gets a connection token: called before every connection attempt (so never an expired
   * token again after close 4004) and shortly before the current token's `exp`, when the
   * client sends it in `refresh` and the connection goes on. A rejection or no token is
   * reported to `onError` as "token_unavailable"; the attempt is retried with backoff (before
   * `exp`: the server closes with 4004 and the client reconnects with a new token). */
  getToken?: () => Promise<string> | string;
  /** Gets a subscription token for `channel` (namespaces whose `subscribe` rule is "token"):
   * called before every subscribe, re-subscriptions after a reconnect included. null or
   * undefined: the channel needs none. A rejection fails that subscribe ("token_unavailable"). */
  getSubscriptionToken?: (channel: string) => Promise<string | null | undefined> | string | null | undefined;
}

/** A message pushed on a subscribed channel; `T` is what the application expects in `data`
 * (not checked at run time). */
export interface HowlMessage<T = unknown> {
  channel: string;
  /** The published JSON value, unchanged. */
  data: T;
  /** Per-channel sequence number (0: published into Redis without one, "not numbered"). */
  seq: number;
  /** When the server accepted it, ms since the Unix epoch. */
  time: number;
}

/** Every error the SDK throws, rejects with or reports is an `Error` with a stable `code`:
 * a server code (e.g. "invalid_channel", "rate_limited", "too_many_subscriptions",
 * "permission_denied", and "unauthorized" or "token_expired" when the server refused the
 * connection token for good) or one of "timeout", "closed", "not_connected",
 * "message_too_large", "cancelled", "connection_failed", "invalid_config", "invalid_url",
 * "invalid_options", "invalid_data", "protocol_violation", "token_unavailable",
 * "publish_queue_full", "connection_lost", "aborted". */
export interface HowlError extends Error {
  code: string;
  /** For errors reported by the server: the rejected request's type, when known. */
  request?: string;
  /** The channel concerned, when known. */
  channel?: string;
}

/** Names of `HowlClient.on` events. */
export type HowlClientEventName = "state" | "connecting" | "connected" | "disconnected" | "error";

/** Names of `Subscription.on` events. */
export type SubscriptionEventName =
  "message" | "subscribed" | "unsubscribed" | "error" | "gap" | "join" | "leave";

/** A place in a channel's stream: message `seq` of stream `epoch`. `seq` grows by one per
 * message within an epoch; a new epoch (server restart, history evicted or expired) means
 * what came before can no longer be recovered. */
export interface HowlPosition {
  epoch: string;
  seq: number;
}

/** The second argument of a "subscribed" listener. */
export interface HowlSubscribedInfo {
  /** True for a re-subscription after a reconnect that recovered every message missed while
   * away: they follow as ordinary "message" events, in order, before any live one. False for
   * a first subscription, or when the missed messages were lost (a "gap" event follows). */
  recovered: boolean;
  /** How many missed messages follow (0 unless `recovered`). */
  recoveredCount: number;
  /** The stream's epoch when the subscription started (null: the server sent no position). */
  epoch: string | null;
  /** The stream's last `seq` when the subscription started (null likewise). */
  seq: number | null;
}

/** The argument of a "gap" listener: messages lost for good, every one after `from` up to
 * and including `to`. */
export interface HowlGap {
  channel: string;
  /** The last position delivered before the loss. */
  from: HowlPosition;
  /** Where delivery resumes after. */
  to: HowlPosition;
}

/** Options of `Subscription.history`; by default the channel's whole history. */
export interface HistoryOptions {
  /** At most this many messages: the latest ones, or with `since` the first ones after it. */
  limit?: number;
  /** Only messages after this position (if its epoch is no longer the stream's, the latest
   * ones: compare the result's `epoch`). */
  since?: HowlPosition;
}

/** What `Subscription.history` resolves with. */
export interface HowlHistory<T = unknown> {
  /** The stream's current epoch. */
  epoch: string;
  /** The stream's current (last) `seq`. */
  seq: number;
  /** The messages, oldest first. */
  messages: HowlMessage<T>[];
}

/** One connection subscribed to a channel with presence. */
export interface HowlMember {
  /** Its connection id (`HowlClient.id` on that client). */
  client: string;
  /** Its connection token's user (`sub`); absent in open mode. */
  user?: string;
  /** Its connection token's `info` claim. */
  info?: unknown;
}

/** What `Subscription.presence` resolves with. */
export interface HowlPresence {
  /** How many connections are subscribed. */
  count: number;
  /** Who they are; null when there are more than the namespace lists. */
  members: HowlMember[] | null;
}

/** Typed overloads of `HowlClient.on` (merged into the class). */
export interface HowlClient {
  on(event: "state", listener: (state: HowlState) => void): () => void;
  on(event: "connecting", listener: (info: { attempt: number; delayMs: number }) => void): () => void;
  on(event: "connected", listener: (info: { clientId: string }) => void): () => void;
  on(event: "disconnected", listener: (info: { code: number; reason: string; willReconnect: boolean }) => void): () => void;
  on(event: "error", listener: (error: HowlError) => void): () => void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Typed overloads of `Subscription.on` (merged into the class). */
export interface Subscription {
  on<T = unknown>(event: "message", listener: (message: HowlMessage<T>) => void): () => void;
  on(event: "subscribed", listener: (channel: string, info: HowlSubscribedInfo) => void): () => void;
  on(event: "unsubscribed", listener: (channel: string) => void): () => void;
  on(event: "error", listener: (error: HowlError) => void): () => void;
  on(event: "gap", listener: (gap: HowlGap) => void): () => void;
  on(event: "join" | "leave", listener: (member: HowlMember) => void): () => void;
}

/** Options of `publish`. */
export interface PublishOptions {
  /** Do not deliver the message back to this client (default false). */
  excludeSelf?: boolean;
}
"#;

#[wasm_bindgen]
extern "C" {
    /// `HowlOptions` (see the TypeScript section above).
    #[wasm_bindgen(typescript_type = "HowlOptions")]
    pub type HowlOptions;

    /// `PublishOptions` (see the TypeScript section above).
    #[wasm_bindgen(typescript_type = "PublishOptions")]
    pub type PublishOptions;

    /// `HistoryOptions` (see the TypeScript section above).
    #[wasm_bindgen(typescript_type = "HistoryOptions")]
    pub type HistoryOptions;
}
