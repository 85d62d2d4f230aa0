/** A Dash network. */
export type Network = 'mainnet' | 'testnet';

/** Options for {@link DashlightClient.create}. */
export interface ClientOptions {
  /** Which Dash network to follow. */
  network: Network;
  /** WebSocket URLs of bridges to dashd (`ws://` or `wss://`); one peer per URL at most. */
  bridges: string[];
  /** IndexedDB database name; defaults to `dashlight-<network>`. */
  storageName?: string;
  /** How many peers to keep connected (1–8); defaults to min(bridges, 3). */
  maxPeers?: number;
  /** Start a new chain from the compiled-in checkpoint at or below this height (default: the newest). */
  baseHeight?: number;
  /** Multiplies every timeout and retry delay (default 1; tests use e.g. 0.05). */
  timeoutScale?: number;
  /**
   * Testing aid: the client's wall clock is `startUnix + (Date.now() − launch) × rate / 1000`
   * seconds instead of the real one (timeouts keep real time), so a page can live at a replay's
   * time and speed. `startUnix` ≥ 0 (seconds), `rate` in (0, 10000].
   */
  clock?: { startUnix: number; rate: number };
}

/** The state every sync manager is in. */
export type SyncStateName = 'WaitingForConnections' | 'WaitForEvents' | 'Syncing' | 'Synced' | 'Error';

/** One sync manager's progress. */
export interface ManagerProgress {
  /** Its state. */
  state: SyncStateName;
  /** Why it is in `Error`, if it is. */
  error?: string;
  /** The height it has reached. */
  currentHeight: number;
  /** The height it is heading for. */
  targetHeight: number;
  /** currentHeight / targetHeight, 0–100. */
  percent: number;
}

/** Masternode list sync progress. */
export interface MasternodeProgress extends ManagerProgress {
  /** MnListDiffs applied (inside QRInfos too). */
  diffsProcessed: number;
  /** QRInfo requests sent. */
  qrinfosRequested: number;
  /** Quorums verified. */
  quorumsVerified: number;
  /** Quorums that could not be verified (a list they need is missing). */
  quorumsUnverified: number;
}

/** A ChainLock that dashlight verified. */
export interface VerifiedChainLock {
  /** Height of the locked block. */
  height: number;
  /** Hash of the locked block (display order hex). */
  blockHash: string;
  /** LLMQ type of the quorum that signed it. */
  llmqType: number;
  /** Hash of the quorum that signed it. */
  quorumHash: string;
  /** Whether that quorum's own commitment was verified (false: a list its members need is missing). */
  quorumVerified: boolean;
}

/** The whole client's status. */
export interface Status {
  /** The network. */
  network: Network;
  /** The aggregate sync state. */
  state: SyncStateName;
  /** Connected peers (handshake done). */
  peers: number;
  /** Header sync. */
  headers: ManagerProgress;
  /** Masternode list and quorum sync. */
  masternodes: MasternodeProgress;
  /** ChainLock sync. */
  chainlocks: ManagerProgress & { lastVerified?: VerifiedChainLock };
  /** The most recent error, if any. */
  lastError?: { code: string; message: string };
  /** Whether the browser granted persistent storage (`navigator.storage.persist()`). */
  persistentStorage?: boolean;
}

/** A state change of one manager (`statechange` event). */
export interface StateChange {
  /** `headers`, `masternodes`, `chainlocks` or `sync` (the aggregate). */
  manager: 'headers' | 'masternodes' | 'chainlocks' | 'sync';
  /** Previous state. */
  from: SyncStateName;
  /** New state. */
  to: SyncStateName;
  /** Why, for `Error`. */
  cause?: string;
  /** Milliseconds since the client started. */
  at: number;
}

/** An entry of the deterministic masternode list. */
export interface MasternodeEntry {
  /** ProRegTx hash. */
  proRegTxHash: string;
  /** `ip:port` of the service. */
  service: string;
  /** Whether the masternode is valid (not PoSe-banned). */
  valid: boolean;
  /** `Regular` or `Evo`. */
  type: 'Regular' | 'Evo';
  /** The operator's BLS public key, hex. */
  operatorPublicKey: string;
}

