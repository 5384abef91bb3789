import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createConnection } from 'node:net'

export interface LocalRedis {
  url: string
  pid: () => number | undefined
  /** kill -9 and start again on the same port (chaos: a Redis restart). */
  restart: () => Promise<void>
  stop: () => Promise<void>
}

export function hasRedisServer (): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export const installHint = 'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),\nor point REDIS_URL at a running Redis, or use docker compose up.'

/**
 * A private redis-server on loopback for this launcher, keeping its data under `dir`. The AOF
 * is fsynced on every write (Redis groups them per event-loop turn): the chaos runner's Redis
 * restart is a kill -9, and with `everysec` the last second of acknowledged work (feed entries,
 * sink outputs, epochs) would vanish with it.
 */
export async function startLocalRedis (port: number, dir: string): Promise<LocalRedis> {
  mkdirSync(dir, { recursive: true })
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    // the pidfile is rewritten at every start, so a restarted Redis can still be found and reaped
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--pidfile', join(dir, pidFileName), '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' })
    await waitForPort(port)
  }
  await launch()
  const kill = async (signal: NodeJS.Signals): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: () => child?.pid,
    restart: async () => { await kill('SIGKILL'); await launch() },
    stop: async () => { await kill('SIGTERM') }
  }
}

async function waitForPort (port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => { socket.end(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    if (ok) return
    await new Promise((resolve) => setTimeout(resolve, 30))
  }
  throw new Error(`redis-server did not start on port ${port}`)
}

const pidFileName = 'redis.pid'

/** The pid of the launcher's private redis-server for this state directory, if one is running. */
export function localRedisPid (stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(stateDir, 'redis', pidFileName), 'utf8').trim())
    // redis-server retitles itself "redis-server 127.0.0.1:<port>": check it is still one
    return Number.isInteger(pid) && pid > 1 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('redis-server') ? pid : undefined
  } catch {
    return undefined
  }
}

/**
 * A launcher killed with kill -9 cannot stop its redis-server (instances exit by themselves when
 * their launcher is gone; Redis cannot). The next launcher ends it: only that pid, and only if the
 * launcher that started it is gone.
 */
export function reapStaleRedis (stateDir: string): void {
  try {
    const { launcherPid } = JSON.parse(readFileSync(join(stateDir, 'cluster.json'), 'utf8')) as { launcherPid?: number }
    if (launcherPid !== undefined && isAlive(launcherPid)) return
  } catch {}
  const pid = localRedisPid(stateDir)
  if (pid !== undefined) process.kill(pid, 'SIGTERM')
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
