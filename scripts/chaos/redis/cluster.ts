import { join, resolve } from 'node:path'
import { request } from 'undici'
import { fastTimings } from '../../../shared/testing/cluster.js'
import { spawnNode, type SpawnedNode } from '../../../shared/testing/processes.js'
import { builtEntry, instanceSpecs, topology, type ServiceSpec } from '../../../topology.js'
import { freePort } from '../../launcher/ports.js'

const root = resolve(import.meta.dirname, '../../../..')

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
  const starting: Array<Promise<unknown>> = []
  for (const [service, spec] of Object.entries(topology.services as Record<string, ServiceSpec>)) {
    for (const instance of instanceSpecs(service, spec)) {
      const own: Record<string, string> = { ...spec.env, ...instance.env, INSTANCE_ID: instance.id }
      for (const name of Object.keys(own)) if (name.endsWith('_DATA_DIR')) own[name] = join(dataRoot, instance.id)
      const proc = spawnNode(resolve(root, builtEntry(spec)), { ...env, ...own })
      processes.set(instance.id, proc)
      starting.push(proc.waitForLog((e) => e.msg === 'service ready', 60_000))
    }
  }
  await Promise.all(starting)
  const port = await freePort()
  const gateway = spawnNode(resolve(root, 'dist/gateway/src/server.js'), { ...env, PORT: String(port) })
  processes.set('gateway', gateway)
  await gateway.waitForLog((e) => e.msg === 'gateway ready', 30_000)
  const gatewayUrl = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    const res = await request(`${gatewayUrl}/readyz`)
    await res.body.dump()
    if (res.statusCode === 200) break
    if (Date.now() > deadline) throw new Error('the cluster did not get ready within 60 s')
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return { gatewayUrl, processes }
}
