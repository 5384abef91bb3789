import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { startGateway, startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { killAll } from '../../shared/testing/processes.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

export const ids = ['kv-leader-1', 'kv-leader-2', 'kv-leader-3'] as const

export interface ReplicaStatus { id: string, role: string, epoch: number, leaderId: string | null, lastIndex: number, lastEpoch: number, commitIndex: number, appliedIndex: number, snapshotIndex: number, keys: number }

/** Three kv-leader replicas (each with its own data dir), a private Redis and, optionally, a gateway. */
export class KvCluster {
  redis!: TestRedis
  gateway: RunningProcess | undefined
  readonly nodes = new Map<string, RunningProcess>()
  readonly root = mkdtempSync(join(tmpdir(), 'kv-leader-'))
  readonly env: Record<string, string>

  constructor (prefix: string, env: Record<string, string> = {}) {
    this.env = { NINES_PREFIX: prefix, KV_WRITE_TIMEOUT_MS: '800', KV_FSYNC: 'never', ...env }
  }

  async start ({ gateway = false } = {}): Promise<void> {
    this.redis = await startRedis()
    this.env.REDIS_URL = this.redis.url
    await Promise.all(ids.map(async (id) => await this.startNode(id)))
    if (gateway) this.gateway = await startGateway({ ...this.env, GW_LEADER_WAIT_MS: '3000', NINES_SERVICES: 'kv-leader' })
    await this.waitForLeader()
  }

  dataDir (id: string): string { return join(this.root, id) }

  async startNode (id: string, extra: Record<string, string> = {}): Promise<RunningProcess> {
    const node = await startInstance('kv-leader', { ...this.env, INSTANCE_ID: id, KV_DATA_DIR: this.dataDir(id), ...extra })
    this.nodes.set(id, node)
    return node
  }

  wipe (id: string): void {
    rmSync(this.dataDir(id), { recursive: true, force: true })
  }

  url (id: string): string {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node.url
  }

  async status (id: string): Promise<ReplicaStatus> {
    const res = await request(`${this.url(id)}/internal/status`, { headersTimeout: 500, bodyTimeout: 500 })
    return await res.body.json() as ReplicaStatus
  }

  /** Waits until exactly one live replica leads and can serve; returns its id. */
  async waitForLeader (among: readonly string[] = [...this.nodes.keys()], timeoutMs = 10_000): Promise<string> {
    let leader: string | undefined
    await waitFor(async () => {
      const statuses = await Promise.all(among.map(async (id) => await this.status(id).catch(() => undefined)))
      const leaders = statuses.filter((s) => s?.role === 'leader')
      if (leaders.length !== 1) return false
      const res = await request(`${this.url(leaders[0]!.id)}/keys/__probe`)
      await res.body.dump()
      leader = leaders[0]!.id
      return res.statusCode === 404 || res.statusCode === 200
    }, timeoutMs)
    return leader!
  }

  async stop (): Promise<void> {
    killAll()
    await this.redis?.stop()
    rmSync(this.root, { recursive: true, force: true })
  }
}

export interface KvResponse { status: number, headers: Record<string, string | string[] | undefined>, text: string }

export async function kv (base: string, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<KvResponse> {
  const res = await request(`${base}${path}`, { method, headers, body: body ?? null, headersTimeout: 5_000, bodyTimeout: 5_000 })
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() }
}
