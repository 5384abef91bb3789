import { runService } from '../../../shared/src/service/run-service.js'
import { buildApp } from './app.js'
import { echoSpec } from './config.js'

await runService({
  service: 'echo',
  spec: echoSpec,
  policy: { balancer: 'least-outstanding', hedge: true },
  build: async ({ config, instanceId, log, registrar }) => ({
    app: buildApp({ service: 'echo', instanceId, logger: log, readiness: () => registrar().registered ? [] : ['not registered'] }, { slow: { ms: config.slowMs, share: config.slowShare } })
  })
})
