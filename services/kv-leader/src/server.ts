import { randomBytes } from 'node:crypto'
import { join, resolve } from 'node:path'
import { checkLeaseTimings } from '../../../shared/src/lease/state.js'
import { LeaseKeeper, type Candidacy } from '../../../shared/src/lease/lease-keeper.js'
import { leaseKeys } from '../../../shared/src/lease/redis-lease.js'
import { createRedis } from '../../../shared/src/redis.js'
import { RegistryWatcher } from '../../../shared/src/registry/watcher.js'
import { createMetricsRegistry } from '../../../shared/src/service/metrics.js'
import { runService } from '../../../shared/src/service/run-service.js'
import { LogFile } from './adapters/log-file.js'
import { PeerClient } from './adapters/peer-client.js'
import { buildApp } from './app.js'
import { kvLeaderSpec } from './config.js'
import { initialState } from './core/state.js'
import { ReplicaDriver } from './driver.js'
import { kvLeaderMetrics } from './metrics.js'

const service = 'kv-leader'

await runService({
  service,
  spec: kvLeaderSpec,
  // writes go to the leader; a try waits for its quorum (KV_WRITE_TIMEOUT_MS) plus a follower's wait for a leader
  policy: { balancer: 'least-outstanding', routing: 'leader', tryTimeoutMs: 5_000 },
  build: async ({ config, instanceId, log, redis, registrar }) => {
    const dir = resolve(config.dataDir !== '' ? config.dataDir : join('data', service, instanceId))
    const logFile = new LogFile({ dir, fsync: config.fsync, fsyncIntervalMs: config.fsyncIntervalMs, log })
    const recovered = await logFile.open()
    log.info({ path: logFile.path, lastIndex: recovered.log.lastIndex, lastEpoch: recovered.log.lastEpoch, snapshotIndex: recovered.snapshot?.index ?? 0 }, 'log recovered')
    const state = initialState({
      id: instanceId,
      clusterSize: config.clusterSize,
      ackMode: config.ackMode,
      heartbeatMs: config.heartbeatMs,
      maxBatchEntries: config.maxBatchEntries,
      maxBatchBytes: config.maxBatchBytes,
      compactEntries: config.compactEntries
    }, recovered.log, recovered.snapshot)
    const peers = new PeerClient({ timeoutMs: config.replicationTimeoutMs })
    const timings = { ttlMs: config.leaseTtlMs, renewMs: config.renewMs, retryMs: config.electionPollMs, marginMs: config.leaseMarginMs }
    const problems = checkLeaseTimings(timings)
    if (problems.length > 0) throw new Error(`kv-leader lease timings: ${problems.join('; ')}`)
    // a connection of its own: its Redis client id tells the others whether this replica is alive
    const leaseRedis = createRedis(config.redisUrl, log)
    const lease: LeaseKeeper = new LeaseKeeper({
      redis: leaseRedis,
      keys: leaseKeys(config.keyPrefix, service),
      // a restart is a new holder: it never resumes an epoch whose log tail it may have lost
      owner: `${instanceId}#${randomBytes(4).toString('hex')}`,
      timings,
      floor: () => state.epoch,
      // called only once the driver started the keeper
      candidacy: (holding): Candidacy | false => driver.candidacy(holding),
      log
    })
    let registered = false
    const metrics = createMetricsRegistry({ service, instance: instanceId })
    const driver: ReplicaDriver = new ReplicaDriver(state, { ...config, positionTtlMs: config.leaseTtlMs }, {
      lease,
      logFile,
      peers,
      log,
      onRole: (role, epoch) => {
        if (registered) void registrar().update({ role, meta: { epoch } }).catch(() => {})
      },
      observe: kvLeaderMetrics(metrics, state)
    })
    // joins and leaves are announced at once; the slow refresh only catches a registration that lapsed
    const watcher = new RegistryWatcher({ redisUrl: config.redisUrl, prefix: config.keyPrefix, refreshMs: 2_000, log })
    watcher.on('change', () => {
      driver.setPeers(new Map(watcher.instances(service).filter((r) => r.id !== instanceId).map((r) => [r.id, r.url])))
    })
    const app = buildApp({ service, instanceId, logger: log, metrics, readiness: () => registrar().registered ? [] : ['not registered'] }, {
      driver,
      peers,
      maxReplicationBytes: config.maxBatchBytes * 2 + 1_048_576,
      maxSnapshotBytes: config.maxSnapshotBytes,
      forwardTimeoutMs: config.writeTimeoutMs + config.leaderWaitMs,
      leaderWaitMs: config.leaderWaitMs
    })
    return {
      app,
      role: 'follower',
      meta: { epoch: state.epoch },
      start: async () => {
        registered = true
        await watcher.start()
        driver.start()
      },
      stop: async () => {
        await driver.stop()
        leaseRedis.disconnect()
        await watcher.stop()
        await logFile.close()
        await peers.close()
      }
    }
  }
})
