import { existsSync } from 'node:fs'
import { localRedisPid } from '../../scripts/launcher/redis.js'
import { dirname, resolve } from 'node:path'
import { builtEntry, topology } from '../../topology.js'
import { freePort } from '../../scripts/launcher/ports.js'
import { controlAuthHeaders, readControlToken } from '../../scripts/launcher/control-auth.js'
import { spawnNode, type SpawnedNode } from './processes.js'

/** The project root, whether this file runs from source or compiled into dist/. */
export const projectRoot = findRoot(import.meta.dirname)

function findRoot (from: string): string {
  let dir = from
  while (!existsSync(resolve(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir)
  return dir
}

export interface RunningProcess extends SpawnedNode {
  url: string
}

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

/** Starts one instance of a topology service from the built output and waits until it is registered. */
export async function startInstance (service: keyof typeof topology.services | string, env: Record<string, string>): Promise<RunningProcess> {
  const spec = (topology.services as Record<string, Parameters<typeof builtEntry>[0]>)[service]
  if (spec === undefined) throw new Error(`no service ${service} in the topology`)
  const proc = spawnNode(resolve(projectRoot, builtEntry(spec)), { ...fastTimings, ...env })
  const ready = await proc.waitForLog((e) => e.msg === 'service ready')
  return { ...proc, url: String(ready.url) }
}

/** Starts a gateway on a free port. */
export async function startGateway (env: Record<string, string>): Promise<RunningProcess> {
  const port = await freePort()
  const proc = spawnNode(resolve(projectRoot, 'dist/gateway/src/server.js'), { ...fastTimings, PORT: String(port), ...env })
  await proc.waitForLog((e) => e.msg === 'gateway ready')
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
  const deadline = Date.now() + 30_000
  while (!proc.lines.some((l) => l.includes('cluster ready'))) {
    if (Date.now() > deadline || proc.child.exitCode !== null) throw new Error(`the launcher did not get ready:\n${proc.lines.slice(-20).join('\n')}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const shutdown = async (): Promise<void> => {
    await proc.stop(10_000)
    const redisPid = localRedisPid(stateDir) // the current one, even after a Redis restart
    if (redisPid !== undefined) process.kill(redisPid, 'SIGKILL')
  }
  const controlToken = readControlToken(stateDir) ?? ''
  return { ...proc, gatewayUrl: `http://127.0.0.1:${port}`, controlUrl: `http://127.0.0.1:${cport}`, controlToken, controlHeaders: controlAuthHeaders(controlToken), shutdown }
}
