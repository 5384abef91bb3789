/**
 * The pairs invariant (issue 3: every input in the feed has exactly one output per pair at the
 * sink, no conflicts; issue 12: and so has every id the feed acknowledged during the run),
 * checked by the pairs work's own library. This adapter loads it when it
 * is built into this checkout and says "not available" otherwise, so the chaos runner works
 * before and after the pairs land.
 */
export interface PairsVerdict {
  status: 'ok' | 'violated' | 'not available' | 'error'
  detail: string
  pairs?: Array<Record<string, unknown>>
}

interface LibraryReport { ok: boolean, pairs: Array<Record<string, unknown>>, ackedNotInFeed?: number, lostExamples?: string[] }
interface PairsLibrary {
  verifyPairsEventually?: (redis: unknown, prefix: string, waitMs: number, opts?: { acked?: Iterable<string> }) => Promise<LibraryReport>
}

/** Where the library lives, relative to this file in dist/ (tried in order). */
const candidates = ['../../../shared/src/pipeline/verify.js']

/**
 * `acked`: the ids the feed acknowledged during the run; each must still be in the feed and have
 * one output per pair (an acknowledged event that vanished is lost, not merely absent).
 */
export async function verifyPairsIfAvailable (redisUrl: string | undefined, prefix: string, acked: readonly string[] = [], waitMs = 10_000): Promise<PairsVerdict> {
  let lib: PairsLibrary | undefined
  for (const candidate of candidates) {
    try {
      lib = await import(new URL(candidate, import.meta.url).href) as PairsLibrary
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') return { status: 'error', detail: `loading the pairs verify failed: ${(err as Error).message}` }
    }
  }
  const run = lib?.verifyPairsEventually
  if (run === undefined) return { status: 'not available', detail: 'the pairs verify library is not in this build' }
  if (redisUrl === undefined) return { status: 'error', detail: 'no Redis URL (give --redis or REDIS_URL, or run the launcher)' }
  const { createRedis } = await import('../../../shared/src/redis.js')
  const redis = createRedis(redisUrl, undefined, { enableOfflineQueue: true })
  try {
    const report = await run(redis, prefix, waitMs, { acked })
    const bad = report.pairs.filter((p) => p.ok === false).map((p) => {
      const examples = Array.isArray(p.examples) && p.examples.length > 0 ? ` (e.g. ${p.examples.slice(0, 5).map(String).join(', ')})` : ''
      return `${String(p.pair)}: missing ${String(p.missing)}, acknowledged without output ${String(p.ackedMissing ?? 0)}, wrong ${String(p.wrong ?? 0)}, extra ${String(p.extra ?? 0)}, conflicts ${String(p.conflicts)}, duplicates stored ${String(p.duplicatesStored)}${examples}`
    })
    const lost = report.ackedNotInFeed ?? 0
    if (lost > 0) bad.unshift(`${lost} acknowledged events no longer in the feed (lost), e.g. ${(report.lostExamples ?? []).slice(0, 5).join(', ')}`)
    const summary = report.pairs.map((p) => `${String(p.pair)} ${String(p.inputs)} inputs / ${String(p.outputs)} outputs`).join('; ')
    return { status: report.ok ? 'ok' : 'violated', detail: report.ok ? `every input and each of the ${acked.length} acknowledged ids has exactly one output, no conflicts (${summary})` : bad.join('; '), pairs: report.pairs }
  } catch (err) {
    return { status: 'error', detail: `the pairs verify could not read Redis: ${(err as Error).message}` }
  } finally {
    redis.disconnect()
  }
}
