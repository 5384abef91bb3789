import { loadConfig } from '../../shared/src/config.js'
import { createLogger } from '../../shared/src/logger.js'
import { topology } from '../../topology.js'
import { buildGateway } from './app.js'
import { exitWithParent } from '../../shared/src/service/watch-parent.js'
import { gatewaySpec } from './config.js'

const config = loadConfig(gatewaySpec)
const log = createLogger({ service: 'gateway', instanceId: config.instanceId, level: config.logLevel })
// the topology names the services /readyz waits for; how each is routed comes from the registry
const gateway = buildGateway(config, log, { services: Object.keys(topology.services) })
await gateway.start()
const address = await gateway.app.listen({ host: config.host, port: config.port })
log.info({ url: address }, 'gateway ready')

let stopping = false
const shutdown = (reason: string): void => {
  if (stopping) return
  stopping = true
  log.info({ reason }, 'gateway shutting down')
  // an open connection that never closes (a dashboard stream, a stuck client) must not keep an
  // orphaned gateway alive: past the timeout it exits anyway
  const force = setTimeout(() => { log.error('shutdown timed out; exiting'); process.exit(1) }, config.shutdownTimeoutMs)
  force.unref()
  gateway.stop().then(() => process.exit(0), (err: unknown) => {
    log.error({ err }, 'shutdown failed; exiting')
    process.exit(1)
  })
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown(signal))
exitWithParent(config.parentPid || undefined, () => shutdown('launcher gone'))
