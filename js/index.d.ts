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
   * Web Workers the client's worker spreads quorum signature checks over, and the X11 hashing
   * of long header batches (a sync from an old checkpoint or genesis) (0–8; default
   * min(navigator.hardwareConcurrency, 2)); 0 does both in the client's worker. With 2 or
   * more, the quorum a ChainLock waits for is checked first, split over them. The results
   * are the same either way; a worker that fails or does not answer is replaced by the
   * client's worker.
   */
  checkWorkers?: number;
  /**
   * The least chain work the best chain must have before the client reports it as synced or
   * lets the reorganisation limit protect it. Default: the compiled-in floor, the larger of
   * Dash Core's `nMinimumChainWork` (from its newest release) and the work through the newest
   * checkpoint. `"checkpoint"` lowers it to the newest checkpoint's work; a hex string (1–64
   * digits, big-endian as Dash Core shows `chainwork`, optional `0x`) sets it, `"0"` for none.
   * A testing aid for replays of recorded history that ends below the default: a lower floor
   * lets a cheap low-difficulty fork be reported as synced. Leave unset in production.
   */
  minimumChainWork?: 'checkpoint' | string;
  /**
   * A testing aid, like `timeoutScale`: a wall clock that reads `startUnix` (Unix seconds) at
   * launch and runs `rate` times as fast as the real one (0 < rate ≤ 10,000), so a page can live
   * at the time of captured data and at a replay's speed. Header times are judged against it;
   * timeouts keep real time. Leave unset in production.
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
  /** Quorums that could not be verified (a list they need is missing); those still queued are not counted. */
  quorumsUnverified: number;
  /** Quorums queued for verification: verified a slice at a time, after the ChainLock quorums of the newest list. */
  quorumsPending: number;
  /** Quorums whose signature check a checking worker answered (see `checkWorkers`). */
  checkedInWorkers: number;
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
  headers: ManagerProgress & {
    /** Headers whose X11 hash a checking worker computed (full batches of a long sync). */
    hashedInWorkers: number;
  };
  /** Masternode list and quorum sync. */
  masternodes: MasternodeProgress;
  /** ChainLock sync. */
  chainlocks: ManagerProgress & {
    lastVerified?: VerifiedChainLock;
    /** Milliseconds from the first QRInfo's arrival to the first ChainLock verified. */
    firstAfterQrInfoMs?: number;
    /** The same, to the first ChainLock verified whose signing quorum is verified too. */
    firstWithVerifiedQuorumAfterQrInfoMs?: number;
    /** ChainLocks the sync verified (`chainlock` events). */
    verified: number;
    /** ChainLock signatures checked, by the sync or by `verifyChainLock`: one per ChainLock checked. */
    signatureChecks: number;
  };
  /** The most recent error, if any. */
  lastError?: { code: string; message: string };
  /** Whether the browser granted persistent storage (`navigator.storage.persist()`). */
  persistentStorage?: boolean;
  /** Whether what the client verifies reaches IndexedDB (set once started). */
  storage?: StorageStatus;
  /** How often the worker woke up for a timer since it started: it sleeps until the next deadline. */
  timerWakeups: number;
}

/**
 * Whether saving works (`status.storage`, `storage` event). A failed save (e.g. over quota)
 * is retried after each change; the headers it missed are held in memory (up to 80,000)
 * so saving catches up once storage works again, with a `storage` event `{ state: 'ok' }`.
 */
export type StorageStatus =
  | { state: 'ok'; /** The stored header tip's height. */ storedHeight: number }
  | {
      state: 'failing';
      /** The stored header tip's height (behind the chain's). */
      storedHeight: number;
      /** Headers of failed saves held in memory until storage works again. */
      unsavedHeaders: number;
      /** Saves failed in a row. */
      failedSaves: number;
      /** Why the last save failed. */
      error: string;
    };

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

