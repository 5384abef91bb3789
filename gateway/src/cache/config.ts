import { boolean, integer, type ConfigSpec } from '../../../shared/src/config.js'

/** Settings of the gateway response cache; part of the gateway's spec. */
export const responseCacheSpec = {
  cacheEnabled: boolean('GW_CACHE', true),
  cacheLocalBytes: integer('GW_CACHE_LOCAL_BYTES', 32 * 1024 * 1024, { min: 1024, max: 4 * 1024 * 1024 * 1024 }),
  /** Larger responses are passed through, never stored. */
  cacheMaxBodyBytes: integer('GW_CACHE_MAX_BODY_BYTES', 256 * 1024, { min: 0, max: 64 * 1024 * 1024 }),
  /** Upper bound on any freshness lifetime (`s-maxage`, `max-age`, `Expires`, heuristics). */
  cacheMaxTtlMs: integer('GW_CACHE_MAX_TTL_MS', 300_000, { min: 1, max: 86_400_000 }),
  /** Upper bound on any stale window (`stale-while-revalidate`, `stale-if-error`, a service's `staleIfErrorS`). */
  cacheMaxStaleMs: integer('GW_CACHE_MAX_STALE_MS', 3_600_000, { min: 0, max: 604_800_000 }),
  /** A response whose cache key is longer than this (bytes) is kept in the gateway's memory only, never in Redis. */
  cacheMaxKeyBytes: integer('GW_CACHE_MAX_KEY_BYTES', 1_024, { min: 64, max: 1_048_576 }),
  /** Bytes this gateway may have in Redis at once (cached responses written and not yet expired). */
  cacheRedisBytes: integer('GW_CACHE_REDIS_BYTES', 64 * 1024 * 1024, { min: 0, max: 64 * 1024 * 1024 * 1024 })
} satisfies ConfigSpec
