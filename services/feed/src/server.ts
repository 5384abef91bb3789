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
      {
        stream: new FeedStream(redis, {
          key: pipelineKeys(config.keyPrefix).feed,
          idempotencyKey: pipelineKeys(config.keyPrefix).feedIdempotency,
          maxEvents: config.maxEvents,
          idempotencyTtlS: config.idempotencyTtlS,
          waitMs: config.redisWaitMs,
          reconnectWaitMs: config.reconnectWaitMs
        }),
        bodyLimitBytes: config.bodyLimitBytes
      }
    )
  })
})