/** An active LLMQ quorum. */
export interface QuorumInfo {
  /** LLMQ type number. */
  llmqType: number;
  /** LLMQ type name, e.g. `LLMQ_50_60`. */
  llmqName: string;
  /** Quorum hash. */
  quorumHash: string;
  /** Height of the quorum block, if known. */
  height?: number;
  /** Whether dashlight verified its commitment. */
  verified: boolean;
  /** Why it is not verified, if it is not. */
  unverifiedReason?: string;
}

/** A block header of the verified best chain ({@link DashlightClient.header}). */
export interface BlockHeaderInfo {
  /** Its height. */
  height: number;
  /** Its X11 hash, hex in display order. */
  hash: string;
  /** The header's version field. */
  version: number;
  /** The previous block's hash (display order). */
  prevHash: string;
  /** The transactions' merkle root (display order), to check inclusion proofs against. */
  merkleRoot: string;
  /** Block time, seconds since the epoch. */
  time: number;
  /** The proof-of-work target, compact form. */
  bits: number;
  /** The proof-of-work nonce. */
  nonce: number;
  /** Blocks on the best chain from it to the tip, itself included. */
  confirmations: number;
  /** Whether it is at or below the last verified ChainLock (so final). */
  chainLocked: boolean;
  /** The 80 header bytes, hex. */
  raw: string;
}

/** The result of {@link DashlightClient.verifyChainLock}. */
export type ChainLockVerification =
  | ({ valid: true } & VerifiedChainLock)
  | { valid: false; height: number; blockHash: string; reason: string };

/** Stable error codes. */
export type ErrorCode =
  | 'invalid_options'
  | 'invalid_message'
  | 'storage_quota_exceeded'
  | 'storage_failed'
  | 'storage_locked'
  | 'not_initialised'
  | 'not_running'
  | 'invalid_argument'
  | 'worker_failed'
  | 'unknown_method'
  | 'internal';

/** An error from dashlight, with a stable `code`. */
export class DashlightError extends Error {
  /** The error code. */
  readonly code: ErrorCode | string;
  constructor(code: string, message: string);
}

/** Event payloads by event name. */
export interface DashlightEventMap {
  /** Progress of every manager (throttled). */
  progress: CustomEvent<Status>;
  /** A manager changed state. */
  statechange: CustomEvent<StateChange>;
  /** A ChainLock was verified. */
  chainlock: CustomEvent<VerifiedChainLock>;
  /** The number of connected peers changed. */
  peers: CustomEvent<{ connected: number; peers: { url: string; state: string; userAgent?: string; height?: number }[] }>;
  /** A log line. */
  log: CustomEvent<{ level: 'debug' | 'info' | 'warn' | 'error'; message: string; at: number }>;
  /** An error the client recovered from or could not. */
  error: CustomEvent<{ code: string; message: string }>;
}

/** Checks options and fills in defaults; throws a `DashlightError` with code `invalid_options`. */
export function validateOptions(options: ClientOptions): Required<Omit<ClientOptions, 'baseHeight'>> & { baseHeight?: number };

/** A Dash light client running in a Web Worker. */
export class DashlightClient extends EventTarget {
  /** Creates a client (and its worker). */
  static create(options: ClientOptions): Promise<DashlightClient>;
  /** Connects and syncs. */
  start(): Promise<void>;
  /** Disconnects and stops syncing; stored data is kept. */
  stop(): Promise<void>;
  /** The current status. */
  status(): Promise<Status>;
  /** Verifies a raw `clsig` payload (`le32 height || hash || 96-byte sig`). */
  verifyChainLock(bytes: Uint8Array): Promise<ChainLockVerification>;
  /**
   * The best chain's header at a height, or with a block hash (hex, display order);
   * `null` if the best chain has no such block. Rejects with `invalid_argument` otherwise.
   */
  header(block: number | string): Promise<BlockHeaderInfo | null>;
  /** The current masternode list. */
  masternodeList(): Promise<MasternodeEntry[]>;
  /** The active quorums. */
  quorums(): Promise<QuorumInfo[]>;
  /** Closes every peer connection; the client reconnects by itself. */
  dropConnections(): Promise<void>;
  /** Stops and deletes everything stored for this client. */
  clearStorage(): Promise<void>;
  /** Stops the client and ends its worker. */
  close(): Promise<void>;
  addEventListener<K extends keyof DashlightEventMap>(type: K, listener: (event: DashlightEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DashlightEventMap>(type: K, listener: (event: DashlightEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
