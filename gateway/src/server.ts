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
  void gateway.stop().finally(() => process.exit(0))
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => shutdown(signal))
exitWithParent(config.parentPid || undefined, () => shutdown('launcher gone'))
