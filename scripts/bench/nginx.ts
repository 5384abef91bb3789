import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort } from '../../shared/testing/ports.js'

/** Where nginx is: NGINX, Debian's /usr/sbin/nginx, or the PATH; undefined when absent. */
export function findNginx (): string | undefined {
  const candidates = [process.env.NGINX, '/usr/sbin/nginx', 'nginx'].filter((c): c is string => c !== undefined && c !== '')
  return candidates.find((c) => (c.includes('/') ? existsSync(c) : true) && spawnSync(c, ['-v'], { stdio: 'ignore' }).status === 0)
}

export interface Nginx {
  url: string
  /** The worker's pid: where the proxying CPU goes. */
  workerPid: () => number | undefined
  stop: () => Promise<void>
}

/**
 * nginx as the reference reverse proxy: one worker, keep-alive to the upstream (the usual
 * production setup: `keepalive` in the upstream block, HTTP/1.1 and an empty Connection header),
 * no access log, proxying `/api/echo/*` to the echo instance as the gateway does.
 */
export async function startNginx (binary: string, dir: string, upstreamUrl: string): Promise<Nginx> {
  mkdirSync(dir, { recursive: true })
  const port = await freePort()
  const upstream = new URL(upstreamUrl)
  const conf = join(dir, 'nginx.conf')
  writeFileSync(conf, `
worker_processes 1;
daemon off;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${join(dir, 'client_body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  upstream echo {
    server ${upstream.hostname}:${upstream.port};
    keepalive 128;
  }
  server {
    listen 127.0.0.1:${port};
    location /api/echo/ {
      proxy_pass http://echo/;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`)
  const master: ChildProcess = spawn(binary, ['-p', dir, '-c', conf, '-e', join(dir, 'error.log')], { stdio: 'ignore' })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (master.exitCode !== null) throw new Error(`nginx exited (${String(master.exitCode)}): ${safeRead(join(dir, 'error.log'))}`)
    try {
      const res = await fetch(`${url}/api/echo/ready`)
      await res.arrayBuffer()
      if (res.ok) break
    } catch {}
    if (i > 100) throw new Error('nginx did not answer')
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return {
    url,
    workerPid: () => {
      const out = spawnSync('pgrep', ['-P', String(master.pid)], { encoding: 'utf8' }).stdout.trim().split('\n')[0]
      return out === undefined || out === '' ? undefined : Number(out)
    },
    stop: async () => {
      if (master.exitCode !== null) return
      const exited = new Promise((resolve) => master.once('exit', resolve))
      master.kill('SIGQUIT') // graceful: the worker finishes and exits with the master
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))])
      if (master.exitCode === null) master.kill('SIGKILL')
    }
  }
}

function safeRead (path: string): string {
  try { return readFileSync(path, 'utf8').slice(-500) } catch { return '' }
}
