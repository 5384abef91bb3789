import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { Redis } from 'ioredis'
import { freePort } from '../../scripts/launcher/ports.js'
import { track } from './processes.js'

export interface TestRedis {
  url: string
  port: number
  /** The running server's pid (to freeze it), undefined once killed. */
  pid: () => number | undefined
  /** kill -9; the port stays reserved for `restart`. */
  kill: () => Promise<void>
  /** Starts again on the same port, empty (no persistence), like a Redis that lost its data. */
  restart: () => Promise<void>
  stop: () => Promise<void>
}

/** A private redis-server on a free loopback port, with no persistence. */
export async function startRedis (): Promise<TestRedis> {
  const port = await freePort()
  let child: ChildProcess | undefined
  const launch = async (): Promise<void> => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], { stdio: 'ignore' })
    track(child)
    child.once('error', () => {})
    await waitForPing(port)
  }
  await launch()
  const kill = async (): Promise<void> => {
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited
  }
  const pid = (): number | undefined => child !== undefined && child.exitCode === null && child.signalCode === null ? child.pid : undefined
  return { url: `redis://127.0.0.1:${port}`, port, pid, kill, restart: launch, stop: kill }
}

async function waitForPing (port: number, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.ping()
      client.disconnect()
      return
    } catch {
      client.disconnect()
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
  }
  throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms (is redis-server installed?)`)
}
