import { ConfigError, integer, oneOf, string, type ConfigOf } from '../../../shared/src/config.js'
import { describeProblem, quorumProblems } from './core/quorum.js'

/** Settings of a kv-quorum instance (env → typed, validated once at start). */
export const kvQuorumSpec = {
  /** The replica set by instance id: N is its size, whoever is up. */
  replicas: string('KVQ_REPLICAS', 'kv-quorum-1,kv-quorum-2,kv-quorum-3', { pattern: /^[A-Za-z0-9._:-]+(,[A-Za-z0-9._:-]+)*$/ }),
  /** Default write quorum. */
  w: integer('KVQ_W', 2, { min: 1, max: 64 }),
  /** Default read quorum. */
  r: integer('KVQ_R', 2, { min: 1, max: 64 }),
  /** `eventual` allows W + R <= N by default; `quorum` refuses it. */
  consistency: oneOf('KVQ_CONSISTENCY', ['quorum', 'eventual'], 'quorum'),
  /** Where this replica keeps its log; empty → data/kv-quorum/<instance id>. */
  dataDir: string('KVQ_DATA_DIR', ''),
  /** Added to the wall clock: simulates a skewed clock in tests. */
  clockOffsetMs: integer('KVQ_CLOCK_OFFSET_MS', 0, { min: -86_400_000, max: 86_400_000 }),
  maxValueBytes: integer('KVQ_MAX_VALUE_BYTES', 65_536, { min: 1, max: 8_388_608 }), // 64 KiB
  /** How long a coordinator waits for replicas before it counts the missing ones as failed. */
  replicaTimeoutMs: integer('KVQ_REPLICA_TIMEOUT_MS', 1_000, { min: 10, max: 60_000 }),
  /** How often hints are offered to replicas that are back. 0 disables delivery. */
  hintIntervalMs: integer('KVQ_HINT_INTERVAL_MS', 500, { min: 0, max: 3_600_000 }),
  maxHintsPerReplica: integer('KVQ_MAX_HINTS_PER_REPLICA', 100_000, { min: 1, max: 10_000_000 }),
  /** How often this replica compares digests with one peer. 0 disables anti-entropy. */
  antiEntropyMs: integer('KVQ_ANTI_ENTROPY_MS', 5_000, { min: 0, max: 3_600_000 }),
  digestBuckets: integer('KVQ_DIGEST_BUCKETS', 64, { min: 1, max: 65_536 }),
  /** Tombstones older than this are collected (86 400 000 ms = 1 day). */
  tombstoneGraceMs: integer('KVQ_TOMBSTONE_GRACE_MS', 86_400_000, { min: 1_000, max: 31_536_000_000 }),
  /** The log is rewritten once it holds this many times more lines than live records. */
  compactRatio: integer('KVQ_COMPACT_RATIO', 4, { min: 2, max: 1_000 })
}

export type KvQuorumSettings = ConfigOf<typeof kvQuorumSpec>

export interface ReplicaSetConfig {
  self: string
  ids: string[]
}

/** Checks what the env parser cannot: self in the set, and the default quorum. */
export function validateReplicaSet (settings: KvQuorumSettings, self: string): ReplicaSetConfig {
  const ids = [...new Set(settings.replicas.split(','))]
  const problems: string[] = []
  if (!ids.includes(self)) problems.push(`INSTANCE_ID "${self}" is not in KVQ_REPLICAS (${ids.join(', ')})`)
  for (const p of quorumProblems({ n: ids.length, w: settings.w, r: settings.r, consistency: settings.consistency })) {
    problems.push(p.kind === 'range' ? `KVQ_${p.name.toUpperCase()} ${describeProblem(p, ids.length)}` : `KVQ_W/KVQ_R: ${describeProblem(p, ids.length)} (KVQ_CONSISTENCY=eventual)`)
  }
  if (problems.length > 0) throw new ConfigError(problems)
  return { self, ids }
}
