import { existsSync } from 'node:fs'
import { localRedisPid } from '../launcher/redis.js'
import { dirname, resolve } from 'node:path'
import { builtEntry, topology } from '../../topology.js'
import { freePort } from '../../shared/testing/ports.js'
import { controlAuthHeaders, readControlToken } from '../launcher/control-auth.js'
import { spawnNode, spawnReady, type RunningProcess, type SpawnedNode } from '../../shared/testing/processes.js'
import { waitFor } from '../../shared/testing/wait.js'

/** The project root, whether this file runs from source or compiled into dist/. */
export const projectRoot = findRoot(import.meta.dirname)

function findRoot (from: string): string {
  let dir = from
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

export type { RunningProcess }

/** Fast registry and health timings so tests see changes within a second. */
export const fastTimings: Record<string, string> = {
  REGISTRY_TTL_MS: '1500',
  REGISTRY_HEARTBEAT_MS: '250',
  GW_REGISTRY_REFRESH_MS: '250',
  GW_HEALTH_INTERVAL_MS: '200',
  GW_HEALTH_FAST_INTERVAL_MS: '100',
  GW_HEALTH_TIMEOUT_MS: '150',
  DRAIN_DELAY_MS: '300'
}

/** The built entry point of a topology service. */
export function serviceEntry (service: string): string {
  const spec = (topology.services as Record<string, Parameters<typeof builtEntry>[0]>)[service]
  if (spec === undefined) throw new Error(`no service ${service} in the topology`)
  return resolve(projectRoot, builtEntry(spec))
}

export const gatewayEntry = resolve(projectRoot, 'dist/gateway/src/server.js')

/** Starts one instance of a topology service from the built output and waits until it is registered. */
export async function startInstance (service: keyof typeof topology.services | string, env: Record<string, string>): Promise<RunningProcess> {
  return await spawnReady(serviceEntry(service), { ...fastTimings, ...env }, { timeoutMs: 15_000 })
}

/** Starts a gateway on a free port. */
export async function startGateway (env: Record<string, string>): Promise<RunningProcess> {
  const port = await freePort()
  const proc = await spawnReady(gatewayEntry, { ...fastTimings, PORT: String(port), ...env }, { readyMsg: 'gateway ready', timeoutMs: 15_000 })
  return { ...proc, url: `http://127.0.0.1:${port}` }
}

export interface EchoCluster {
  redisUrl: string
  gateway: RunningProcess
  echoes: Map<string, RunningProcess>
  env: Record<string, string>
  addEcho: (id: string) => Promise<RunningProcess>
}

/** Redis (given), `count` echo instances and a gateway, all with a key prefix of their own. */
export async function startEchoCluster (redisUrl: string, prefix: string, count = 3, gatewayEnv: Record<string, string> = {}): Promise<EchoCluster> {
  const env = { REDIS_URL: redisUrl, NINES_PREFIX: prefix }
  const echoes = new Map<string, RunningProcess>()
  const addEcho = async (id: string): Promise<RunningProcess> => {
    const proc = await startInstance('echo', { ...env, INSTANCE_ID: id })
    echoes.set(id, proc)
    return proc
  }
  await Promise.all(Array.from({ length: count }, async (_, i) => await addEcho(`echo-${i + 1}`)))
  const gateway = await startGateway({ ...env, NINES_SERVICES: 'echo', ...gatewayEnv })
  return { redisUrl, gateway, echoes, env, addEcho }
}

export interface RunningLauncher extends SpawnedNode {
  gatewayUrl: string
  controlUrl: string
  /** The control API's token, as the launcher wrote it to its state dir. */
  controlToken: string
  /** The headers a control API call needs. */
  controlHeaders: Record<string, string>
  /** Graceful stop, then ends the launcher's private redis-server by pid if it is still there. */
  shutdown: () => Promise<void>
}

/** Runs the real launcher (`npm start`'s process) on free ports and waits for "cluster ready". */
export async function startLauncher (args: string[], env: Record<string, string>, stateDir: string): Promise<RunningLauncher> {
  const [port, cport] = await Promise.all([freePort(), freePort()])
  const proc = spawnNode(resolve(projectRoot, 'dist/scripts/launcher/main.js'), { REGISTRY_TTL_MS: '1500', REGISTRY_HEARTBEAT_MS: '250', ...env },
    [...args, '--port', String(port), '--control-port', String(cport), '--state-dir', stateDir])
  const ready = (): boolean => proc.lines.some((l) => l.includes('cluster ready'))
  const failed = (why: string): Error => new Error(`the launcher ${why}:\n${proc.lines.slice(-20).join('\n')}`)
  await waitFor(() => ready() || proc.child.exitCode !== null, 30_000).catch(() => { throw failed('did not get ready') })
  if (!ready()) throw failed('exited before it was ready')
  const shutdown = async (): Promise<void> => {
    await proc.stop(10_000)
    const redisPid = localRedisPid(stateDir) // the current one, even after a Redis restart
    if (redisPid !== undefined) process.kill(redisPid, 'SIGKILL')
  }
  const controlToken = readControlToken(stateDir) ?? ''
  return { ...proc, gatewayUrl: `http://127.0.0.1:${port}`, controlUrl: `http://127.0.0.1:${cport}`, controlToken, controlHeaders: controlAuthHeaders(controlToken), shutdown }
}
