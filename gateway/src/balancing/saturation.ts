/**
 * What a CPU-bound instance says about its worker pool in its registry meta (refreshed with every
 * heartbeat): the compute service publishes `threads` and `jobs` (async jobs it is running, work
 * no gateway routed to it), plus `busy` and `queued` for people to read.
 */
export interface Capacity {
  /** Worker threads. */
  threads: number
  /** Tasks it runs that no gateway sent (async jobs), as of its last heartbeat. */
  background: number
}

/** Reads a capacity out of registry meta; undefined unless `threads` is a positive number. */
export function capacityFromMeta (meta: Readonly<Record<string, string | number | boolean>> | undefined): Capacity | undefined {
  const threads = meta?.threads
  if (typeof threads !== 'number' || !(threads >= 1)) return undefined
  const jobs = meta?.jobs
  return { threads, background: typeof jobs === 'number' && jobs >= 0 ? jobs : 0 }
}

/**
 * Expected wait of one more request on the instance, in units of one task: its outstanding work
 * (what this gateway has in flight there, plus its background jobs, plus this request) per worker
 * thread, so requests spread in proportion to free threads. The requests in flight are the
 * gateway's own, always fresh: the instance's published busy/queued counts are up to a heartbeat
 * plus a registry refresh old, and balancing on old load sends everyone to whichever instance
 * looked idle a second ago (Mitzenmacher, "How useful is old information?", 2000). Without a
 * capacity it is plain least-outstanding.
 */
export function saturationScore (inflight: number, capacity: Capacity | undefined): number {
  if (capacity === undefined) return inflight + 1
  return (inflight + capacity.background + 1) / capacity.threads
}
