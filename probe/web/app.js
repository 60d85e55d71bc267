// The ipmanager page: the pool as a live table, fed by GET /api/events (text/event-stream).
// Plain JavaScript, no library: the binary serves this file as it is.
'use strict';

(() => {
  const STATE_ORDER = { available: 0, probation: 1, cooling: 2, banned: 3 };
  const TOKEN_KEY = 'ipmanager.api_token';
  const FEED_MAX = 100;
  const $ = (id) => document.getElementById(id);

  // --- the model ---------------------------------------------------------------------------
  const rows = new Map(); // id -> { data, traffic, tr, cells, shown }
  let order = []; // ids in the pool's order
  let actions = [];
  let tokenRequired = false;
  let threshold = 0;
  let sort = { key: null, dir: 1 };
  let needsLayout = true; // sort or filter must be applied again

  // Timings of this tab, for whoever wants to know how the page keeps up.
  const stats = { snapshotMs: 0, updates: 0, updateMsTotal: 0, updateMsMax: 0, longTasks: 0 };
  window.ipmanagerPage = { stats };
  if ('PerformanceObserver' in window &&
      (PerformanceObserver.supportedEntryTypes || []).includes('longtask')) {
    new PerformanceObserver((list) => { stats.longTasks += list.getEntries().length; })
      .observe({ entryTypes: ['longtask'] });
  }

  // --- formatting --------------------------------------------------------------------------
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');
  const duration = (s) => {
    if (!(s > 0)) return '0s';
    if (s < 120) return Math.round(s) + 's';
    if (s < 7200) return Math.round(s / 60) + 'm';
    return Math.round(s / 3600) + 'h';
  };
  const bytes = (n) => {
    const units = ['B', 'KB', 'MB', 'GB', 'TB'];
    let i = 0;
    while (n >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (i ? n.toFixed(1) : Math.round(n)) + ' ' + units[i];
  };
  const setText = (node, text) => { if (node.textContent !== text) node.textContent = text; };
  // IPv4 addresses sort by number, anything else as text.
  const ipKey = (id) => {
    const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(.*)$/.exec(id);
    return m ? m.slice(1, 5).map((p) => p.padStart(3, '0')).join('.') + m[5] : id;
  };

  // --- the table ---------------------------------------------------------------------------
  function newRow(id) {
    const tr = el('tr');
    const cells = {};
    for (const key of ['id', 'kind', 'port', 'state', 'reason', 'streak', 'backoff', 'open', 'mix',
      'sites']) {
      cells[key] = el(key === 'id' ? 'th' : 'td', key);
      tr.append(cells[key]);
    }
    cells.id.scope = 'row';
    for (const key of ['kind', 'port', 'reason', 'backoff', 'sites']) cells[key].classList.add('wide');
    cells.badge = el('span', 'badge');
    cells.until = el('small');
    cells.state.append(cells.badge, cells.until);
    cells.bar = el('span', 'mixbar');
    cells.parts = ['ok', 'c4', 'c5', 'other'].map((c) => cells.bar.appendChild(el('span', c)));
    cells.mix.append(cells.bar);
    const manage = el('button', 'manage', 'Manage');
    manage.type = 'button';
    manage.setAttribute('aria-label', 'Manage ' + id);
    manage.addEventListener('click', () => openActions(id));
    const act = el('td', 'act');
    act.append(manage);
    tr.append(act);
    return { data: { id }, traffic: null, tr, cells, shown: true };
  }

  function renderRow(r) {
    renderData(r);
    renderTraffic(r);
  }

  function renderData(r) {
    const d = r.data;
    const c = r.cells;
    setText(c.id, d.id);
    setText(c.kind, d.kind || '');
    setText(c.port, d.port ? String(d.port) : '');
    if (r.tr.dataset.state !== d.state) r.tr.dataset.state = d.state || '';
    setText(c.badge, (d.state || '') + (d.disabled ? ' · disabled' : ''));
    setText(c.until, d.until ? 'until ' + clock(d.until)
      : d.state === 'banned' ? 'until unbanned' : '');
    setText(c.reason, d.reason || '');
    c.reason.title = d.since ? d.decision + ' at ' + new Date(d.since).toLocaleString() : '';
    setText(c.backoff, d.backoff > 1 ? '×' + d.backoff + ' · ' + duration(d.backoff_seconds)
      : duration(d.backoff_seconds));
    const sites = d.sites || [];
    setText(c.sites, sites.map((s) => (s.state === 'probation' ? s.site + ' (probation)' : s.site))
      .join(', '));
    c.sites.title = sites.map((s) => s.site + ': ' + s.state + (s.until ? ' until ' + clock(s.until)
      : s.state === 'banned' ? ' until unbanned' : '') + (s.reason ? ' — ' + s.reason : ''))
      .join('\n');
  }

  // The numbers that move every tick: only these are touched then (dates and titles are
  // costly to format for a thousand rows a second).
  function renderTraffic(r) {
    const c = r.cells;
    const t = r.traffic;
    if (!t) return;
    setText(c.open, String(t.open));
    setText(c.streak, threshold ? t.streak + '/' + threshold : String(t.streak));
    c.streak.title = t.failures + ' failure statuses, ' + t.dial_failures + ' dial failures';
    const total = t.mix.reduce((a, b) => a + b, 0);
    t.mix.forEach((n, i) => {
      const grow = String(n);
      if (c.parts[i].style.flexGrow !== grow) c.parts[i].style.flexGrow = grow;
    });
    c.bar.classList.toggle('empty', total === 0);
    c.bar.title = total === 0 ? 'no responses yet'
      : `2xx/3xx ${t.mix[0]} · 4xx ${t.mix[1]} · 5xx ${t.mix[2]} · other ${t.mix[3]}`;
  }

  const filterText = $('filter-text');
  const stateBoxes = [...document.querySelectorAll('#filter-states input')];

  function visible(r, states, q) {
    if (r.data.state && !states.has(r.data.state)) return false;
    if (!q) return true;
    const d = r.data;
    return [d.id, d.kind, d.state, d.reason, String(d.port)].concat((d.sites || []).map((s) => s.site))
      .some((v) => String(v ?? '').toLowerCase().includes(q));
  }

  function sortValue(r, key) {
    const d = r.data;
    const t = r.traffic || { open: 0, streak: 0, mix: [0, 0, 0, 0] };
    switch (key) {
      case 'id': return ipKey(d.id);
      case 'state': return STATE_ORDER[d.state] ?? 9;
      case 'port': return d.port || 0;
      case 'backoff': return d.backoff_seconds || 0;
      case 'open': return t.open;
      case 'streak': return t.streak;
      case 'mix': { // share of 5xx and other: the worst first when descending
        const total = t.mix.reduce((a, b) => a + b, 0);
        return total ? (t.mix[2] + t.mix[3]) / total : -1;
      }
      case 'sites': return (d.sites || []).length;
      default: return String(d[key] ?? '');
    }
  }

  const tbody = document.querySelector('#pool tbody');
  let laidOut = [];

  function layout() {
    let ids = order;
    if (sort.key) {
      const key = sort.key;
      const vals = new Map(order.map((id) => [id, sortValue(rows.get(id), key)]));
      ids = order.slice().sort((a, b) => {
        const x = vals.get(a);
        const y = vals.get(b);
        return (x < y ? -1 : x > y ? 1 : 0) * sort.dir;
      });
    }
    const states = new Set(stateBoxes.filter((b) => b.checked).map((b) => b.value));
    const q = filterText.value.trim().toLowerCase();
    let shown = 0;
    for (const id of ids) {
      const r = rows.get(id);
      r.shown = visible(r, states, q);
      if (r.tr.hidden === r.shown) r.tr.hidden = !r.shown;
      if (r.shown) shown++;
    }
    if (ids.length !== laidOut.length || ids.some((id, i) => id !== laidOut[i])) {
      tbody.append(...ids.map((id) => rows.get(id).tr));
      laidOut = ids;
    }
    $('shown').value = shown === ids.length ? `${ids.length} egresses`
      : `${shown} of ${ids.length} shown`;
    needsLayout = false;
  }

  for (const th of document.querySelectorAll('#pool th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      const key = th.dataset.key;
      sort = sort.key === key ? { key, dir: -sort.dir } : { key, dir: 1 };
      for (const other of document.querySelectorAll('#pool th[data-key]')) other.removeAttribute('aria-sort');
      th.setAttribute('aria-sort', sort.dir > 0 ? 'ascending' : 'descending');
      layout();
    });
  }
  filterText.addEventListener('input', layout);
  for (const b of stateBoxes) b.addEventListener('change', layout);
  $('filters').addEventListener('submit', (e) => e.preventDefault());

  // --- the header and the feed ---------------------------------------------------------------
  function renderPool(p) {
    if (!p) return;
    setText($('open'), String(p.open ?? 0));
    setText($('cps'), (p.connections_per_second ?? 0).toFixed(1));
    setText($('bps'), bytes(p.bytes_per_second ?? 0));
    $('alarm').hidden = !p.all_unavailable;
    threshold = p.consecutive_failure || threshold;
  }

  // Counts from the rows themselves, so the header never disagrees with the table between
  // two ticks.
  function renderCounts() {
    const counts = { available: 0, probation: 0, cooling: 0, banned: 0 };
    for (const r of rows.values()) if (r.data.state in counts) counts[r.data.state]++;
    for (const s of Object.keys(counts)) setText($('n-' + s), String(counts[s]));
  }

  const feed = $('feed');
  function addDecision(d, atEnd) {
    const li = el('li', d.kind);
    const time = el('time', null, clock(d.time));
    time.dateTime = d.time;
    li.append(time, ' ', el('strong', null, d.ip || 'pool'), ' ', el('span', 'kind', d.kind),
      ' ', el('span', 'move', d.from === d.to ? d.to : d.from + ' → ' + d.to), ' ',
      el('span', 'why', d.reason));
    if (atEnd) feed.append(li); else feed.prepend(li);
    while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
  }

  // --- events ------------------------------------------------------------------------------
  function upsert(data) {
    let r = rows.get(data.id);
    if (!r) {
      r = newRow(data.id);
      rows.set(data.id, r);
      order.push(data.id);
    }
    r.data = data;
    return r;
  }

  function applyTraffic(t, dirty) {
    const r = rows.get(t[0]);
    if (!r) return;
    r.traffic = { open: t[1], streak: t[2], mix: t[3], failures: t[4], dial_failures: t[5] };
    dirty.add(r);
  }

  function onSnapshot(s) {
    const start = performance.now();
    rows.clear();
    order = [];
    laidOut = [];
    tbody.replaceChildren();
    feed.replaceChildren();
    actions = s.actions || [];
    tokenRequired = !!s.token_required;
    renderPool(s.pool);
    for (const data of s.ips) upsert(data);
    const dirty = new Set();
    for (const t of s.traffic) applyTraffic(t, dirty);
    const frag = document.createDocumentFragment();
    for (const id of order) {
      const r = rows.get(id);
      renderRow(r);
      frag.append(r.tr);
    }
    tbody.append(frag);
    laidOut = order.slice();
    for (const d of s.decisions.slice().reverse()) addDecision(d, true);
    layout();
    renderCounts();
    stats.snapshotMs = performance.now() - start;
  }

  // Applies one batch of events (what one read of the stream brought), then renders once.
  function onEvents(batch) {
    const start = performance.now();
    const dirty = new Set();
    let changedLayout = false;
    const changed = new Set();
    for (const { event, data } of batch) {
      if (event === 'snapshot') { onSnapshot(data); continue; }
      if (event === 'ip') {
        const isNew = !rows.has(data.id);
        changed.add(upsert(data));
        changedLayout = true;
        if (isNew) needsLayout = true;
      } else if (event === 'ip_removed') {
        const r = rows.get(data.id);
        if (r) { r.tr.remove(); rows.delete(data.id); order = order.filter((id) => id !== data.id); }
        laidOut = [];
        needsLayout = true;
      } else if (event === 'tick') {
        renderPool(data.pool);
        for (const t of data.traffic) applyTraffic(t, dirty);
        if (['open', 'streak', 'mix'].includes(sort.key)) changedLayout = true;
      } else if (event === 'decision') {
        addDecision(data, false);
      }
    }
    for (const r of changed) renderData(r);
    for (const r of dirty) renderTraffic(r);
    if (needsLayout || changedLayout) {
      layout();
      renderCounts();
    }
    if (acting && actDialog.open) setText($('act-state'), describe(acting));
    if (batch.length && !(batch.length === 1 && batch[0].event === 'snapshot')) {
      const ms = performance.now() - start;
      stats.updates++;
      stats.updateMsTotal += ms;
      stats.updateMsMax = Math.max(stats.updateMsMax, ms);
    }
  }

  // --- the stream --------------------------------------------------------------------------
  // fetch() rather than EventSource: it can send the token (when reads need it) and its
  // reconnection is ours, with Last-Event-ID so that nothing is missed.
  let lastEventId = '';
  let retryMs = 2000;
  const status = $('status');

  function parser(onBatch) {
    let buf = '';
    let ev = { data: [] };
    return (chunk) => {
      buf += chunk;
      const lines = buf.split(/\r\n|\r|\n/);
      buf = lines.pop();
      const batch = [];
      for (const line of lines) {
        if (line === '') {
          if (ev.id !== undefined) lastEventId = ev.id;
          if (ev.data.length) {
            try {
              batch.push({ event: ev.event || 'message', data: JSON.parse(ev.data.join('\n')) });
            } catch (e) {
              status.textContent = 'bad event from the server: ' + e.message;
            }
          }
          ev = { data: [] };
          continue;
        }
        if (line[0] === ':') continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value[0] === ' ') value = value.slice(1);
        if (field === 'data') ev.data.push(value);
        else if (field === 'event') ev.event = value;
        else if (field === 'id') ev.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
      if (batch.length) onBatch(batch);
    };
  }

  async function follow() {
    const headers = { Accept: 'text/event-stream' };
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    let wait = retryMs;
    try {
      const res = await fetch('/api/events', { headers, cache: 'no-store' });
      if (res.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        status.textContent = 'this ipmanager needs its API token to show the pool';
        if (await askToken()) wait = 0;
      } else if (!res.ok) {
        const body = await res.json().catch(() => ({}));
        status.textContent = `live updates refused (${res.status}): ${body.error || res.statusText}`;
        wait = Math.max(retryMs, 5000);
      } else {
        status.textContent = 'live';
        status.className = 'live';
        const feedText = parser(onEvents);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          feedText(value);
        }
        status.textContent = 'the stream ended; reconnecting…';
      }
    } catch (e) {
      status.textContent = 'disconnected; reconnecting…';
    }
    status.className = '';
    setTimeout(follow, wait);
  }

  // --- controls ----------------------------------------------------------------------------
  const tokenDialog = $('token');
  function askToken() {
    return new Promise((resolve) => {
      const input = $('token-input');
      input.value = '';
      const done = (token) => {
        $('token-form').onsubmit = null;
        $('token-cancel').onclick = null;
        tokenDialog.onclose = null;
        if (tokenDialog.open) tokenDialog.close();
        if (token) sessionStorage.setItem(TOKEN_KEY, token);
        resolve(token || null);
      };
      $('token-form').onsubmit = (e) => { e.preventDefault(); done(input.value.trim()); };
      $('token-cancel').onclick = () => done(null);
      tokenDialog.onclose = () => done(null);
      tokenDialog.showModal();
      input.focus();
    });
  }

  const actDialog = $('act');
  let acting = null; // the egress id the dialog is for

  function describe(id) {
    const r = rows.get(id);
    if (!r) return 'no longer in the pool';
    const d = r.data;
    return d.state + (d.disabled ? ', disabled' : '') + (d.until ? ' until ' + clock(d.until) : '') +
      (d.reason ? ' — ' + d.reason : '');
  }

  function openActions(id) {
    acting = id;
    setText($('act-title'), id);
    setText($('act-state'), describe(id));
    setText($('act-error'), '');
    const box = $('act-actions');
    box.replaceChildren();
    for (const a of actions) {
      const group = el('fieldset', 'action');
      group.append(el('legend', null, a.label));
      for (const f of a.fields || []) {
        const label = el('label', null, f.label + ' ');
        const input = el('input');
        input.name = f.name;
        input.dataset.action = a.name;
        input.placeholder = f.placeholder || '';
        input.autocomplete = 'off';
        label.append(input);
        group.append(label);
      }
      const button = el('button', null, a.label);
      button.type = 'button';
      button.dataset.action = a.name;
      button.addEventListener('click', () => run(a, group, button));
      group.append(button);
      box.append(group);
    }
    actDialog.showModal();
    const first = box.querySelector('input, button');
    if (first) first.focus();
  }

  async function run(action, group, button) {
    const id = acting;
    const params = new URLSearchParams();
    for (const input of group.querySelectorAll('input')) {
      if (input.value.trim()) params.set(input.name, input.value.trim());
    }
    const query = params.toString();
    const url = action.path.replace('{id}', encodeURIComponent(id)) + (query ? '?' + query : '');
    let token = sessionStorage.getItem(TOKEN_KEY);
    if (tokenRequired && !token) token = await askToken();
    const headers = token ? { Authorization: 'Bearer ' + token } : {};
    button.disabled = true;
    setText($('act-error'), '');
    try {
      const res = await fetch(url, { method: 'POST', headers, cache: 'no-store' });
      if (res.ok) {
        actDialog.close();
        status.textContent = `${action.label.toLowerCase()} ${id}: done`;
        return;
      }
      const body = await res.json().catch(() => ({}));
      if (res.status === 401) {
        sessionStorage.removeItem(TOKEN_KEY);
        tokenRequired = true;
      }
      setText($('act-error'), `${action.label} refused (${res.status}): ${body.error || res.statusText}`);
    } catch (e) {
      setText($('act-error'), `${action.label} failed: ${e.message}`);
    } finally {
      button.disabled = false;
    }
  }

  $('act-close').addEventListener('click', () => actDialog.close());
  $('act-form').addEventListener('submit', (e) => e.preventDefault());
  actDialog.addEventListener('close', () => { acting = null; });

  follow();
})();
