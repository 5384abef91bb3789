import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import autocannon from 'autocannon'
import { freePort } from '../../shared/testing/ports.js'
import { spawnReady, type RunningProcess } from '../../shared/testing/processes.js'
import { startRedisServer, type RedisServer } from '../../shared/testing/redis-server.js'
import { gatewayEntry, projectRoot, serviceEntry } from '../lib/cluster.js'

export { projectRoot as root }

export type BenchProcess = RunningProcess

/**
 * What the benchmarks need around them: a private Redis, processes started from the built
 * output and waited for, and everything stopped at the end whatever happens. Unlike the tests'
 * cluster it keeps the services' default timings: the figures are the defaults' figures.
 */
export class BenchCluster {
  readonly #procs: BenchProcess[] = []
  readonly #dir = mkdtempSync(join(tmpdir(), 'nines-bench-'))
  redis: RedisServer | undefined
  readonly env: Record<string, string>

  constructor ({ prefix = 'bench', env = {} }: { prefix?: string, env?: Record<string, string> } = {}) {
    this.env = { LOG_LEVEL: 'warn', NINES_PREFIX: prefix, ...env }
  }

  /**
   * A private redis-server; `durable` (the default) fsyncs its AOF on every write as the
   * launcher's does, so the figures include what durability costs.
   */
  async startRedis ({ durable = true }: { durable?: boolean } = {}): Promise<string> {
    this.redis = await startRedisServer(durable ? { dir: join(this.#dir, 'redis') } : {})
    this.env.REDIS_URL = this.redis.url
    return this.redis.url
  }

  /** A directory of the cluster's own, removed by `stop` (an instance's data dir). */
  dir (name: string): string {
    return join(this.#dir, name)
  }

  async startService (service: string, env: Record<string, string> = {}): Promise<BenchProcess> {
    return await this.spawn(serviceEntry(service), env, 'service ready')
  }

  async startGateway (env: Record<string, string> = {}): Promise<BenchProcess> {
    const port = await freePort()
    const proc = await this.spawn(gatewayEntry, { PORT: String(port), ...env }, 'gateway ready')
    return { ...proc, url: `http://127.0.0.1:${port}` }
  }

  async stop (): Promise<void> {
    for (const { child } of this.#procs) { try { child.kill('SIGCONT'); child.kill('SIGKILL') } catch {} }
    await this.redis?.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }

  /** Starts a built entry and resolves once it logs `readyMsg`, with the URL it logged. */
  async spawn (entry: string, env: Record<string, string>, readyMsg: string): Promise<BenchProcess> {
    // the benchmark needs to see the ready line, so this process logs at info whatever LOG_LEVEL says
    const proc = await spawnReady(entry, { ...this.env, LOG_LEVEL: 'info', ...env }, { readyMsg, echoStderr: true })
    this.#procs.push(proc)
    return proc
  }
}

/** CPU time (user + system) a process has used so far, in microseconds (Linux /proc). */
export function cpuMicros (pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  const ticks = Number(fields[11]) + Number(fields[12]) // utime + stime, in clock ticks of 10 ms
  return ticks * 10_000
}

export interface LoadFigures { rps: number, p50: number, p90: number, p99: number, requests: number, errors: number, non2xx: number }

export async function load (url: string, opts: { connections?: number, durationS?: number, pipelining?: number, method?: string, body?: string, headers?: Record<string, string> } = {}): Promise<LoadFigures> {
  const result = await autocannon({
    url,
    connections: opts.connections ?? 50,
    duration: opts.durationS ?? 5,
    pipelining: opts.pipelining ?? 1,
    ...(opts.method !== undefined ? { method: opts.method as 'GET' } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
    ...(opts.headers !== undefined ? { headers: opts.headers } : {})
  })
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx
  }
}
