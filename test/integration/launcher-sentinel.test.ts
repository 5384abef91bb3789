import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { freePort } from '../../shared/testing/ports.js'
import { controlAuthHeaders, readControlToken } from '../../scripts/launcher/control-auth.js'
import { projectRoot } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { isAlive, killAll, spawnNode, type SpawnedNode } from '../../shared/testing/processes.js'
import { startTimedLoad, summarizeOutcomes } from '../../shared/testing/timed-load.js'

let launcher: SpawnedNode
let gatewayUrl: string
let controlUrl: string
let stateDir: string

function redisPids (): number[] {
  const { processes } = JSON.parse(readFileSync(join(stateDir, 'redis-sentinel', 'pids.json'), 'utf8')) as { processes: Array<{ pid?: number }> }
  return processes.map((p) => p.pid).filter((pid): pid is number => pid !== undefined)
}

beforeAll(async () => {
  const [port, cport] = await Promise.all([freePort(), freePort()])
  stateDir = mkdtempSync(join(tmpdir(), 'nines-launcher-sentinel-'))
  gatewayUrl = `http://127.0.0.1:${port}`
  controlUrl = `http://127.0.0.1:${cport}`
  launcher = spawnNode(resolve(projectRoot, 'dist/scripts/launcher/main.js'), { REGISTRY_TTL_MS: '1500', REGISTRY_HEARTBEAT_MS: '250', NINES_PREFIX: 'launcher-sentinel', REDIS_URL: '' },
    ['--redis', 'sentinel', '--only', 'echo', '--port', String(port), '--control-port', String(cport), '--state-dir', stateDir])
  await waitFor(() => launcher.lines.some((l) => l.includes('cluster ready')), 30_000, 'the launcher reports the cluster ready')
})

afterAll(() => {
  // a failed test must not leave the Redis processes behind either
  try {
    for (const pid of redisPids()) process.kill(pid, 'SIGKILL')
  } catch {}
  killAll()
  rmSync(stateDir, { recursive: true, force: true })
})

describe('local launcher with --redis sentinel', () => {
  it('starts a primary, a replica and three Sentinels, and hands every process the Sentinel URL', async () => {
    expect(redisPids()).toHaveLength(5)
    for (const pid of redisPids()) expect(isAlive(pid)).toBe(true)
    expect(launcher.lines.join('\n')).toMatch(/redis\+sentinel:\/\/127\.0\.0\.1:\d+,127\.0\.0\.1:\d+,127\.0\.0\.1:\d+\/nines/)
    // --only echo: /readyz stays 503 for the services not started, so ask echo itself
    await waitFor(async () => {
      const res = await request(`${gatewayUrl}/api/echo/ready`)
      await res.body.dump()
      return res.statusCode === 200
    }, 10_000, 'echo reachable through the gateway')
  })

  it('fails the primary over on POST /redis/restart while the gateway keeps serving', async () => {
    const load = startTimedLoad({ url: `${gatewayUrl}/api/echo/launcher`, durationMs: 20_000, concurrency: 2 })
    try {
      const res = await request(`${controlUrl}/redis/restart`, { method: 'POST', headers: controlAuthHeaders(readControlToken(stateDir)) })
      expect(res.statusCode).toBe(200)
      await res.body.dump()
      await new Promise((resolve) => setTimeout(resolve, 1_000))
    } finally {
      load.stop()
    }
    const summary = summarizeOutcomes(await load.done)
    expect(summary.sent).toBeGreaterThan(50)
    expect(summary.failures).toEqual({})
    // the killed node comes back by itself as a replica
    await waitFor(() => redisPids().length === 5 && redisPids().every(isAlive), 10_000, 'the killed Redis node restarted')
  })

  it('stops every Redis process on shutdown', async () => {
    const pids = redisPids()
    launcher.signal('SIGTERM')
    await launcher.exited
    await waitFor(() => pids.every((pid) => !isAlive(pid)), 5_000, 'every Redis process stopped')
  })
})
