import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startSentinelRedis, type SentinelRedis, type SentinelRedisOptions } from '../launcher/redis-sentinel.js'
import { track } from '../../shared/testing/processes.js'

export interface TestSentinelRedis extends SentinelRedis {
  /** Stops every Redis process and removes the temporary directory. */
  cleanup: () => Promise<void>
}

/**
 * A primary, a replica and three Sentinels on free loopback ports, in a temporary directory,
 * every process tracked so `killAll()` ends them even when a test fails. Timings are the
 * launcher's (down-after 1 s); a dead data node comes back as a replica unless told otherwise.
 */
export async function startSentinelTopology (opts: Partial<SentinelRedisOptions> = {}): Promise<TestSentinelRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'nines-sentinel-'))
  // KEEP_SENTINEL_DIR=1: keep the nodes' and Sentinels' logs after the run, and print what the harness did (restarts, demotions)
  const keep = process.env.KEEP_SENTINEL_DIR !== undefined
  const print = keep ? (m: string) => { process.stderr.write(`[redis ${new Date().toISOString()}] ${m}\n`) } : undefined
  const ha = await startSentinelRedis({ dir, ...(print !== undefined ? { print } : {}), ...opts, onSpawn: (child) => { track(child); opts.onSpawn?.(child) } })
  return {
    ...ha,
    cleanup: async () => {
      await ha.stop()
      if (keep) process.stderr.write(`[redis] logs kept in ${dir}\n`)
      else rmSync(dir, { recursive: true, force: true })
    }
  }
}
