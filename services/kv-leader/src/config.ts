import { integer, oneOf, string } from '../../../shared/src/config.js'

/**
 * kv-leader settings (on top of the common service settings). Defaults aim at a leader that
 * stays put on a busy host and a failover well under a second after a kill: a 1.5 s lease
 * renewed every 250 ms (a renewal can be late by more than a second before it matters), taken
 * over at once from a holder whose Redis connection is gone, and only by a follower that has
 * stopped hearing from the leader.
 */
export const kvLeaderSpec = {
  /** Where this replica keeps its log file (relative to the working directory). @default `data/kv-leader/<INSTANCE_ID>` */
  dataDir: string('KV_DATA_DIR', ''),
  /** @default 'always' (fdatasync before a write counts as stored) */
  fsync: oneOf('KV_FSYNC', ['always', 'interval', 'never'], 'always'),
  fsyncIntervalMs: integer('KV_FSYNC_INTERVAL_MS', 100, { min: 1, max: 60_000 }),
  /** @default 'majority' */
  ackMode: oneOf('KV_ACK_MODE', ['async', 'majority', 'all'], 'majority'),
  /** Members of the replica set, counted for quorums even when down. @default 3 */
  clusterSize: integer('KV_CLUSTER_SIZE', 3, { min: 1, max: 15 }),
  /** @default 1500 */
  leaseTtlMs: integer('KV_LEASE_TTL_MS', 1_500, { min: 50, max: 60_000 }),
  /** @default 250 */
  renewMs: integer('KV_LEASE_RENEW_MS', 250, { min: 10, max: 20_000 }),
  /** Subtracted from the leader's own view of its lease, against clock drift. @default 100 */
  leaseMarginMs: integer('KV_LEASE_MARGIN_MS', 100, { min: 0, max: 20_000 }),
  /** How often a follower that no longer hears the leader looks at (or tries to take) the lease. @default 50 */
  electionPollMs: integer('KV_ELECTION_POLL_MS', 50, { min: 5, max: 20_000 }),
  /** Silence from the leader after which a follower contends for the lease. @default 400 */
  leaderSilenceMs: integer('KV_LEADER_SILENCE_MS', 400, { min: 10, max: 60_000 }),
  /** How often an idle leader sends an empty append (liveness, commit index). @default 100 */
  heartbeatMs: integer('KV_HEARTBEAT_MS', 100, { min: 5, max: 20_000 }),
  /** How often a leader's state machine sees the clock (deadlines, heartbeats). @default 50 */
  tickMs: integer('KV_TICK_MS', 50, { min: 1, max: 1_000 }),
  /**
   * A write from a caller that sent no deadline, not acknowledged by its quorum within this,
   * answers 503 KVL_ERR_OUTCOME_UNKNOWN; one with a deadline (through the gateway) waits until
   * just before it. @default 1000
   */
  writeTimeoutMs: integer('KV_WRITE_TIMEOUT_MS', 1_000, { min: 10, max: 120_000 }),
  /** How long a follower waits for a leader before answering 503. @default 2000 */
  leaderWaitMs: integer('KV_LEADER_WAIT_MS', 2_000, { min: 0, max: 60_000 }),
  replicationTimeoutMs: integer('KV_REPLICATION_TIMEOUT_MS', 1_000, { min: 10, max: 60_000 }),
  maxBatchEntries: integer('KV_MAX_BATCH_ENTRIES', 512, { min: 1, max: 100_000 }),
  /** @default 4 MiB */
  maxBatchBytes: integer('KV_MAX_BATCH_BYTES', 4_194_304, { min: 1_024, max: 268_435_456 }),
  /** Compact the log into a snapshot past this many applied entries (0: never). @default 100000 */
  compactEntries: integer('KV_COMPACT_ENTRIES', 100_000, { min: 0, max: 100_000_000 }),
  /** Largest snapshot a follower accepts over HTTP. @default 256 MiB */
  maxSnapshotBytes: integer('KV_MAX_SNAPSHOT_BYTES', 268_435_456, { min: 1_048_576, max: 2_147_483_647 })
}
