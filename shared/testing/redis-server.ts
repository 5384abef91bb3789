import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { Redis } from 'ioredis'
import { freePort } from './ports.js'
import { track } from './processes.js'
import { sleep } from './wait.js'

export interface RedisServer {
  url: string
  port: number
  /** The running server's pid (to freeze it), undefined once it is gone. */
  pid: () => number | undefined
  /** kill -9; the port stays reserved for `restart`. */
  kill: () => Promise<void>
  /** kill -9 if it runs, then start again on the same port: empty, or on its AOF when it has a `dir`. */
  restart: () => Promise<void>
  /** SIGTERM (after SIGCONT, in case it was frozen), SIGKILL if it is still there after 5 s. */
  stop: () => Promise<void>
}

/** The pid file of a durable server, under its `dir`: how a launcher that was kill -9'd is cleaned up after. */
export const redisPidFile = 'redis.pid'

export interface RedisServerOptions {
  /** @default a free loopback port */
  port?: number
  /**
   * Durable: data, AOF and pid file under `dir`, the AOF fsynced on every write (Redis groups
   * them per event-loop turn), so a kill -9 loses nothing acknowledged. Without it nothing is
   * persisted: a restart comes back empty, like a Redis that lost its data.
   */
  dir?: string
  /** Called with every process started (the tests' `track`, so a failed test still kills it). */
  onSpawn?: (child: ChildProcess) => void
}

/** One private redis-server on loopback, for the launcher, the benchmarks and the tests. */
export async function startRedisServer (opts: RedisServerOptions = {}): Promise<RedisServer> {
  const port = opts.port ?? await freePort()
  const dir = opts.dir
  if (dir !== undefined) mkdirSync(dir, { recursive: true })
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--protected-mode', 'no', '--save', '',
    ...(dir === undefined
      ? ['--appendonly', 'no']
      : ['--dir', dir, '--pidfile', join(dir, redisPidFile), '--appendonly', 'yes', '--appendfsync', 'always'])]
  let child: ChildProcess | undefined
  const running = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', args, { stdio: 'ignore' })
    child.once('error', () => {})
    opts.onSpawn?.(child)
    // a durable server answers only once its AOF is loaded, which can take a while after a long run
    await waitForPing(port, dir === undefined ? 5_000 : 60_000)
  }
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (!running()) return
    const exited = once(child!, 'exit')
    child!.kill('SIGCONT')
    child!.kill(signal)
    const hard = signal === 'SIGKILL' ? undefined : setTimeout(() => child?.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(hard)
  }
  await launch()
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: () => running() ? child!.pid : undefined,
    kill: async () => { await end('SIGKILL') },
    restart: async () => { await end('SIGKILL'); await launch() },
    stop: async () => { await end('SIGTERM') }
  }
}

/** A test's Redis: no persistence, killed with the test process even when a test fails. */
export async function startRedis (): Promise<RedisServer> {
  return await startRedisServer({ onSpawn: track })
}

export type TestRedis = RedisServer

/** Resolves once a Redis (server or Sentinel) on `port` answers PING; a loading AOF is not an answer yet. */
export async function waitForPing (port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 300 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      return
    } catch {
      await sleep(30)
    } finally {
      client.disconnect()
    }
  }
  throw new Error(`redis on port ${port} did not answer within ${timeoutMs} ms (is redis-server installed?)`)
}
