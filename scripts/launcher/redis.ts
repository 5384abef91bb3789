import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { isAlive } from '../../shared/testing/processes.js'
import { redisPidFile, startRedisServer, type RedisServer } from '../../shared/testing/redis-server.js'

/** The launcher's Redis, one server or the Sentinel topology: `restart` is the chaos runner's kill -9 and start again. */
export type LocalRedis = Pick<RedisServer, 'url' | 'pid' | 'restart' | 'stop'>

export function hasRedisServer (): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0
}

export const installHint = 'redis-server was not found on PATH. Install it (Debian/Ubuntu: sudo apt-get install -y redis-server; macOS: brew install redis),\nor point REDIS_URL at a running Redis, or use docker compose up.'

/**
 * A private redis-server on loopback for this launcher, keeping its data under `dir`, durable:
 * the AOF is fsynced on every write, since the chaos runner's Redis restart is a kill -9, and with
 * `everysec` the last second of acknowledged work (feed entries, sink outputs, epochs) would
 * vanish with it.
 */
export async function startLocalRedis (port: number, dir: string): Promise<LocalRedis> {
  return await startRedisServer({ port, dir })
}

/** The pid of the launcher's private redis-server for this state directory, if one is running. */
export function localRedisPid (stateDir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(stateDir, 'redis', redisPidFile), 'utf8').trim())
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
