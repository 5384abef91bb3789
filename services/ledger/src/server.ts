import { ConfigError, loadConfig } from '../../../shared/src/config.js'
import { checkLeaseTimings } from '../../../shared/src/lease/state.js'
import { pipelineKeys } from '../../../shared/src/pipeline/keys.js'
import { createRedis } from '../../../shared/src/redis.js'
import { RegistryWatcher } from '../../../shared/src/registry/watcher.js'
import { runService } from '../../../shared/src/service/run-service.js'
import { FeedReader } from './adapters/feed-reader.js'
import { SinkClient } from './adapters/sink-client.js'
import { buildApp } from './app.js'
import { ledgerService, ledgerSpec } from './config.js'
import { Ledger } from './ledger.js'

// the pair decides the registry service name, so it is read before the service starts
const { pair } = loadConfig({ pair: ledgerSpec.pair })

await runService({
  service: ledgerService(pair),
  spec: ledgerSpec,
  build: async ({ config, instanceId, log, registrar }) => {
    const lease = { ttlMs: config.leaseTtlMs, renewMs: config.leaseRenewMs, retryMs: config.leaseRetryMs, marginMs: config.leaseMarginMs }
    const problems = checkLeaseTimings(lease)
    if (problems.length > 0) throw new ConfigError(problems.map((p) => `LEDGER_LEASE_*: ${p}`))
    const readerRedis = createRedis(config.redisUrl, log)
    const leaseRedis = pair === 'hot-warm' ? createRedis(config.redisUrl, log) : undefined
    // the sinks: joins and leaves are announced at once; the refresh only catches a lapsed
    // registration, and until then a dead sink costs a failed send before the next one is tried
    const watcher = new RegistryWatcher({ redisUrl: config.redisUrl, prefix: config.keyPrefix, refreshMs: 2_000, log })
    const sink = new SinkClient(watcher, { timeoutMs: config.sendTimeoutMs })
    const app = buildApp(
      {
        service: ledgerService(pair),
        instanceId,
        logger: log,
        readiness: () => [
          ...(registrar().registered ? [] : ['not registered']),
          ...(ledger.rebuilt ? [] : ['rebuilding from the feed'])
        ]
      },
      () => ledger.status()
    )
    // the closures above run only once the app serves, after this line
    const ledger = new Ledger({
      pair,
      instanceId,
      prefix: config.keyPrefix,
      reader: new FeedReader(readerRedis, { key: pipelineKeys(config.keyPrefix).feed, fenceKey: pipelineKeys(config.keyPrefix).fence, waitMs: config.redisWaitMs }),
      sink,
      ...(leaseRedis !== undefined ? { leaseRedis } : {}),
      registrar,
      log,
      metrics: app.metricsRegistry,
      lease: { ...lease, fastTakeover: config.fastTakeover },
      retry: { retryMs: config.retryMs, retryMaxMs: config.retryMaxMs },
      idleMs: config.idleMs,
      batchMax: config.batchMax,
      readCount: config.readCount,
      hwmPollMs: config.hwmPollMs,
      skipLeaseCheck: config.faultSkipLeaseCheck
    })
    return {
      app,
      role: Ledger.initialRole(pair),
      meta: { pair, epoch: 0 },
      start: async () => {
        await watcher.start()
        ledger.start()
      },
      stop: async () => {
        await ledger.stop()
        await watcher.stop()
        await sink.close()
        readerRedis.disconnect()
        leaseRedis?.disconnect()
      }
    }
  }
})