/** The result of checking an InstantSend lock (`verifyInstantLock`, `instantlock` event). */
export interface InstantLockResult {
  /** Whether the signature verified against the quorum the lock's cycle and request id select. */
  verified: boolean;
  /** The locked transaction (display order). */
  txid: string;
  /** The locked outpoints, `txid:vout`. */
  outpoints: string[];
  /** The InstantSend LLMQ type (5, LLMQ_60_75). */
  llmqType: number;
  /** The quorum the signature was checked against, if one was found. */
  quorumHash: string | null;
  /** Whether that quorum's own commitment was verified too. */
  quorumVerified: boolean;
  /** Height of the lock's cycle block, if on the verified header chain. */
  cycleHeight: number | null;
  /** The quorum index (within the cycle) the request id selects. */
  quorumIndex: number;
  /** The lock's request id (display order). */
  requestId: string;
  /** Whether the lock is provably wrong (not merely unverifiable with the data at hand). */
  invalid: boolean;
  /** `quorum_unknown` (cycle or quorum not known yet) or `verification_failed`, when not verified. */
  code?: 'quorum_unknown' | 'verification_failed';
  /** Why it did not verify. */
  reason?: string;
}

/** A transaction proof: partial merkle tree bytes (bare, or after the 80-byte header as in `merkleblock`), or a merkle branch. */
export type TransactionProof = Uint8Array | { branch: string[]; position: number };

/** The request of {@link DashlightClient.verifyTransactionProof}. */
export interface TransactionProofRequest {
  /** The transaction (display order hex). */
  txid: string;
  /** The block (display order hex). */
  blockHash: string;
  /** The proof. */
  proof: TransactionProof;
}

/** A transaction proven to be in a block of the verified header chain. */
export interface TransactionProofResult {
  /** Always true: a proof that does not prove inclusion rejects with `verification_failed`. */
  included: true;
  /** The transaction. */
  txid: string;
  /** The block. */
  blockHash: string;
  /** The block's height. */
  height: number;
  /** The transaction's position in the block. */
  position: number;
  /** Blocks from it to the tip, itself included. */
  confirmations: number;
  /** Whether a verified ChainLock locks the block (final). */
  chainLocked: boolean;
}

/** A quorum's verified public key ({@link DashlightClient.quorumPublicKey}). */
export interface QuorumKeyResult {
  /** The LLMQ type asked for. */
  llmqType: number;
  /** The quorum hash asked for. */
  quorumHash: string;
  /** The key (hex, 48 bytes), only if dashlight verified the quorum's commitment; else null. */
  key: string | null;
  /** Why there is no key: no list holds the quorum, or its commitment is not verified. */
  code?: 'quorum_unknown' | 'not_verified';
  /** Why there is no key, in words. */
  reason?: string;
}

/** One quorum as the Platform SDK's trusted endpoint lists it. */
export interface PlatformQuorum {
  /** Quorum hash, hex in display order. */
  quorum_hash: string;
  /** Quorum public key, hex. */
  key: string;
  /** Height of the quorum's base block. */
  height: number;
  /** Left empty (the SDK does not read it). */
  members: string[];
  /** The quorum's threshold signature of its commitment, hex. */
  threshold_signature: string;
  /** Members that signed the commitment. */
  mining_members_count: number;
  /** Valid members. */
  valid_members_count: number;
}

/** The verified Platform quorums ({@link DashlightClient.platformQuorums}). */
export interface PlatformQuorums {
  /** Platform's LLMQ type (4 = LLMQ_100_67 on mainnet, 6 = LLMQ_25_67 on testnet). */
  llmq_type: number;
  /** Height of the newest masternode list. */
  height: number;
  /** As the endpoint's `GET /quorums`. */
  current: { success: true; data: PlatformQuorum[] };
  /** As the endpoint's `GET /previous`: the list one DKG interval older. */
  previous: { success: true; data: { height: number; quorums: PlatformQuorum[] } };
}

