import { integer, oneOf, string, type ConfigOf } from '../../../shared/src/config.js'

/**
 * kv-leader settings (on top of the common service settings). Defaults aim at a failover well
 * under a second: a 400 ms lease renewed every 100 ms, polled by followers every 40 ms.
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
  leaseTtlMs: integer('KV_LEASE_TTL_MS', 400, { min: 50, max: 60_000 }),
  renewMs: integer('KV_LEASE_RENEW_MS', 100, { min: 10, max: 20_000 }),
  electionPollMs: integer('KV_ELECTION_POLL_MS', 40, { min: 5, max: 20_000 }),
  heartbeatMs: integer('KV_HEARTBEAT_MS', 50, { min: 5, max: 20_000 }),
  tickMs: integer('KV_TICK_MS', 10, { min: 1, max: 1_000 }),
  /** A write not acknowledged by its quorum within this fails with 503. @default 1000 */
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

export type KvLeaderConfig = ConfigOf<typeof kvLeaderSpec>
