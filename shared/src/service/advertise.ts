import { networkInterfaces } from 'node:os'

/**
 * The URL other processes use to reach this one: the bound port on ADVERTISE_HOST, or, when
 * listening on every interface (containers), the first non-internal IPv4 address.
 */
export function advertisedUrl (bindHost: string, port: number, advertiseHost = ''): string {
  let host = advertiseHost
  if (host === '' || host === 'auto') {
    host = bindHost === '0.0.0.0' || bindHost === '::' ? firstExternalAddress() : bindHost
  }
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}

function firstExternalAddress (): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const addr of addrs ?? []) if (addr.family === 'IPv4' && !addr.internal) return addr.address
  }
  return '127.0.0.1'
}
