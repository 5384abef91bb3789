import { existsSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { request } from 'undici'
import { controlAuthHeaders, readControlToken } from '../../launcher/control-auth.js'

/** Where a running cluster is: the gateway, the launcher's control API, its Redis. */
export interface ClusterInfo {
  gatewayUrl: string
  /** Undefined when the cluster was not started by the local launcher (no faults can be injected). */
  controlUrl?: string
  /** The control API's token (`NINES_CONTROL_TOKEN`, or the launcher's `<state-dir>/control-token`). */
  controlToken?: string
  redisUrl?: string
}

export interface ClusterFlags {
  gateway?: string | undefined
  control?: string | undefined
  redis?: string | undefined
  stateDir?: string | undefined
}

/**
 * Flags first, then env (`NINES_GATEWAY_URL`, `NINES_CONTROL_URL`, `REDIS_URL`), then the
 * launcher's `<state-dir>/cluster.json` (`NINES_STATE_DIR`, default `.nines`), then the default
 * gateway `http://127.0.0.1:8080`. Every URL must be on loopback: these tools never send traffic
 * anywhere else.
 */
export function resolveCluster (flags: ClusterFlags, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ClusterInfo {
  const stateDir = resolve(cwd, flags.stateDir ?? env.NINES_STATE_DIR ?? '.nines')
  const file = join(stateDir, 'cluster.json')
  const saved = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Partial<ClusterInfo> : {}
  const pick = (...xs: Array<string | undefined>): string | undefined => xs.find((x) => x !== undefined && x !== '')
  const gatewayUrl = pick(flags.gateway, env.NINES_GATEWAY_URL, saved.gatewayUrl) ?? 'http://127.0.0.1:8080'
  const controlUrl = pick(flags.control, env.NINES_CONTROL_URL, saved.controlUrl)
  const redisUrl = pick(flags.redis, env.REDIS_URL, saved.redisUrl)
  const controlToken = pick(env.NINES_CONTROL_TOKEN, readControlToken(stateDir))
  for (const url of [gatewayUrl, controlUrl, redisUrl]) if (url !== undefined) assertLoopback(url)
  return {
    gatewayUrl: gatewayUrl.replace(/\/$/, ''),
    ...(controlUrl !== undefined ? { controlUrl: controlUrl.replace(/\/$/, '') } : {}),
    ...(controlToken !== undefined ? { controlToken } : {}),
    ...(redisUrl !== undefined ? { redisUrl } : {})
  }
}

export function assertLoopback (url: string): void {
  // every host of the authority: redis+sentinel:// URLs list several, comma-separated
  const authority = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?([^/?#]*)/i.exec(url)?.[1] ?? ''
  const hosts = authority.split(',').map((h) => h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.replace(/:\d*$/, ''))
  const loopback = (host: string): boolean => host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
  if (hosts.length === 0 || !hosts.every(loopback)) {
    throw new Error(`refusing to target ${url}: load and chaos only ever go to loopback (127.0.0.0/8, localhost, ::1)`)
  }
}

/** One instance as the gateway's GET /registry shows it. */
export interface RegistryInstance {
  id: string
  url: string
  role: string
  healthy: boolean
  meta?: Record<string, string | number | boolean>
}

export type RegistryView = Record<string, RegistryInstance[]>

export async function fetchRegistry (gatewayUrl: string, timeoutMs = 2_000): Promise<RegistryView> {
  const res = await request(`${gatewayUrl}/registry`, { signal: AbortSignal.timeout(timeoutMs) })
  if (res.statusCode !== 200) {
    await res.body.dump()
    throw new Error(`GET ${gatewayUrl}/registry answered ${res.statusCode}`)
  }
  return ((await res.body.json()) as { services: RegistryView }).services
}

/** A service is in the cluster when the registry lists it with at least one instance. */
export function servicesPresent (registry: RegistryView): Set<string> {
  return new Set(Object.entries(registry).filter(([, list]) => list.length > 0).map(([name]) => name))
}

export const notInCluster = 'skipped: service not in the cluster'

/** One process as the launcher's control API lists it. */
export interface ControlInstance { id: string, service: string, pid?: number, state: string, restarts: number }

/** The launcher's loopback control API (scripts/launcher/control-api.ts). */
export class ControlClient {
  readonly url: string
  readonly #headers: Record<string, string>
  constructor (url: string, token?: string) {
    assertLoopback(url)
    this.url = url
    this.#headers = controlAuthHeaders(token)
  }

  async instances (): Promise<ControlInstance[]> {
    return ((await this.#call('GET', '/instances')) as { instances: ControlInstance[] }).instances
  }

  async instance (id: string, action: 'kill' | 'stop' | 'cont' | 'restart'): Promise<void> {
    await this.#call('POST', `/instances/${encodeURIComponent(id)}/${action}`)
  }

  async redisRestart (): Promise<void> {
    await this.#call('POST', '/redis/restart')
  }

  async #call (method: 'GET' | 'POST', path: string): Promise<unknown> {
    const res = await request(this.url + path, { method, headers: this.#headers, signal: AbortSignal.timeout(30_000) })
    const text = await res.body.text()
    if (res.statusCode >= 400) {
      let message = text
      try { message = (JSON.parse(text) as { message?: string }).message ?? text } catch {}
      throw new Error(`control ${method} ${path}: ${res.statusCode} ${message}`)
    }
    return text === '' ? undefined : JSON.parse(text)
  }
}