/** Options of {@link DashlightClient.waitSynced}. */
export interface WaitSyncedOptions {
  /** Reject with `timeout` after this many milliseconds. */
  timeoutMs?: number;
  /** Reject with `aborted` when this signal aborts. */
  signal?: AbortSignal;
}

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
  | 'not_synced'
  | 'verification_failed'
  | 'quorum_unknown'
  | 'timeout'
  | 'aborted'
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
  /** A new header of the verified chain, with its ChainLock status. */
  block: CustomEvent<BlockHeaderInfo>;
  /** An InstantSend lock a peer announced was checked. */
  instantlock: CustomEvent<InstantLockResult>;
  /** The number of connected peers changed. */
  peers: CustomEvent<{ connected: number; peers: { url: string; state: string; userAgent?: string; height?: number }[] }>;
  /** A log line. */
  log: CustomEvent<{ level: 'debug' | 'info' | 'warn' | 'error'; message: string; at: number }>;
  /** An error the client recovered from or could not. */
  error: CustomEvent<{ code: string; message: string }>;
  /** Saving started failing (also an `error` event, `storage_failed`) or works again. */
  storage: CustomEvent<StorageStatus>;
  /**
   * Another tab or worker syncs this storage (`waiting`: `start()` rejected with `storage_locked`),
   * or it closed and this client took over (`acquired`: it starts syncing now).
   */
  storagelock: CustomEvent<{ state: 'waiting' | 'acquired'; storageName: string }>;
}

/** Checks options and fills in defaults; throws a `DashlightError` with code `invalid_options`. */
export function validateOptions(options: ClientOptions): Required<Omit<ClientOptions, 'baseHeight' | 'minimumChainWork'>> & { baseHeight?: number; minimumChainWork?: string };

/** A Dash light client running in a Web Worker. */
export class DashlightClient extends EventTarget {
  /** Creates a client (and its worker). */
  static create(options: ClientOptions): Promise<DashlightClient>;
  /**
   * Connects and syncs. Rejects with `storage_locked` while another tab or worker syncs the same
   * storage; the client then waits for it to close and takes over (`storagelock` events).
   */
  start(): Promise<void>;
  /**
   * Disconnects and stops syncing (or waiting to take over); stored data is kept. Called while
   * `start()` is under way, it resolves once that start has finished and stops what it started.
   */
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
  /** Verifies a raw `isdlock` payload; rejects with `invalid_message` if it does not decode. */
  verifyInstantLock(bytes: Uint8Array): Promise<InstantLockResult>;
  /**
   * Checks that a transaction is in a block of the verified header chain; rejects with
   * `not_synced` (block not on it) or `verification_failed` (saying what failed).
   */
  verifyTransactionProof(request: TransactionProofRequest): Promise<TransactionProofResult>;
  /**
   * Fetches a proof that `txid` is in `blockHash` from a peer (`filterload` + filtered block)
   * and checks it; rejects with `not_synced`, `verification_failed` or `timeout`.
   */
  proveTransaction(txid: string, blockHash: string): Promise<TransactionProofResult & { proof: string }>;
  /** A quorum's public key, only if dashlight verified its commitment. */
  quorumPublicKey(llmqType: number, quorumHash: string): Promise<QuorumKeyResult>;
  /** The active Platform quorums dashlight verified; null before any masternode list is held. */
  platformQuorums(): Promise<PlatformQuorums | null>;
  /** Resolves with the status once synced; rejects with `timeout` or `aborted`. */
  waitSynced(options?: WaitSyncedOptions): Promise<Status>;
  /** The current masternode list. */
  masternodeList(): Promise<MasternodeEntry[]>;
  /** The active quorums. */
  quorums(): Promise<QuorumInfo[]>;
  /** Closes every peer connection; the client reconnects by itself. */
  dropConnections(): Promise<void>;
  /**
   * Stops and deletes everything stored for this client, holding the storage's Web Lock; rejects
   * with `storage_locked` (deleting nothing) while another tab or worker syncs it. Called while
   * this client's own `start()` is under way, it lets that start finish, then stops and clears.
   */
  clearStorage(): Promise<void>;
  /** Stops the client and ends its worker. */
  close(): Promise<void>;
  addEventListener<K extends keyof DashlightEventMap>(type: K, listener: (event: DashlightEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof DashlightEventMap>(type: K, listener: (event: DashlightEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}
