import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { request } from 'undici'
import { startInstance, type RunningProcess } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'

/** Shared fixture of the kv-quorum integration files: a private Redis and three replicas. */
export const ids = ['kv-quorum-1', 'kv-quorum-2', 'kv-quorum-3'] as const
export type ReplicaId = typeof ids[number]

export interface KvCluster {
  redis: TestRedis
  env: Record<string, string>
  dataDirs: Record<ReplicaId, string>
  procs: Record<ReplicaId, RunningProcess>
  start: (id: ReplicaId) => Promise<RunningProcess>
  cleanup: () => Promise<void>
}

export async function startKvCluster (prefix: string, env: Record<string, string>, perInstance: Partial<Record<ReplicaId, Record<string, string>>> = {}): Promise<KvCluster> {
  const redis = await startRedis()
  const root = mkdtempSync(join(tmpdir(), `${prefix}-`))
  const common = { REDIS_URL: redis.url, NINES_PREFIX: prefix, LOG_LEVEL: 'warn', ...env }
  const dataDirs = Object.fromEntries(ids.map((id) => [id, join(root, id)])) as Record<ReplicaId, string>
  const start = async (id: ReplicaId): Promise<RunningProcess> => {
    const proc = await startInstance('kv-quorum', { ...common, LOG_LEVEL: 'info', INSTANCE_ID: id, KVQ_DATA_DIR: dataDirs[id], ...perInstance[id] })
    cluster.procs[id] = proc
    return proc
  }
  const cluster: KvCluster = {
    redis,
    env: common,
    dataDirs,
    procs: {} as Record<ReplicaId, RunningProcess>,
    start,
    cleanup: async () => {
      await redis.stop()
      rmSync(root, { recursive: true, force: true })
    }
  }
  await Promise.all(ids.map(start))
  // every replica sees the other two before the tests start
  await waitFor(async () => {
    for (const id of ids) {
      const s = await status(cluster.procs[id].url)
      if (s.replicas.some((r: { url: string | null }) => r.url === null)) return false
    }
    return true
  })
  return cluster
}

export interface KvResponse {
  status: number
  headers: Record<string, string>
  text: string
  json: () => any
}

export async function call (base: string, method: 'GET' | 'PUT' | 'DELETE', path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<KvResponse> {
  const res = await request(base + path, { method, ...(body === undefined ? {} : { body }), headers })
  const text = await res.body.text()
  const flat: Record<string, string> = {}
  for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(',') : v
  return { status: res.statusCode, headers: flat, text, json: () => JSON.parse(text) }
}

/** A replica's own record for a key, straight from its internal route (no quorum). */
export async function localRecord (base: string, key: string): Promise<{ value: string | null, version: { t: number, c: number, n: string } } | null> {
  const res = await call(base, 'GET', `/internal/replica/keys/${encodeURIComponent(key)}`)
  const record = res.json().record
  if (record === null) return null
  return { value: record.value === null ? null : Buffer.from(record.value, 'base64').toString(), version: record.version }
}

export async function status (base: string): Promise<any> {
  return (await call(base, 'GET', '/internal/status')).json()
}
