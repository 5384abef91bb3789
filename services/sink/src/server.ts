import { runService } from '../../../shared/src/service/run-service.js'
import { SinkStore } from './adapters/store.js'
import { buildApp } from './app.js'

await runService({
  service: 'sink',
  spec: {},
  build: async ({ config, instanceId, log, redis, registrar }) => ({
    app: buildApp(
      { service: 'sink', instanceId, logger: log, readiness: () => registrar().registered ? [] : ['not registered'] },
      new SinkStore(redis, config.keyPrefix, { waitMs: config.redisWaitMs })
    )
  })
})
