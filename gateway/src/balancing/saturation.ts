/**
 * What a CPU-bound instance says about its worker pool (registry meta, refreshed with every
 * heartbeat): the compute service publishes `threads`, `busy` and `queued`.
 */
export interface Capacity {
  /** Worker threads. */
  threads: number
  /** Threads running a task when it last published. */
  busy: number
  /** Tasks waiting for a thread when it last published. */
  queued: number
}

/** Reads a capacity out of registry meta; undefined unless `threads` is a positive number. */
export function capacityFromMeta (meta: Readonly<Record<string, string | number | boolean>> | undefined): Capacity | undefined {
  const threads = meta?.threads
  if (typeof threads !== 'number' || !(threads >= 1)) return undefined
  const count = (v: unknown): number => typeof v === 'number' && v >= 0 ? v : 0
  return { threads, busy: count(meta?.busy), queued: count(meta?.queued) }
}

/**
 * Expected wait of one more request on the instance, in units of one task: outstanding work
 * (plus this request) per worker thread. Outstanding is the larger of what this gateway has in
 * flight there (fresh, but blind to other gateways and to async jobs) and what the instance last
 * published (complete, but up to a heartbeat old). Without a capacity it is plain least-outstanding.
 */
export function saturationScore (inflight: number, capacity: Capacity | undefined): number {
  if (capacity === undefined) return inflight + 1
  const outstanding = Math.max(inflight, capacity.busy + capacity.queued)
  return (outstanding + 1) / capacity.threads
}
