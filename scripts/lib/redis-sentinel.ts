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
  const ha = await startSentinelRedis({ dir, ...opts, onSpawn: (child) => { track(child); opts.onSpawn?.(child) } })
  return {
    ...ha,
    cleanup: async () => {
      await ha.stop()
      rmSync(dir, { recursive: true, force: true })
    }
  }
}
