import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, readFileSync } from 'node:fs'
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
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'always'], { stdio: 'ignore' })
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

/**
 * A launcher killed with kill -9 cannot stop its redis-server (instances exit by themselves when
 * their launcher is gone; Redis cannot). The next launcher ends it: only that pid, and only if it
 * is still the redis-server that used this state directory.
 */
export function reapStaleRedis (stateDir: string): void {
  const file = join(stateDir, 'cluster.json')
  if (!existsSync(file)) return
  try {
    const { redisPid, redisUrl, launcherPid } = JSON.parse(readFileSync(file, 'utf8')) as { redisPid?: number, redisUrl?: string, launcherPid?: number }
    if (redisPid === undefined || redisUrl === undefined || (launcherPid !== undefined && isAlive(launcherPid))) return
    // redis-server retitles itself "redis-server 127.0.0.1:<port>"
    const cmdline = readFileSync(`/proc/${redisPid}/cmdline`, 'utf8')
    if (cmdline.startsWith('redis-server') && cmdline.includes(`:${new URL(redisUrl).port}`)) process.kill(redisPid, 'SIGTERM')
  } catch {}
}

export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
