import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { chromium, type Browser, type Page } from 'playwright-core'
import { request } from 'undici'
import { startEchoCluster, type EchoCluster } from '../../scripts/lib/cluster.js'
import { waitFor } from '../../shared/testing/wait.js'
import { runLoad } from '../../shared/testing/load.js'
import { killAll } from '../../shared/testing/processes.js'
import { startRedis, type TestRedis } from '../../shared/testing/redis-server.js'
import { KvCluster } from './kv-leader-harness.js'

const chromiumPath = '/usr/bin/chromium'
let redis: TestRedis
let cluster: EchoCluster
let browser: Browser
let page: Page

beforeAll(async () => {
  redis = await startRedis()
  cluster = await startEchoCluster(redis.url, 'dashboard', 3)
  browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync']
  })
  page = await browser.newPage()
})

afterAll(async () => {
  await browser?.close()
  killAll()
  await redis?.stop()
})

const rowState = async (id: string): Promise<string | null> => {
  const row = page.locator(`tr[data-instance="${id}"]`)
  return await row.count() === 0 ? null : await row.locator('td').nth(1).innerText()
}

describe.runIf(existsSync(chromiumPath))('live dashboard in a browser', () => {
  it('shows every instance with its role and health, and traffic as it flows', async () => {
    await page.goto(cluster.gateway.url + '/')
    await expect.poll(async () => await page.locator('#status').innerText(), { timeout: 5_000 }).toMatch(/^live/)
    await expect.poll(async () => await page.locator('section[data-service="echo"] tbody tr').count(), { timeout: 5_000 }).toBe(3)
    for (const id of ['echo-1', 'echo-2', 'echo-3']) expect(await rowState(id)).toBe('healthy')
    await runLoad({ url: `${cluster.gateway.url}/api/echo/x`, durationMs: 1_000, concurrency: 4 })
    await expect.poll(async () => await page.locator('section[data-service="echo"] h2').innerText(), { timeout: 5_000 }).toMatch(/req\/s/)
  })

  it('shows a killed instance as unhealthy or gone within a few seconds, and the event in the timeline', async () => {
    cluster.echoes.get('echo-2')!.signal('SIGKILL')
    // keep traffic flowing so the gateway notices at once, as it would in use
    const load = runLoad({ url: `${cluster.gateway.url}/api/echo/x`, durationMs: 1_500, concurrency: 2 })
    await expect.poll(async () => await rowState('echo-2'), { timeout: 6_000 }).not.toBe('healthy')
    await load
    await expect.poll(async () => await page.locator('#events').innerText(), { timeout: 6_000 }).toMatch(/echo-2/)
    await page.screenshot({ path: 'reports/dashboard.png', fullPage: true }).catch(() => {})
  })

  it('serves the page and the stream through plain HTTP too', async () => {
    const res = await request(`${cluster.gateway.url}/`)
    expect(res.headers['content-type']).toMatch(/text\/html/)
    expect(await res.body.text()).toContain('EventSource')
    await waitFor(async () => (await request(`${cluster.gateway.url}/stats`)).statusCode === 200, 2_000, 'stats')
  })
})

describe.runIf(existsSync(chromiumPath))('live dashboard: a leader kill', () => {
  const kv = new KvCluster('dashboard-kv')
  let kvPage: Page

  beforeAll(async () => {
    await kv.start({ gateway: true })
    kvPage = await browser.newPage()
  })

  afterAll(async () => {
    await kvPage?.close()
    await kv.stop()
  })

  const leaderShown = async (): Promise<string | undefined> => {
    const rows = kvPage.locator('section[data-service="kv-leader"] tbody tr')
    for (let i = 0; i < await rows.count(); i++) {
      const row = rows.nth(i)
      if ((await row.locator('td').nth(0).innerText()).toLowerCase() === 'leader') return await row.getAttribute('data-instance') ?? undefined
    }
    return undefined
  }

  it('shows the role change when the leader is killed', async () => {
    await kvPage.goto(kv.gateway!.url + '/')
    await expect.poll(leaderShown, { timeout: 8_000 }).toBeDefined()
    const old = (await leaderShown())!
    kv.nodes.get(old)!.signal('SIGKILL')
    await expect.poll(async () => { const now = await leaderShown(); return now !== undefined && now !== old }, { timeout: 10_000 }).toBe(true)
    await expect.poll(async () => await kvPage.locator('#events').innerText(), { timeout: 5_000 }).toMatch(/leader-elected/)
  })
})
