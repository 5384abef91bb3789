import { join } from 'node:path'
import { request } from 'undici'
import { freePort } from '../../../shared/testing/ports.js'
import { spawnReady, type SpawnedNode } from '../../../shared/testing/processes.js'
import { waitFor } from '../../../shared/testing/wait.js'
import { instanceSpecs, topology, type ServiceSpec } from '../../../topology.js'
import { fastTimings, gatewayEntry, serviceEntry } from '../../lib/cluster.js'

export interface WholeCluster {
  gatewayUrl: string
  processes: Map<string, SpawnedNode>
}

/**
 * Every instance of the topology and a gateway, from the build, against `redisUrl`, on free
 * loopback ports; each instance that keeps data (`*_DATA_DIR`) gets a directory of its own under
 * `dataRoot`. Resolves once the gateway's /readyz says every service is there. The caller ends
 * the processes (`killAll` of shared/testing/processes).
 */
export async function startWholeCluster (redisUrl: string, prefix: string, dataRoot: string, extraEnv: Record<string, string> = {}): Promise<WholeCluster> {
  const env = { ...fastTimings, REDIS_URL: redisUrl, NINES_PREFIX: prefix, ...extraEnv }
  const processes = new Map<string, SpawnedNode>()
  const starting: Array<Promise<[string, SpawnedNode]>> = []
  for (const [service, spec] of Object.entries(topology.services as Record<string, ServiceSpec>)) {
    for (const instance of instanceSpecs(service, spec)) {
      const own: Record<string, string> = { ...spec.env, ...instance.env, INSTANCE_ID: instance.id }
      for (const name of Object.keys(own)) if (name.endsWith('_DATA_DIR')) own[name] = join(dataRoot, instance.id)
      starting.push(spawnReady(serviceEntry(service), { ...env, ...own }, { timeoutMs: 60_000 }).then((proc) => [instance.id, proc]))
    }
  }
  for (const [id, proc] of await Promise.all(starting)) processes.set(id, proc)
  const port = await freePort()
  processes.set('gateway', await spawnReady(gatewayEntry, { ...env, PORT: String(port) }, { readyMsg: 'gateway ready', timeoutMs: 30_000 }))
  const gatewayUrl = `http://127.0.0.1:${port}`
  await waitFor(async () => {
    const res = await request(`${gatewayUrl}/readyz`)
    await res.body.dump()
    return res.statusCode === 200
  }, 60_000, 'the cluster ready', 100)
  return { gatewayUrl, processes }
}
