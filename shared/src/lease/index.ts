export { LeaseKeeper, type LeaseKeeperOptions } from './lease-keeper.js'
export { RedisLease, leaseKeys, type LeaseKeys, type LeaseReply } from './redis-lease.js'
export { checkLeaseTimings, holdsLease, initialLeaseState, nextLeaseAction, reduceLease, type LeaseAction, type LeaseEvent, type LeaseState, type LeaseTimings } from './state.js'
