import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { startLauncher, type RunningLauncher } from '../../scripts/lib/cluster.js'
import { sleep, waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'

let launcher: RunningLauncher
let gatewayUrl: string
let controlUrl: string
let stateDir: string

const autoscalerLines = (): string => launcher.lines.filter((l) => l.includes('autoscaler')).join('\n')

async function echoCount (): Promise<number> {
  const res = await request(`${controlUrl}/instances`, { headers: launcher.controlHeaders })
  const body = await res.body.json() as { instances: Array<{ service: string, state: string }> }
  return body.instances.filter((p) => p.service === 'echo' && p.state === 'running').length
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'nines-autoscale-'))
  launcher = await startLauncher(['--only', 'echo', '--autoscale', 'echo'], {
    NINES_PREFIX: 'autoscale-test',
    NINES_AUTOSCALE_TARGET_P99_MS: '20',
    NINES_AUTOSCALE_MAX: '5',
    NINES_AUTOSCALE_UP_WINDOW_MS: '1000',
    NINES_AUTOSCALE_DOWN_WINDOW_MS: '2000',
    NINES_AUTOSCALE_COOLDOWN_MS: '1000'
  }, stateDir)
  gatewayUrl = launcher.gatewayUrl
  controlUrl = launcher.controlUrl
})

afterAll(async () => {
  await launcher?.shutdown()
  killAll()
  rmSync(stateDir, { recursive: true, force: true })
})

describe('autoscaling on response time', () => {
  it('adds instances up to max while p99 is above target, then removes them down to min when quiet, losing no request', async () => {
    expect(await echoCount()).toBe(3)
    // every request takes 40 ms: p99 stays above the 20 ms target whatever the instance count
    const enough = new AbortController()
    const slow = runLoad({ url: `${gatewayUrl}/api/echo/slow?delay=40`, durationMs: 25_000, concurrency: 8, signal: enough.signal })
    await waitFor(async () => (await echoCount()) === 5, 25_000, 'scaled up to max (5)').catch((err: Error) => { throw new Error(`${err.message}\n${autoscalerLines()}`) })
    await sleep(1_000) // the newest instance takes its share of traffic
    enough.abort()
    const up = await slow
    expect(up.failures, up.examples.join('\n')).toEqual({})
    expect(Object.keys(up.byInstance)).toEqual(expect.arrayContaining(['echo-4', 'echo-5']))

    // a trickle of requests (~10/s: quiet) keeps flowing while instances are removed
    const trickle = runLoad({ url: `${gatewayUrl}/api/echo/fast`, durationMs: 20_000, concurrency: 1, pauseMs: 100 })
    await waitFor(async () => (await echoCount()) === 3, 20_000, 'scaled down to min (3)').catch((err: Error) => { throw new Error(`${err.message}\n${autoscalerLines()}`) })
    const down = await trickle // runs its full 20 s: removals keep draining while it flows
    expect(down.failures, down.examples.join('\n')).toEqual({})
    expect(launcher.lines.filter((l) => l.includes('scale up echo')).length).toBe(2)
    expect(launcher.lines.filter((l) => l.includes('scale down echo')).length).toBe(2)
  })
})
