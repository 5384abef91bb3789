import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { request } from 'undici'
import { controlAuthHeaders, readControlToken } from '../../scripts/launcher/control-auth.js'
import { freePort } from '../../shared/testing/ports.js'
import { localRedisPid } from '../../scripts/launcher/redis.js'
import { projectRoot } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { isAlive, killAll, spawnNode, track } from '../../shared/testing/processes.js'

/**
 * The launcher as a user starts it (issue 14, items 11 and 12): `PORT=… npm start` (the README's
 * variable), a gateway port some other program holds, and `kill -TERM` of the `npm start` process.
 */
const dirs: string[] = []
/** Every pid a test saw, killed in afterAll should a test fail halfway. */
const pids = new Set<number>()

afterAll(() => {
  for (const pid of pids) if (isAlive(pid)) try { process.kill(pid, 'SIGKILL') } catch {}
  killAll()
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

function stateDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'nines-start-'))
  dirs.push(dir)
  return dir
}

async function controlList (dir: string): Promise<Array<{ id: string, pid: number, state: string, restarts: number }>> {
  const { controlUrl } = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { controlUrl: string }
  const res = await request(`${controlUrl}/instances`, { headers: controlAuthHeaders(readControlToken(dir)) })
  return ((await res.body.json()) as { instances: Array<{ id: string, pid: number, state: string, restarts: number }> }).instances
}

describe('starting the cluster', () => {
  it('PORT=… gives the gateway its port, and no other process inherits it', async () => {
    const dir = stateDir()
    const [port, cport] = await Promise.all([freePort(), freePort()])
    const launcher = spawnNode(resolve(projectRoot, 'dist/scripts/launcher/main.js'), { PORT: String(port), NINES_PREFIX: 'start-port', REGISTRY_TTL_MS: '1500', REGISTRY_HEARTBEAT_MS: '250' },
      ['--only', 'echo', '--control-port', String(cport), '--state-dir', dir])
    await waitFor(() => launcher.lines.some((l) => l.includes('cluster ready')), 30_000, 'cluster ready')
      .catch((err: Error) => { throw new Error(`${err.message}; the launcher said:\n${launcher.lines.slice(-30).join('\n')}`) })
    for (const p of await controlList(dir)) if (p.pid !== undefined) pids.add(p.pid)
    const ready = await request(`http://127.0.0.1:${port}/readyz`)
    await ready.body.dump()
    expect(ready.headers['x-instance-id']).toBe('gateway-1')
    const echo = await request(`http://127.0.0.1:${port}/api/echo/hello`)
    expect(echo.statusCode).toBe(200)
    expect(((await echo.body.json()) as { instance: string }).instance).toMatch(/^echo-\d$/)
    await new Promise((resolve) => setTimeout(resolve, 1_500)) // a crash loop would show by now
    const list = await controlList(dir)
    expect(list.map((p) => [p.id, p.state, p.restarts])).toEqual(list.map((p) => [p.id, 'running', 0]))
    launcher.signal('SIGTERM')
    expect(await launcher.exited).toBe(0)
    const redisPid = localRedisPid(dir)
    if (redisPid !== undefined && isAlive(redisPid)) process.kill(redisPid, 'SIGKILL')
  })

  it('says so and stops when another program answers on the gateway\'s port, never "cluster ready"', async () => {
    const dir = stateDir()
    const impostor: Server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ready"}') })
    await new Promise<void>((resolve) => impostor.listen(0, '127.0.0.1', resolve))
    const port = (impostor.address() as { port: number }).port
    try {
      const launcher = spawnNode(resolve(projectRoot, 'dist/scripts/launcher/main.js'), { NINES_PREFIX: 'start-impostor', REGISTRY_TTL_MS: '1500', REGISTRY_HEARTBEAT_MS: '250' },
        ['--only', 'echo', '--port', String(port), '--control-port', String(await freePort()), '--state-dir', dir])
      const code = await Promise.race([launcher.exited, new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000))])
      if (code === 'still running') launcher.signal('SIGKILL')
      expect(code).toBe(1)
      expect(launcher.lines.join('\n')).toContain(`port ${port} is answered by another program`)
      expect(launcher.lines.some((l) => l.includes('cluster ready'))).toBe(false)
    } finally {
      impostor.close()
      const redisPid = localRedisPid(dir)
      if (redisPid !== undefined && isAlive(redisPid)) process.kill(redisPid, 'SIGKILL')
    }
  })

  it('kill -TERM of the `npm start` process stops the launcher and everything it started', async () => {
    const dir = stateDir()
    const [port, cport] = await Promise.all([freePort(), freePort()])
    const npm = spawn(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['start', '--', '--only', 'echo', '--port', String(port), '--control-port', String(cport), '--state-dir', dir], {
      cwd: projectRoot,
      env: { ...process.env, NINES_PREFIX: 'start-npm', REGISTRY_TTL_MS: '1500', REGISTRY_HEARTBEAT_MS: '250' },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    track(npm)
    let output = ''
    npm.stdout.on('data', (chunk: Buffer) => { output += chunk.toString() })
    npm.stderr.on('data', (chunk: Buffer) => { output += chunk.toString() })
    // npm start builds first
    await waitFor(() => output.includes('cluster ready'), 120_000, `cluster ready (output so far: ${output.slice(-500)})`)
    const { launcherPid } = JSON.parse(readFileSync(join(dir, 'cluster.json'), 'utf8')) as { launcherPid: number }
    const started = [launcherPid, ...(await controlList(dir)).map((p) => p.pid), localRedisPid(dir)].filter((pid): pid is number => pid !== undefined)
    for (const pid of started) pids.add(pid)
    expect(started.length).toBeGreaterThanOrEqual(6) // launcher, gateway, three echoes, Redis
    expect(started.every(isAlive)).toBe(true)
    npm.kill('SIGTERM')
    await waitFor(() => !started.some(isAlive), 20_000, `every process stopped (alive: ${started.filter(isAlive).join(', ')})`)
  }, 180_000)
})
