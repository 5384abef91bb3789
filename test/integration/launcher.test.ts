import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { projectRoot, startLauncher, type RunningLauncher } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { isAlive, killAll, spawnNode } from '../../shared/testing/processes.js'

let launcher: RunningLauncher
let gatewayUrl: string
let controlUrl: string
let controlHeaders: Record<string, string>
let stateDir: string

async function control (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = controlHeaders): Promise<any> {
  const res = await request(controlUrl + path, { method, headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) })
  return { status: res.statusCode, body: await res.body.json() }
}

async function instances (): Promise<Array<{ id: string, pid: number, state: string, restarts: number }>> {
  return (await control('GET', '/instances')).body.instances
}

beforeAll(async () => {
  stateDir = mkdtempSync(join(tmpdir(), 'nines-launcher-'))
  launcher = await startLauncher(['--only', 'echo'], { NINES_PREFIX: 'launcher-test' }, stateDir)
  gatewayUrl = launcher.gatewayUrl
  controlUrl = launcher.controlUrl
  controlHeaders = launcher.controlHeaders
})

afterAll(async () => {
  await launcher?.shutdown()
  killAll()
  rmSync(stateDir, { recursive: true, force: true })
})

describe('local launcher', () => {
  it('starts Redis, the gateway and the echo pool', async () => {
    const list = await instances()
    expect(list.map((p) => p.id).sort()).toEqual(['echo-1', 'echo-2', 'echo-3', 'gateway-1'])
    await waitFor(async () => (await request(`${gatewayUrl}/readyz`)).statusCode === 200, 5_000, 'gateway ready')
    const res = await request(`${gatewayUrl}/api/echo/hello`)
    expect(res.statusCode).toBe(200)
    await res.body.dump()
  })

  it('restarts an instance killed with kill -9, with a new pid', async () => {
    const before = (await instances()).find((p) => p.id === 'echo-2')!
    expect((await control('POST', '/instances/echo-2/kill')).status).toBe(200)
    await waitFor(async () => {
      const now = (await instances()).find((p) => p.id === 'echo-2')!
      return now.state === 'running' && now.pid !== before.pid
    }, 10_000, 'echo-2 restarted')
    expect(isAlive(before.pid)).toBe(false)
    expect((await instances()).find((p) => p.id === 'echo-2')!.restarts).toBe(1)
  })

  it('freezes and thaws an instance', async () => {
    expect((await control('POST', '/instances/echo-3/stop')).body.state).toBe('frozen')
    expect((await control('POST', '/instances/echo-3/cont')).body.state).toBe('running')
  })

  it('scales a stateless service up and down', async () => {
    const up = await control('POST', '/services/echo/scale', { count: 5 })
    expect(up.body.instances.map((p: { id: string }) => p.id).sort()).toEqual(['echo-1', 'echo-2', 'echo-3', 'echo-4', 'echo-5'])
    const down = await control('POST', '/services/echo/scale', { count: 2 })
    expect(down.body.instances.map((p: { id: string }) => p.id).sort()).toEqual(['echo-1', 'echo-2'])
  })

  it('answers bad control requests with 4xx JSON', async () => {
    expect((await control('POST', '/instances/nope/kill')).status).toBe(404)
    expect((await control('POST', '/instances/echo-1/explode')).status).toBe(400)
    expect((await control('POST', '/services/echo/scale', { count: 0 })).status).toBe(400)
    expect((await control('POST', '/services/nope/scale', { count: 2 })).status).toBe(404)
  })

  it('obeys no web page: a cross-origin simple POST, a foreign Host, a missing or wrong token are refused', async () => {
    const freeze = '/instances/echo-1/stop'
    // what a page on http://evil.example can send without a preflight, even with the token
    const simple = await control('POST', freeze, undefined, { ...controlHeaders, origin: 'http://evil.example', 'content-type': 'text/plain' })
    expect(simple).toMatchObject({ status: 403, body: { error: 'CTL_ERR_FORBIDDEN' } })
    expect((await control('POST', freeze, undefined, { ...controlHeaders, host: 'evil.example' })).status).toBe(403) // DNS rebinding
    expect((await control('POST', freeze, undefined, {})).body.error).toBe('CTL_ERR_UNAUTHORIZED')
    expect((await control('POST', freeze, undefined, { authorization: 'Bearer not-the-token-at-all' })).status).toBe(401)
    expect((await instances()).find((p) => p.id === 'echo-1')!.state).toBe('running')
    expect((await control('GET', '/healthz', undefined, {})).status).toBe(200)
    // the token is the launcher's secret: readable by this user only
    expect(statSync(join(stateDir, 'control-token')).mode & 0o077).toBe(0)
  })

  it('npm run ctl finds the token by itself', async () => {
    const ctl = spawnNode(resolve(projectRoot, 'dist/scripts/ctl.js'), { NINES_STATE_DIR: stateDir }, ['list'])
    expect(await ctl.exited).toBe(0)
    expect(ctl.lines.join('\n')).toMatch(/echo-1\s+echo\s+running/)
  })

  it('leaves no process behind when stopped', async () => {
    const pids = (await instances()).map((p) => p.pid)
    expect(pids.every(isAlive)).toBe(true)
    launcher.signal('SIGTERM')
    expect(await launcher.exited).toBe(0)
    await waitFor(() => !pids.some(isAlive), 5_000, 'every child exited')
  })
})

describe('launcher killed with kill -9', () => {
  it('its instances exit by themselves and the next launcher reaps its Redis', async () => {
    const first = await startLauncher(['--only', 'echo'], { NINES_PREFIX: 'launcher-test-2' }, stateDir)
    controlUrl = first.controlUrl
    controlHeaders = first.controlHeaders
    const pids = (await instances()).map((p) => p.pid)
    const { redisPid } = JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8')) as { redisPid: number }
    first.signal('SIGKILL')
    await first.exited
    // each one stops gracefully (deregister, drain), bounded by SHUTDOWN_TIMEOUT_MS (10 s): that is the promise, not a
    // quicker figure a loaded machine may miss (a Node 24 run in CI took longer than 5 s)
    await waitFor(() => !pids.some(isAlive), 12_000, 'orphaned instances exited')
    expect(isAlive(redisPid)).toBe(true)

    const second = await startLauncher(['--only', 'echo'], { NINES_PREFIX: 'launcher-test-3' }, stateDir)
    await waitFor(() => !isAlive(redisPid), 3_000, 'stale redis-server reaped')
    second.signal('SIGTERM')
    expect(await second.exited).toBe(0)
  })
})
