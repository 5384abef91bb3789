import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createInterface } from 'node:readline'
import autocannon from 'autocannon'
import { builtEntry, topology } from '../../topology.js'
import { freePort } from '../launcher/ports.js'
import { startLocalRedis, type LocalRedis } from '../launcher/redis.js'

export const root = resolve(import.meta.dirname, '../../..')

export interface BenchProcess { pid: number, url: string, child: ChildProcess }

/**
 * What the benchmarks need around them: a private Redis, processes started from the built
 * output and waited for, and everything stopped at the end whatever happens.
 */
export class BenchCluster {
  readonly #children: ChildProcess[] = []
  readonly #dir = mkdtempSync(join(tmpdir(), 'nines-bench-'))
  redis: LocalRedis | undefined
  readonly env: Record<string, string>

  constructor ({ prefix = 'bench' }: { prefix?: string } = {}) {
    this.env = { LOG_LEVEL: 'warn', NINES_PREFIX: prefix, NINES_PARENT_PID: String(process.pid) }
  }

  async startRedis (): Promise<string> {
    this.redis = await startLocalRedis(await freePort(), join(this.#dir, 'redis'))
    this.env.REDIS_URL = this.redis.url
    return this.redis.url
  }

  async startService (service: string, env: Record<string, string> = {}): Promise<BenchProcess> {
    const spec = topology.services[service as keyof typeof topology.services]
    if (spec === undefined) throw new Error(`no service ${service}`)
    return await this.spawn(builtEntry(spec), env, 'service ready')
  }

  async startGateway (env: Record<string, string> = {}): Promise<BenchProcess> {
    const port = await freePort()
    const proc = await this.spawn('dist/gateway/src/server.js', { PORT: String(port), ...env }, 'gateway ready')
    return { ...proc, url: `http://127.0.0.1:${port}` }
  }

  async stop (): Promise<void> {
    for (const child of this.#children) { try { child.kill('SIGCONT'); child.kill('SIGKILL') } catch {} }
    await this.redis?.stop()
    rmSync(this.#dir, { recursive: true, force: true })
  }

  /** Starts a built entry and resolves with its pid and URL once it logs `readyMsg`. */
  async spawn (entry: string, env: Record<string, string>, readyMsg: string): Promise<BenchProcess> {
    // the benchmark needs to see the ready line, so this process logs at info whatever LOG_LEVEL says
    const child = spawn(process.execPath, [resolve(root, entry)], { env: { ...process.env, ...this.env, LOG_LEVEL: 'info', ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
    this.#children.push(child)
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${entry} did not become ready`)), 20_000)
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (!line.includes(readyMsg)) return
        clearTimeout(timer)
        resolve(String((JSON.parse(line) as { url: string }).url))
      })
      child.once('exit', (code) => reject(new Error(`${entry} exited (${String(code)})`)))
    })
    return { pid: child.pid!, url, child }
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

export function envNumber (name: string, fallback: number): number {
  const raw = process.env[name]
  return raw === undefined || raw === '' ? fallback : Number(raw)
}
