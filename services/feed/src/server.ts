import { runService } from '../../../shared/src/service/run-service.js'
import { pipelineKeys } from '../../../shared/src/pipeline/keys.js'
import { FeedStream } from './adapters/stream.js'
import { buildApp } from './app.js'
import { feedSpec } from './config.js'

await runService({
  service: 'feed',
  spec: feedSpec,
  build: async ({ config, instanceId, log, redis, registrar }) => ({
    app: buildApp(
      { service: 'feed', instanceId, logger: log, readiness: () => registrar().registered ? [] : ['not registered'] },
      { stream: new FeedStream(redis, pipelineKeys(config.keyPrefix).feed, config.maxEvents), bodyLimitBytes: config.bodyLimitBytes }
    )
  })
})
