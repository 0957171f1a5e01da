// hookgate operator page. Request bodies, headers and delivery answers shown
// here come from untrusted senders, so every datum becomes a text node:
// el() and DOM methods build the markup, nothing parses a string as HTML.
// The admin token lives in this tab's sessionStorage and travels only in
// the Authorization header.
'use strict';

(() => {
  const TOKEN_KEY = 'hookgate.admin.token';
  const REFRESH_MS = 5000;
  const RATES_MS = 30000;
  const PAGE_SIZES = [10, 50, 100, 500];
  // A task id (ce-id) is <request id>-<incoming>-<item index> (SPEC §7).
  const TASK_ID = /^[0-9a-fA-F-]{36}-[a-z0-9_-]+-[0-9]{1,9}$/;

  const $ = (id) => document.getElementById(id);

  const state = {
    view: 'webhooks',
    webhook: '', // the identifier the requests view shows
    route: '', // the deliveries and dead-letters filters
    status: '',
    find: '', // the id the lookup view shows
    limit: 50, // entries a page of a listing
    before: 0, // the cursor of the page shown; 0: the newest
    newer: [], // the cursors of the pages before it, to go back up
    rates: null, // {at, body}: the last rates answer, for the small charts
    open: new Set(), // detail rows the operator opened, kept across refreshes
    routeNames: [],
    seq: 0, // the newest refresh; older answers are dropped
    timer: 0,
    needToken: false,
    content: null, // the part of the view a refresh replaces
  };

  // ---- building nodes, text only

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') n.className = v;
      else if (k.startsWith('on')) n.addEventListener(k.slice(2), v);
      else n.setAttribute(k, v === true ? '' : String(v));
    }
    add(n, children);
    return n;
  }

  function add(n, c) {
    if (c === undefined || c === null || c === false) return;
    if (Array.isArray(c)) {
      for (const x of c) add(n, x);
      return;
    }
    n.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }

  // hashLink is an in-page link; its target is built from encoded parts only.
  function hashLink(parts, label) {
    return el('a', {href: '#' + parts.map((p) => encodeURIComponent(p)).join('/')}, label);
  }

  function button(label, onclick, cls, attrs) {
    return el('button', {type: 'button', class: cls || 'small', onclick: guard(onclick), ...(attrs || {})}, label);
  }

  function pad(n) {
    return String(n).padStart(2, '0');
  }

  function when(t) {
    const d = new Date(t);
    if (t === undefined || t === null || Number.isNaN(d.getTime())) return el('span', {}, String(t ?? ''));
    const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return el('span', {title: d.toISOString()}, s);
  }

  function statusCell(code) {
    const n = Number(code) || 0;
    return el('td', {class: 'num status-' + String(n).charAt(0)}, n ? String(n) : '—');
  }

  function ms(v) {
    return typeof v === 'number' ? v.toFixed(1) : '';
  }

  // pretty indents JSON and leaves anything else as it came.
  function pretty(v) {
    if (typeof v !== 'string') return JSON.stringify(v, null, 2);
    try {
      return JSON.stringify(JSON.parse(v), null, 2);
    } catch (_) {
      return v;
    }
  }

  function kv(rows) {
    return el('table', {class: 'kv'}, el('tbody', {}, rows.map(([k, v]) =>
      el('tr', {}, el('th', {}, k), el('td', {class: 'mono'}, v)))));
  }

  function empty(text) {
    return el('p', {class: 'empty'}, text);
  }

  // ---- the API

  class Unauthorized extends Error {}

  function token() {
    try {
      return sessionStorage.getItem(TOKEN_KEY) || '';
    } catch (_) {
      return '';
    }
  }

  async function api(method, path) {
    const headers = {Accept: 'application/json'};
    const t = token();
    if (t) headers.Authorization = 'Bearer ' + t;
    const resp = await fetch(path, {
      method, headers, cache: 'no-store', credentials: 'omit', redirect: 'error', referrerPolicy: 'no-referrer',
    });
    const text = await resp.text();
    let body = text;
    try {
      body = JSON.parse(text);
    } catch (_) {
      // not JSON: kept as text
    }
    const r = {status: resp.status, ok: resp.ok, body};
    if (resp.status === 401) {
      // A refusal of a token the operator has replaced since (a call still
      // in flight when they typed the new one) says nothing about the new
      // one: ask again with it rather than forget it.
      const now = token();
      if (now && now !== t) return api(method, path);
      askToken(t ? `The token was refused (${errorText(r)}). Enter it again.` : 'This admin API needs its token (admin.token).');
      throw new Unauthorized();
    }
    return r;
  }

  function errorText(r) {
    if (r.body && typeof r.body === 'object' && typeof r.body.error === 'string') return r.body.error;
    const raw = typeof r.body === 'string' ? r.body.slice(0, 300) : '';
    return `HTTP ${r.status}${raw ? ': ' + raw : ''}`;
  }

  function failure(r) {
    return el('p', {class: 'empty'}, el('span', {class: 'status-5'}, `HTTP ${r.status}: ${errorText(r)}`));
  }

  // guard runs an action and reports what went wrong; a 401 has already
  // asked for the token.
  function guard(fn) {
    return async (...args) => {
      try {
        await fn(...args);
      } catch (e) {
        if (!(e instanceof Unauthorized)) notice('error', `Failed: ${e && e.message ? e.message : e}`);
      }
    };
  }

  // ---- token

  function askToken(why) {
    try {
      sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      // storage unavailable: nothing kept
    }
    state.needToken = true;
    clearTimeout(state.timer);
    $('login-why').textContent = why;
    $('login').hidden = false;
    $('forget').hidden = true;
    $('token').focus();
  }

  function useToken(ev) {
    ev.preventDefault();
    const input = $('token');
    const t = input.value.trim();
    input.value = '';
    if (!t) return;
    try {
      sessionStorage.setItem(TOKEN_KEY, t);
    } catch (_) {
      notice('error', 'This browser refuses session storage; the page cannot keep the token.');
      return;
    }
    state.needToken = false;
    $('login').hidden = true;
    $('forget').hidden = false;
    refresh();
  }

  // ---- notices: answers to the operator's actions, until closed

  function notice(kind, title, ...extra) {
    const n = $('notice');
    n.replaceChildren(
      el('button', {type: 'button', class: 'small close', onclick: () => { n.hidden = true; }}, 'Close'),
      el('strong', {}, title), ...extra);
    n.className = kind;
    n.hidden = false;
  }

  // ---- table with detail rows

  function dataTable(columns, items, key, cells, detail) {
    const tbody = el('tbody');
    for (const it of items) {
      const k = key(it);
      const tr = el('tr', {class: 'clickable', tabindex: 0, title: 'Click for details'}, cells(it));
      tbody.append(tr);
      let open = null;
      const show = () => {
        open = el('tr', {class: 'detail'}, el('td', {colspan: columns.length}, detail(it)));
        tr.after(open);
      };
      const toggle = (ev) => {
        if (ev.target.closest('button, a') || String(window.getSelection()).length > 0) return;
        if (open) {
          open.remove();
          open = null;
          state.open.delete(k);
        } else {
          state.open.add(k);
          show();
        }
      };
      tr.addEventListener('click', toggle);
      tr.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' && ev.target === tr) toggle(ev);
      });
      if (state.open.has(k)) show();
    }
    return el('table', {},
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', {class: c.endsWith(' ') ? 'num' : null}, c.trim())))),
      tbody);
  }

  function headersTable(h) {
    const rows = Object.keys(h || {}).sort().map((name) => {
      const v = h[name];
      return [name, Array.isArray(v) ? v.join('\n') : String(v)];
    });
    return rows.length ? kv(rows) : empty('No headers.');
  }

  function bodyBlock(body, truncated, why) {
    return [
      el('h3', {}, 'Body', truncated ? el('span', {class: 'muted'}, ` (truncated: ${why})`) : null),
      body ? el('pre', {}, pretty(body)) : empty('Empty body.'),
    ];
  }

  // ---- paging back through a newest-first listing (before/next_before)

  function pageSize() {
    return el('label', {}, 'Page size ',
      el('select', {id: 'page-size', onchange: (ev) => {
        state.limit = Number(ev.target.value) || 50;
        state.before = 0;
        state.newer = [];
        refresh();
      }}, PAGE_SIZES.map((n) => el('option', {value: n, selected: state.limit === n}, String(n)))));
  }

  // before is the ?before= of the page shown: empty for the newest.
  function before() {
    return state.before ? String(state.before) : '';
  }

  // pager is the row under a listing: where it stands and the way to the
  // newer and older pages. next is the answer's next_before (absent on the
  // last page).
  function pager(count, next) {
    const go = (before, newer) => () => {
      state.before = before;
      state.newer = newer;
      state.open.clear();
      refresh();
    };
    const page = state.newer.length + 1;
    return el('div', {class: 'pager'},
      button('Newest', go(0, []), 'small', {id: 'newest', disabled: page === 1}),
      button('← Newer', go(state.newer[state.newer.length - 1] || 0, state.newer.slice(0, -1)), 'small',
        {id: 'newer', disabled: page === 1}),
      el('span', {id: 'page-number', class: 'muted'}, `Page ${page} · ${count} entr${count === 1 ? 'y' : 'ies'}` +
        (next ? '' : ' · the oldest kept')),
      button('Older →', go(next || 0, [...state.newer, state.before]), 'small', {id: 'older', disabled: !next}));
  }

  // listing is a page of entries with its pager, or what says it is empty.
  function listing(table, count, next, none) {
    if (!count) return el('div', {}, empty(state.before ? 'No older entries.' : none), state.before ? pager(0, 0) : null);
    return el('div', {}, table, pager(count, next));
  }

  // ---- charts: inline SVG bars, one a minute

  const SVG_NS = 'http://www.w3.org/2000/svg';

  function svg(tag, attrs, ...children) {
    const n = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    add(n, children);
    return n;
  }

  // chart draws counts (one a step from `from`, oldest first) as bars
  // scaled to the largest; every bar says its minute and count on hover.
  function chart(counts, from, stepSeconds, label, width, height) {
    const w = width || 240;
    const h = height || 36;
    const n = counts.length || 1;
    const top = Math.max(1, ...counts);
    const bw = w / n;
    const root = svg('svg', {class: 'chart', width: w, height: h, viewBox: `0 0 ${w} ${h}`, role: 'img',
      'aria-label': `${label}: ${counts.reduce((a, b) => a + b, 0)} in the last ${Math.round(n * stepSeconds / 60)} min, at most ${Math.max(0, ...counts)} a minute`});
    root.append(svg('line', {class: 'axis', x1: 0, y1: h - 0.5, x2: w, y2: h - 0.5}));
    const start = new Date(from).getTime();
    counts.forEach((c, i) => {
      if (!c) return;
      const bh = Math.max(2, Math.round((c / top) * (h - 3)));
      const at = new Date(start + i * stepSeconds * 1000);
      root.append(svg('rect', {class: 'bar', x: (i * bw + 0.5).toFixed(2), y: h - bh, width: Math.max(1, bw - 1).toFixed(2), height: bh,
        'data-count': c, 'data-minute': at.toISOString()},
      svg('title', {}, `${pad(at.getHours())}:${pad(at.getMinutes())} · ${c}`)));
    });
    return root;
  }

  // rates reads the rates for the small charts of the webhooks and routes
  // views; null when it cannot (the view then shows no charts rather than
  // failing). Counting reads an hour of the log, and the buckets are
  // minutes, so an answer serves those views' refreshes for RATES_MS; the
  // rates view itself always reads afresh.
  async function rates() {
    if (state.rates && Date.now() - state.rates.at < RATES_MS) return state.rates.body;
    const r = await readRates();
    return r.ok ? r.body : null;
  }

  // readRates asks for the rates and keeps a good answer for rates().
  async function readRates() {
    const r = await api('GET', '/api/v1/rates');
    state.rates = r.ok ? {at: Date.now(), body: r.body} : null;
    return r;
  }

  function rateCell(rt, series, label) {
    if (!rt || !series) return el('td', {class: 'muted'}, '—');
    return el('td', {class: 'rate'}, chart(series, rt.from, rt.step_seconds, label, 180, 28),
      el('span', {class: 'muted total'}, String(series.reduce((a, b) => a + b, 0))));
  }

  // ---- views: a toolbar built once, and content that refresh() rebuilds

  const views = {
    webhooks: {
      toolbar: () => el('h2', {}, 'Webhooks'),
      async load() {
        const [r, rt] = await Promise.all([api('GET', '/api/v1/webhooks'), rates()]);
        if (!r.ok) return failure(r);
        const hooks = r.body.webhooks || [];
        if (!hooks.length) return empty('No webhooks are configured.');
        const series = new Map(((rt && rt.webhooks) || []).map((x) => [x.identifier, x]));
        return el('table', {},
          el('thead', {}, el('tr', {}, ['Identifier', 'Name', 'Incoming', 'Methods', 'Validators', 'Disabled', 'Requests a minute, last hour', ''].map((c) => el('th', {}, c)))),
          el('tbody', {}, hooks.map((w) => el('tr', {'data-webhook': w.identifier},
            el('td', {class: 'mono'}, hashLink(['requests', w.identifier], w.identifier)),
            el('td', {}, w.name),
            el('td', {}, [w.incoming, ...(w.additional_incoming || [])].join(', ')),
            el('td', {}, (w.methods || []).join(', ')),
            el('td', {}, (w.validators || []).length ? w.validators.map((v) =>
              el('span', {class: 'tag'}, v.preset ? `${v.kind}: ${v.preset}` : v.kind)) : el('span', {class: 'muted'}, 'none')),
            el('td', {}, w.disabled ? el('span', {class: 'tag off'}, 'disabled') : 'no'),
            series.has(w.identifier) && !series.get(w.identifier).logging
              ? el('td', {class: 'muted', title: 'requests are counted from the request log'}, 'not logged')
              : rateCell(rt, series.has(w.identifier) ? series.get(w.identifier).requests : null, `requests to ${w.identifier}`),
            el('td', {}, hashLink(['requests', w.identifier], 'Requests'))))));
      },
    },

    requests: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Requests to ', el('span', {class: 'mono'}, state.webhook)),
        hashLink(['webhooks'], '← Webhooks'),
        pageSize(),
        el('span', {class: 'muted'}, 'Newest first; a webhook logs its requests when it has logging: true.')),
      async load() {
        const r = await api('GET', `/api/v1/webhooks/${encodeURIComponent(state.webhook)}/requests?limit=${encodeURIComponent(state.limit)}&before=${encodeURIComponent(before())}`);
        if (!r.ok) return failure(r);
        const reqs = r.body.requests || [];
        return listing(dataTable(['Time', 'Status ', 'Tasks ', 'Error', 'Duration ms ', 'Request id', ''], reqs,
          (q) => 'req:' + q.request_id,
          (q) => [
            el('td', {}, when(q.time)),
            statusCell(q.status),
            el('td', {class: 'num'}, String(q.tasks ?? '')),
            el('td', {class: 'error'}, q.error || ''),
            el('td', {class: 'num'}, ms(q.duration_ms)),
            el('td', {class: 'mono'}, hashLink(['find', q.request_id], q.request_id)),
            el('td', {}, button('Replay', () => replayRequest(q.request_id))),
          ],
          requestDetail), reqs.length, r.body.next_before, 'No logged requests for this webhook.');
      },
    },

    routes: {
      toolbar: () => el('h2', {}, 'Routes'),
      async load() {
        const [r, rt] = await Promise.all([api('GET', '/api/v1/routes'), rates()]);
        if (!r.ok) return failure(r);
        const routes = r.body.routes || [];
        state.routeNames = routes.map((x) => x.name);
        fillRouteNames();
        if (!routes.length) return empty('No routes are configured.');
        const series = new Map(((rt && rt.routes) || []).map((x) => [x.name, x]));
        // The circuit column shows when the answer carries circuits at all.
        const circuits = routes.some((x) => (x.outgoing || []).some((p) => p.circuit));
        return el('div', {}, routes.map((x) => routeSection(x, rt, series.get(x.name), circuits)),
          el('p', {class: 'muted'}, 'Pending is the durable consumer\'s backlog across every process; ' +
            'delivered, failed (retried) and dead count this process since it started.'));
      },
    },

    rates: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Rates'),
        el('span', {class: 'muted'}, 'A bar a minute over the last hour, counted from the request and delivery log (HOOKGATE_LOG) ' +
          'that every hookgate process on this NATS writes: the same from any process, and kept across restarts.')),
      async load() {
        const r = await readRates();
        if (!r.ok) return failure(r);
        const rt = r.body;
        const row = (name, link, series, label, note) => el('tr', {},
          el('td', {class: 'mono'}, link),
          el('td', {class: 'rate'}, note ? el('span', {class: 'muted'}, note) : chart(series, rt.from, rt.step_seconds, label, 480, 48)),
          el('td', {class: 'num'}, note ? '' : String(series.reduce((a, b) => a + b, 0))),
          el('td', {class: 'num'}, note ? '' : String(Math.max(0, ...series))));
        const head = (what) => el('thead', {}, el('tr', {}, [what, 'Last hour (oldest left, now right)', 'Total ', 'Peak a minute '].map((c) =>
          el('th', {class: c.endsWith(' ') ? 'num' : null}, c.trim()))));
        const hooks = rt.webhooks || [];
        const routes = rt.routes || [];
        return el('div', {},
          rt.complete ? null : el('p', {class: 'status-4'}, `The log could not be read to its end in time: counts from ${new Date(rt.counted_until).toISOString()} on are short.`),
          el('h3', {}, 'Requests a minute, per webhook'),
          hooks.length ? el('table', {id: 'rates-webhooks'}, head('Webhook'), el('tbody', {}, hooks.map((w) =>
            row(w.identifier, hashLink(['requests', w.identifier], w.identifier), w.requests, `requests to ${w.identifier}`,
              w.logging ? '' : 'not counted: the webhook does not have logging: true')))) : empty('No webhooks are configured.'),
          el('h3', {}, 'Delivery attempts a minute, per route and per outgoing'),
          routes.length ? el('table', {id: 'rates-routes'}, head('Route / outgoing'), el('tbody', {}, routes.map((x) => [
            row(x.name, hashLink(['deliveries', x.name, ''], x.name), x.attempts, `attempts of route ${x.name}`),
            ...(x.outgoing || []).map((o) => row(o.name, el('span', {class: 'indent'}, '→ ' + o.name), o.attempts, `attempts of ${x.name} to ${o.name}`)),
          ]))) : empty('No routes are configured.'));
      },
    },

    find: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, TASK_ID.test(state.find) ? 'Task ' : 'Request ', el('span', {class: 'mono'}, state.find))),
      async load() {
        return TASK_ID.test(state.find) ? findTask(state.find) : findRequest(state.find);
      },
    },

    deliveries: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Deliveries'),
        routeFilter(),
        el('label', {}, 'Status ', el('select', {id: 'status-filter', onchange: filtersChanged},
          [['', 'all'], ['delivered', 'delivered'], ['failed', 'failed']].map(([v, label]) =>
            el('option', {value: v, selected: state.status === v}, label)))),
        pageSize()),
      async load() {
        const r = await api('GET', `/api/v1/deliveries?route=${encodeURIComponent(state.route)}&status=${encodeURIComponent(state.status)}&limit=${encodeURIComponent(state.limit)}&before=${encodeURIComponent(before())}`);
        if (!r.ok) return failure(r);
        const ds = r.body.deliveries || [];
        return listing(attemptsTable(ds), ds.length, r.body.next_before, 'No delivery attempts match.');
      },
    },

    dlq: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Dead letters'),
        routeFilter(),
        pageSize(),
        button('Replay dead letters', () => replayDeadLetters(state.route, ''), 'small danger', {id: 'replay-dlq'})),
      async load() {
        if (!state.route) return empty('Choose a route to list its dead letters.');
        const r = await api('GET', `/api/v1/dlq?route=${encodeURIComponent(state.route)}&limit=${encodeURIComponent(state.limit)}&before=${encodeURIComponent(before())}`);
        if (!r.ok) return failure(r);
        const letters = r.body.dead_letters || [];
        return listing(deadLettersTable(letters), letters.length, r.body.next_before, 'No dead letters for this route.');
      },
    },
  };

  function requestDetail(q) {
    return [
      kv([['Method', q.method], ['Path', q.path], ['Remote address', q.remote_addr], ['Webhook', q.webhook]]),
      el('h3', {}, 'Headers'),
      headersTable(q.headers),
      bodyBlock(q.body, q.body_truncated, 'over 64KiB, or never read'),
    ];
  }

  function attemptsTable(ds) {
    return dataTable(['Time', 'Route', 'Outgoing', 'Attempt ', 'Status ', 'Duration ms ', 'Error', 'Task id'], ds,
      (d) => `att:${d.task_id}:${d.outgoing}:${d.attempt}:${d.time}`,
      (d) => [
        el('td', {}, when(d.time)),
        el('td', {class: 'mono'}, d.route),
        el('td', {class: 'mono'}, d.outgoing),
        el('td', {class: 'num'}, String(d.attempt ?? '')),
        statusCell(d.status),
        el('td', {class: 'num'}, ms(d.duration_ms)),
        el('td', {class: 'error'}, d.error || ''),
        el('td', {class: 'mono'}, d.task_id ? hashLink(['find', d.task_id], d.task_id) : ''),
      ],
      (d) => [
        kv([['Task id', d.task_id], ['Request id', d.request_id ? hashLink(['find', d.request_id], d.request_id) : '—'], ['Attempt', String(d.attempt)]]),
        el('h3', {}, 'Response (first 1KiB)'),
        d.response ? el('pre', {}, pretty(d.response)) : empty('No response body.'),
      ]);
  }

  function deadLettersTable(letters) {
    const h = (d, name) => (d.headers || {})[name] || '';
    return dataTable(['Dead since', 'Seq ', 'Outgoing', 'Status ', 'Attempts ', 'Error', 'Task id'], letters,
      (d) => 'dlq:' + d.seq,
      (d) => [
        el('td', {}, when(d.time)),
        el('td', {class: 'num'}, String(d.seq)),
        el('td', {class: 'mono'}, h(d, 'hookgate-outgoing')),
        statusCell(h(d, 'hookgate-status')),
        el('td', {class: 'num'}, h(d, 'hookgate-attempts')),
        el('td', {class: 'error'}, h(d, 'hookgate-error')),
        el('td', {class: 'mono'}, d.task_id ? hashLink(['find', d.task_id], d.task_id) : ''),
      ],
      (d) => [
        kv([['Subject', d.subject], ['Task id', d.task_id]]),
        el('h3', {}, 'Headers'),
        headersTable(d.headers),
        bodyBlock(d.body, d.body_truncated, 'only the first 64KiB is shown'),
      ]);
  }

  // ---- lookup by id (the search box)

  function incompleteNote(complete) {
    return complete ? null : el('p', {class: 'status-4'}, 'The logs could not all be read in time: more may exist. Refresh to read again.');
  }

  async function findRequest(id) {
    const r = await api('GET', `/api/v1/requests/${encodeURIComponent(id)}`);
    if (!r.ok) return failure(r);
    const q = r.body.request;
    const attempts = r.body.attempts || [];
    return el('div', {id: 'found', 'data-kind': 'request'},
      incompleteNote(r.body.complete),
      q ? [
        kv([['Request id', q.request_id], ['Time', when(q.time)], ['Webhook', hashLink(['requests', q.webhook], q.webhook)],
          ['Status', String(q.status)], ['Tasks', String(q.tasks ?? '')], ['Error', q.error || '—'], ['Duration ms', ms(q.duration_ms)]]),
        el('p', {}, button('Replay', () => replayRequest(q.request_id))),
        requestDetail(q),
      ] : el('p', {class: 'muted'}, 'Not in the request log (its webhook does not have logging: true, or the log no longer keeps it); ' +
        'the attempts below come from the delivery log.'),
      el('h3', {}, `Delivery attempts of its tasks (${attempts.length}), oldest first`),
      attempts.length ? attemptsTable(attempts) : empty('No delivery attempts logged for its tasks.'));
  }

  async function findTask(id) {
    const r = await api('GET', `/api/v1/tasks/${encodeURIComponent(id)}`);
    if (!r.ok) return failure(r);
    const t = r.body.task;
    const attempts = r.body.attempts || [];
    const dead = r.body.dead_letters || [];
    return el('div', {id: 'found', 'data-kind': 'task'},
      incompleteNote(r.body.complete),
      kv([['Task id', id], ['Request id', hashLink(['find', r.body.request_id], r.body.request_id)],
        ...(t ? [['Subject', t.subject], ['Stream sequence', String(t.seq)], ['Stored', when(t.time)]] : [])]),
      t ? [el('h3', {}, 'Headers'), headersTable(t.headers), bodyBlock(t.body, t.body_truncated, 'only the first 64KiB is shown')]
        : el('p', {class: 'muted'}, 'The task stream no longer holds this task (delivered and acknowledged by every route, or past max_age).'),
      el('h3', {}, `Delivery attempts (${attempts.length}), oldest first`),
      attempts.length ? attemptsTable(attempts) : empty('No delivery attempts logged.'),
      el('h3', {}, `Dead letters (${dead.length})`),
      dead.length ? deadLettersTable(dead) : empty('Not in the dead-letter queue.'));
  }

  function search(ev) {
    ev.preventDefault();
    const id = $('search').value.trim();
    if (!id) return;
    location.hash = '#' + ['find', id].map((p) => encodeURIComponent(p)).join('/');
  }

  // circuitCell shows a pair's circuit breaker as the routes answer gives
  // it: state, failures in a row and, while open, until when.
  function circuitCell(c) {
    if (!c) return el('td', {class: 'muted'}, '—');
    const st = String(c.state || '');
    return el('td', {class: 'circuit', 'data-state': st},
      el('span', {class: 'tag circuit-' + st.replace(/[^a-z_]/g, '')}, st.replace('_', ' ')),
      c.failures ? el('span', {class: 'muted'}, ` ${c.failures} failed in a row`) : null,
      c.until ? el('span', {class: 'muted'}, ' until ', when(c.until)) : null);
  }

  function routeSection(rt, rates, series, circuits) {
    const head = el('div', {class: 'route-head'},
      el('h2', {class: 'mono'}, rt.name),
      el('span', {class: 'muted'}, 'from incoming ', el('span', {class: 'mono'}, rt.incoming)),
      rt.disabled ? el('span', {class: 'tag off'}, 'disabled') : null,
      hashLink(['deliveries', rt.name, ''], 'Deliveries'),
      hashLink(['dlq', rt.name], 'Dead letters'),
      button('Replay dead letters', () => replayDeadLetters(rt.name, ''), 'small danger'),
      series ? el('span', {class: 'rate', title: 'delivery attempts a minute, last hour'},
        chart(series.attempts, rates.from, rates.step_seconds, `attempts of route ${rt.name}`, 180, 28),
        el('span', {class: 'muted total'}, `${series.total} attempts in the last hour`)) : null);
    const columns = ['Outgoing', 'Consumer', 'Pending', 'Delivered', 'Failed', 'Dead', ...(circuits ? ['Circuit'] : []), ''];
    const pair = (p) => el('tr', {'data-pair': `${rt.name}/${p.name}`},
      el('td', {class: 'mono'}, p.name),
      el('td', {class: 'mono'}, p.consumer),
      p.pending === null || p.pending === undefined
        ? el('td', {class: 'num', title: 'the consumer cannot be read (a disabled route?)'}, '—')
        : el('td', {class: 'num'}, String(p.pending)),
      el('td', {class: 'num'}, String(p.delivered)),
      el('td', {class: 'num'}, String(p.failed)),
      el('td', {class: 'num'}, String(p.dead)),
      circuits ? circuitCell(p.circuit) : null,
      el('td', {}, button('Replay dead letters', () => replayDeadLetters(rt.name, p.name))));
    return el('section', {class: 'route'}, head,
      el('table', {},
        el('thead', {}, el('tr', {}, columns.map((c, i) => el('th', {class: i >= 2 && i <= 5 ? 'num' : null}, c)))),
        el('tbody', {}, (rt.outgoing || []).map(pair))));
  }

  function routeFilter() {
    return el('label', {}, 'Route ',
      el('input', {id: 'route-filter', list: 'route-names', value: state.route, placeholder: 'any', spellcheck: 'false', onchange: filtersChanged}),
      el('datalist', {id: 'route-names'}));
  }

  function fillRouteNames() {
    const list = $('route-names');
    if (list) list.replaceChildren(...state.routeNames.map((n) => el('option', {value: n})));
  }

  function filtersChanged() {
    const route = $('route-filter') ? $('route-filter').value.trim() : '';
    const status = $('status-filter') ? $('status-filter').value : '';
    location.hash = '#' + (state.view === 'dlq' ? ['dlq', route] : ['deliveries', route, status])
      .map((p) => encodeURIComponent(p)).join('/');
  }

  // ---- actions

  async function replayRequest(id) {
    if (!confirm(`Replay request ${id} through its webhook's current pipeline? Its tasks are published again.`)) return;
    const r = await api('POST', `/api/v1/requests/${encodeURIComponent(id)}/replay`);
    notice(r.ok ? 'ok' : 'error', `Replay of ${id}: HTTP ${r.status}`, el('pre', {}, pretty(r.body)));
    refresh();
  }

  async function replayDeadLetters(route, outgoing) {
    if (!route) {
      notice('error', 'Choose a route first.');
      return;
    }
    const what = outgoing ? `route "${route}" to outgoing "${outgoing}"` : `route "${route}"`;
    if (!confirm(`Replay every dead letter of ${what}? Each is delivered again, then removed from the dead-letter queue.`)) return;
    const r = await api('POST', `/api/v1/dlq/${encodeURIComponent(route)}/replay?outgoing=${encodeURIComponent(outgoing)}`);
    if (r.ok) notice('ok', `Replayed ${r.body.replayed} dead letter(s) of ${what}.`);
    else notice('error', `Replay of ${what}: HTTP ${r.status}: ${errorText(r)}`);
    refresh();
  }

  async function reloadConfig() {
    const r = await api('POST', '/api/v1/reload');
    if (r.ok) {
      notice('ok', 'Configuration reloaded.');
    } else {
      const problems = (r.body && Array.isArray(r.body.problems)) ? r.body.problems : [];
      notice('error', `Reload: HTTP ${r.status}: ${errorText(r)}`,
        problems.length ? el('ul', {}, problems.map((p) => el('li', {class: 'mono'}, String(p)))) : null);
    }
    refresh();
  }

  // ---- navigation and refresh

  function parseHash() {
    const parts = location.hash.replace(/^#/, '').split('/').map((p) => {
      try {
        return decodeURIComponent(p);
      } catch (_) {
        return '';
      }
    });
    const view = Object.hasOwn(views, parts[0]) ? parts[0] : 'webhooks';
    state.view = view === 'requests' && !parts[1] ? 'webhooks' : view;
    if (view === 'requests') state.webhook = parts[1] || '';
    if (view === 'deliveries') {
      state.route = parts[1] || '';
      state.status = parts[2] || '';
    }
    if (view === 'dlq') state.route = parts[1] || '';
    if (view === 'find') {
      state.find = parts.slice(1).join('/');
      if (!state.find) state.view = 'webhooks';
    }
  }

  function navigate() {
    parseHash();
    state.open.clear();
    state.before = 0;
    state.newer = [];
    if (state.view === 'find' && $('search').value.trim() !== state.find) $('search').value = state.find;
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('current', a.dataset.view === ({requests: 'webhooks', find: ''}[state.view] ?? state.view));
    }
    state.content = el('div', {id: 'content'}, empty('Loading…'));
    $('view').replaceChildren(views[state.view].toolbar(), state.content);
    fillRouteNames();
    if ((state.view === 'deliveries' || state.view === 'dlq') && !state.routeNames.length) loadRouteNames();
    refresh();
  }

  async function loadRouteNames() {
    try {
      const r = await api('GET', '/api/v1/routes');
      if (r.ok) {
        state.routeNames = (r.body.routes || []).map((x) => x.name);
        fillRouteNames();
      }
    } catch (_) {
      // the view's own refresh reports the problem
    }
  }

  // selecting reports whether the operator is selecting text in the view,
  // which a refresh would undo.
  function selecting() {
    const sel = window.getSelection();
    return sel && !sel.isCollapsed && state.content && state.content.contains(sel.anchorNode);
  }

  async function refresh() {
    clearTimeout(state.timer);
    if (state.needToken) return;
    const seq = ++state.seq;
    const target = state.content;
    let node;
    try {
      node = await views[state.view].load();
    } catch (e) {
      if (e instanceof Unauthorized) return;
      node = el('p', {class: 'empty status-5'}, `Cannot reach the admin API: ${e && e.message ? e.message : e}`);
    }
    if (seq !== state.seq || target !== state.content) return; // a newer refresh or another view
    if (!selecting()) target.replaceChildren(node);
    $('forget').hidden = !token();
    const auto = $('auto').checked;
    $('updated').replaceChildren('Updated ', when(new Date()), auto ? '' : ' · auto-refresh paused');
    if (auto && !document.hidden) state.timer = setTimeout(refresh, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', () => {
    $('login-form').addEventListener('submit', useToken);
    $('search-form').addEventListener('submit', search);
    $('refresh').addEventListener('click', () => refresh());
    $('reload').addEventListener('click', guard(reloadConfig));
    $('forget').addEventListener('click', () => askToken('Token forgotten. Enter it again to go on.'));
    $('auto').addEventListener('change', () => refresh());
    document.addEventListener('visibilitychange', () => {
      if (document.hidden) clearTimeout(state.timer);
      else refresh();
    });
    window.addEventListener('hashchange', navigate);
    navigate();
  });
})();
