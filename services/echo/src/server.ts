import { runService } from '../../../shared/src/service/run-service.js'
import { buildApp } from './app.js'

await runService({
  service: 'echo',
  spec: {},
  build: async ({ instanceId, log, registrar }) => ({
    app: buildApp({ service: 'echo', instanceId, logger: log, readiness: () => registrar().registered ? [] : ['not registered'] })
  })
})
