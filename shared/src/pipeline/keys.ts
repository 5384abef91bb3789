import type { PairName } from './types.js'

/**
 * Every Redis key of the pipeline, in one place: the feed stream, the sink's per-pair state and
 * the hot-warm lease. The sink owns its keys; verify reads them directly.
 */
export interface PairKeys {
  /** hash: counters and marks (outputs, duplicatesDropped, conflicts, staleEpochRejected, highWaterMark, epoch …) */
  stats: string
  /** hash: inputId → `<fingerprint>\t<output JSON>` (the first output stored for that input) */
  outputs: string
  /** list: the latest conflicts, newest first, capped */
  conflicts: string
  /** list per account: the input ids stored for it, in feed order */
  account: (account: string) => string
}

export interface PipelineKeys {
  feed: string
  /** string per Idempotency-Key: `<input id>\t<event fingerprint>`, with a TTL */
  feedIdempotency: (key: string) => string
  /** string: written before a WAIT that must cover what a read saw (`confirmSeenReplicated`) */
  fence: string
  pair: (pair: PairName) => PairKeys
}

export function pipelineKeys (prefix: string): PipelineKeys {
  return {
    feed: `${prefix}:feed:events`,
    feedIdempotency: (key) => `${prefix}:feed:idem:${key}`,
    fence: `${prefix}:pipeline:fence`,
    pair: (pair) => ({
      stats: `${prefix}:sink:${pair}:stats`,
      outputs: `${prefix}:sink:${pair}:outputs`,
      conflicts: `${prefix}:sink:${pair}:conflicts`,
      account: (account) => `${prefix}:sink:${pair}:account:${account}`
    })
  }
}

/** The stored hash value: the fingerprint, a tab, then the output's JSON. */
export function parseStored (raw: string): { fingerprint: string, json: string } {
  const tab = raw.indexOf('\t')
  return { fingerprint: raw.slice(0, tab), json: raw.slice(tab + 1) }
}
