/**
 * The dashboard page: plain HTML, CSS and a little script fed by /dashboard/stream. State is
 * written as text (never only as a colour) so it reads in any browser and to a screen reader.
 */
export const dashboardPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nines — live cluster</title>
<style>
  :root { font-family: system-ui, sans-serif; color: #1d1d1f; background: #fafafa; }
  body { margin: 1.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
  #status { margin: 0 0 1rem; color: #555; }
  .layout { display: grid; grid-template-columns: minmax(0, 3fr) minmax(16rem, 1fr); gap: 1.5rem; }
  section.service { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin-bottom: 1rem; padding: .5rem .75rem; }
  section.service h2 { font-size: 1.05rem; margin: .25rem 0 .5rem; display: flex; gap: 1rem; flex-wrap: wrap; align-items: baseline; }
  section.service h2 .figures { font-weight: normal; font-size: .9rem; color: #444; }
  table { border-collapse: collapse; width: 100%; font-size: .88rem; }
  th, td { text-align: left; padding: .2rem .5rem; border-bottom: 1px solid #eee; white-space: nowrap; }
  td.meta { white-space: normal; color: #555; font-size: .8rem; }
  .state { font-weight: 600; padding: 0 .35rem; border-radius: 3px; }
  .state.ok { background: #dff5e1; color: #14532d; }
  .state.bad { background: #fde2e1; color: #7f1d1d; }
  .state.warn { background: #fef3c7; color: #78350f; }
  .role { font-variant: small-caps; }
  #events { list-style: none; padding: 0; margin: 0; font-size: .85rem; max-height: 80vh; overflow-y: auto; }
  #events li { border-bottom: 1px solid #eee; padding: .25rem 0; }
  #events time { color: #666; margin-right: .4rem; font-variant-numeric: tabular-nums; }
  .num { text-align: right; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<h1>nines — live cluster</h1>
<p id="status" role="status">connecting…</p>
<div class="layout">
  <main id="services" aria-label="services and instances"></main>
  <aside aria-labelledby="events-title">
    <h2 id="events-title" style="font-size:1.05rem">Events (newest first)</h2>
    <ol id="events" aria-live="polite"></ol>
  </aside>
</div>
<script>
const servicesEl = document.getElementById('services')
const eventsEl = document.getElementById('events')
const statusEl = document.getElementById('status')
const fmt = (n, digits = 1) => n === undefined || n === null ? '–' : Number(n).toFixed(digits)
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c])
function state (i) {
  if (i.checks === 'failing') return '<span class="state bad">UNHEALTHY</span>'
  if (i.ejected) return '<span class="state warn">ejected</span>'
  return '<span class="state ok">healthy</span>'
}
function meta (m) {
  return m ? Object.entries(m).map(([k, v]) => esc(k) + '=' + esc(v)).join(' · ') : ''
}
function render (data) {
  const html = Object.entries(data.services).sort(([a], [b]) => a.localeCompare(b)).map(([name, s]) => {
    const t = s.traffic
    const all = s.total === 0 ? '<span class="state bad">NO INSTANCE</span>' : s.healthy === s.total ? '<span class="state ok">all healthy</span>' : '<span class="state ' + (s.healthy === 0 ? 'bad' : 'warn') + '">' + s.healthy + ' of ' + s.total + ' healthy</span>'
    const rows = s.instances.map((i) => '<tr data-instance="' + esc(i.id) + '"><th scope="row">' + esc(i.id) + '</th><td class="role">' + esc(i.role) + '</td><td>' + state(i) +
      '</td><td class="num">' + i.inflight + '</td><td class="num">' + fmt(i.traffic && i.traffic.rps, 0) + '</td><td class="num">' + fmt(i.traffic && i.traffic.p99Ms, 1) +
      '</td><td class="num">' + fmt(i.ewmaMs, 1) + '</td><td class="meta">' + meta(i.meta) + '</td></tr>').join('')
    return '<section class="service" data-service="' + esc(name) + '"><h2>' + esc(name) + ' ' + all + '<span class="figures">' +
      (t ? fmt(t.rps, 0) + ' req/s · p99 ' + fmt(t.p99Ms) + ' ms · errors ' + fmt(t.errorRate * 100, 2) + ' %' : 'no traffic yet') + '</span></h2>' +
      '<table><thead><tr><th scope="col">instance</th><th scope="col">role</th><th scope="col">state</th><th scope="col" class="num">in flight</th><th scope="col" class="num">req/s</th><th scope="col" class="num">p99 ms</th><th scope="col" class="num">ewma ms</th><th scope="col">details</th></tr></thead><tbody>' +
      rows + '</tbody></table></section>'
  }).join('')
  servicesEl.innerHTML = html
  if (data.reset) eventsEl.innerHTML = ''
  for (const e of data.events) {
    const li = document.createElement('li')
    li.dataset.type = e.type
    li.innerHTML = '<time datetime="' + new Date(e.at).toISOString() + '">' + new Date(e.at).toLocaleTimeString() + '</time><strong>' + esc(e.type) + '</strong> ' + esc(e.message) + ' <small>(' + esc(e.source) + ')</small>'
    eventsEl.prepend(li)
  }
  while (eventsEl.children.length > 300) eventsEl.lastChild.remove()
  statusEl.textContent = 'live · updated ' + new Date(data.at).toLocaleTimeString()
}
const source = new EventSource('/dashboard/stream')
source.addEventListener('cluster', (e) => render(JSON.parse(e.data)))
source.onerror = () => { statusEl.textContent = 'disconnected from the gateway; retrying…' }
</script>
</body>
</html>
`
