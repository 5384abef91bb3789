import { resolve } from 'node:path'
import { RegistryWatcher } from '../../../shared/src/registry/watcher.js'
import { createMetricsRegistry } from '../../../shared/src/service/metrics.js'
import { runService } from '../../../shared/src/service/run-service.js'
import { AppendLog } from './adapters/persistence.js'
import { PeerClient } from './adapters/peer-client.js'
import { buildApp } from './app.js'
import { Background } from './background.js'
import { kvQuorumSpec, validateReplicaSet } from './config.js'
import { Coordinator } from './coordinator.js'
import { HintBook } from './core/hints.js'
import { HybridClock } from './core/hlc.js'
import { VersionedStore } from './core/store.js'
import { ReplicaDirectory } from './directory.js'
import { kvQuorumMetrics } from './metrics.js'
import { LocalReplica } from './replica.js'

const service = 'kv-quorum'

await runService({
  service,
  spec: kvQuorumSpec,
  // any replica coordinates (a write waits for W of them); reads are quorum reads, so hedging them is safe
  policy: { balancer: 'least-outstanding', hedge: true },
  build: async ({ config, instanceId, log, registrar }) => {
    const { ids, self } = validateReplicaSet(config, instanceId)
    const wallNow = (): number => Date.now() + config.clockOffsetMs
    const clock = new HybridClock(wallNow)
    const store = new VersionedStore()
    const dataDir = resolve(config.dataDir !== '' ? config.dataDir : `data/kv-quorum/${instanceId}`)
    const appendLog = new AppendLog({
      dir: dataDir,
      compactRatio: config.compactRatio,
      onRecord: (record) => { store.apply(record); clock.observe(record.version) },
      snapshot: () => store.records(),
      onError: (err) => log.error({ err }, 'log compaction failed; the old log stays in place')
    })
    const replayed = await appendLog.open(() => store.size)
    log.info({ dataDir, ...replayed, records: store.size, clockOffsetMs: config.clockOffsetMs }, 'replica data loaded')

    // peers joining, leaving and moving are announced at once; the refresh only catches a lapsed
    // registration, and a call to a dead peer fails by itself meanwhile: no need to re-read often
    const watcher = new RegistryWatcher({ redisUrl: config.redisUrl, prefix: config.keyPrefix, refreshMs: 2_000, log })
    await watcher.start()
    const directory = new ReplicaDirectory({ ids, self, watcher, service })
    const peers = new PeerClient()
    watcher.on('change', () => { peers.retain(directory.urls().values()) })
    const hints = new HintBook(config.maxHintsPerReplica)
    const replica = new LocalReplica({ store, log: appendLog, clock, wallNow, tombstoneGraceMs: config.tombstoneGraceMs, digestBuckets: config.digestBuckets })
    const readiness = (): string[] => registrar().registered ? [] : ['not registered']
    const identity = { service, instanceId, logger: log, readiness }
    const registry = createMetricsRegistry({ service, instance: instanceId })
    const metrics = kvQuorumMetrics(registry, () => hints.count())
    const coordinator = new Coordinator({ directory, replica, peers, clock, hints, replicaTimeoutMs: config.replicaTimeoutMs, metrics, log })
    const background = new Background({ directory, replica, peers, hints, metrics, log, hintIntervalMs: config.hintIntervalMs, antiEntropyMs: config.antiEntropyMs, replicaTimeoutMs: config.replicaTimeoutMs, tombstoneGraceMs: config.tombstoneGraceMs })
    const app = buildApp({
      identity: { ...identity, metrics: registry },
      coordinator,
      replica,
      directory,
      hints,
      metrics,
      defaults: { n: ids.length, w: config.w, r: config.r, consistency: config.consistency },
      maxValueBytes: config.maxValueBytes,
      digestBuckets: config.digestBuckets
    })
    app.addHook('onClose', async () => {
      await peers.close()
      await appendLog.close()
    })
    return {
      app,
      meta: { n: ids.length, w: config.w, r: config.r },
      start: async () => { background.start() },
      stop: async () => {
        background.stop()
        await watcher.stop()
      }
    }
  }
})
