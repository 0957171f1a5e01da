// hookgate operator page. Request bodies, headers and delivery answers shown
// here come from untrusted senders, so every datum becomes a text node:
// el() and DOM methods build the markup, nothing parses a string as HTML.
// The admin token lives in this tab's sessionStorage and travels only in
// the Authorization header.
'use strict';

(() => {
  const TOKEN_KEY = 'hookgate.admin.token';
  const REFRESH_MS = 5000;
  const LIMIT = 100;

  const $ = (id) => document.getElementById(id);

  const state = {
    view: 'webhooks',
    webhook: '', // the identifier the requests view shows
    route: '', // the deliveries and dead-letters filters
    status: '',
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

  function button(label, onclick, cls) {
    return el('button', {type: 'button', class: cls || 'small', onclick: guard(onclick)}, label);
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

  // ---- views: a toolbar built once, and content that refresh() rebuilds

  const views = {
    webhooks: {
      toolbar: () => el('h2', {}, 'Webhooks'),
      async load() {
        const r = await api('GET', '/api/v1/webhooks');
        if (!r.ok) return failure(r);
        const hooks = r.body.webhooks || [];
        if (!hooks.length) return empty('No webhooks are configured.');
        return el('table', {},
          el('thead', {}, el('tr', {}, ['Identifier', 'Name', 'Incoming', 'Methods', 'Validators', 'Disabled', ''].map((c) => el('th', {}, c)))),
          el('tbody', {}, hooks.map((w) => el('tr', {},
            el('td', {class: 'mono'}, hashLink(['requests', w.identifier], w.identifier)),
            el('td', {}, w.name),
            el('td', {}, [w.incoming, ...(w.additional_incoming || [])].join(', ')),
            el('td', {}, (w.methods || []).join(', ')),
            el('td', {}, (w.validators || []).length ? w.validators.map((v) =>
              el('span', {class: 'tag'}, v.preset ? `${v.kind}: ${v.preset}` : v.kind)) : el('span', {class: 'muted'}, 'none')),
            el('td', {}, w.disabled ? el('span', {class: 'tag off'}, 'disabled') : 'no'),
            el('td', {}, hashLink(['requests', w.identifier], 'Requests'))))));
      },
    },

    requests: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Requests to ', el('span', {class: 'mono'}, state.webhook)),
        hashLink(['webhooks'], '← Webhooks'),
        el('span', {class: 'muted'}, 'Newest first; a webhook logs its requests when it has logging: true.')),
      async load() {
        const r = await api('GET', `/api/v1/webhooks/${encodeURIComponent(state.webhook)}/requests?limit=${encodeURIComponent(LIMIT)}`);
        if (!r.ok) return failure(r);
        const reqs = r.body.requests || [];
        if (!reqs.length) return empty('No logged requests for this webhook.');
        return dataTable(['Time', 'Status ', 'Tasks ', 'Error', 'Duration ms ', 'Request id', ''], reqs,
          (q) => 'req:' + q.request_id,
          (q) => [
            el('td', {}, when(q.time)),
            statusCell(q.status),
            el('td', {class: 'num'}, String(q.tasks ?? '')),
            el('td', {class: 'error'}, q.error || ''),
            el('td', {class: 'num'}, ms(q.duration_ms)),
            el('td', {class: 'mono'}, q.request_id),
            el('td', {}, button('Replay', () => replayRequest(q.request_id))),
          ],
          (q) => [
            kv([['Method', q.method], ['Path', q.path], ['Remote address', q.remote_addr], ['Webhook', q.webhook]]),
            el('h3', {}, 'Headers'),
            headersTable(q.headers),
            bodyBlock(q.body, q.body_truncated, 'over 64KiB, or never read'),
          ]);
      },
    },

    routes: {
      toolbar: () => el('h2', {}, 'Routes'),
      async load() {
        const r = await api('GET', '/api/v1/routes');
        if (!r.ok) return failure(r);
        const routes = r.body.routes || [];
        state.routeNames = routes.map((x) => x.name);
        fillRouteNames();
        if (!routes.length) return empty('No routes are configured.');
        return el('div', {}, routes.map(routeSection),
          el('p', {class: 'muted'}, 'Pending is the durable consumer\'s backlog across every process; ' +
            'delivered, failed (retried) and dead count this process since it started.'));
      },
    },

    deliveries: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Deliveries'),
        routeFilter(),
        el('label', {}, 'Status ', el('select', {id: 'status-filter', onchange: filtersChanged},
          [['', 'all'], ['delivered', 'delivered'], ['failed', 'failed']].map(([v, label]) =>
            el('option', {value: v, selected: state.status === v}, label))))),
      async load() {
        const r = await api('GET', `/api/v1/deliveries?route=${encodeURIComponent(state.route)}&status=${encodeURIComponent(state.status)}&limit=${encodeURIComponent(LIMIT)}`);
        if (!r.ok) return failure(r);
        const ds = r.body.deliveries || [];
        if (!ds.length) return empty('No delivery attempts match.');
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
            el('td', {class: 'mono'}, d.task_id),
          ],
          (d) => [
            kv([['Task id', d.task_id], ['Request id', d.request_id || '—'], ['Attempt', String(d.attempt)]]),
            el('h3', {}, 'Response (first 1KiB)'),
            d.response ? el('pre', {}, pretty(d.response)) : empty('No response body.'),
          ]);
      },
    },

    dlq: {
      toolbar: () => el('div', {class: 'filters'},
        el('h2', {}, 'Dead letters'),
        routeFilter(),
        button('Replay dead letters', () => replayDeadLetters(state.route, ''), 'small danger')),
      async load() {
        if (!state.route) return empty('Choose a route to list its dead letters.');
        const r = await api('GET', `/api/v1/dlq?route=${encodeURIComponent(state.route)}&limit=${encodeURIComponent(LIMIT)}`);
        if (!r.ok) return failure(r);
        const letters = r.body.dead_letters || [];
        if (!letters.length) return empty('No dead letters for this route.');
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
            el('td', {class: 'mono'}, d.task_id),
          ],
          (d) => [
            kv([['Subject', d.subject], ['Task id', d.task_id]]),
            el('h3', {}, 'Headers'),
            headersTable(d.headers),
            bodyBlock(d.body, d.body_truncated, 'only the first 64KiB is shown'),
          ]);
      },
    },
  };

  function routeSection(rt) {
    const head = el('div', {class: 'route-head'},
      el('h2', {class: 'mono'}, rt.name),
      el('span', {class: 'muted'}, 'from incoming ', el('span', {class: 'mono'}, rt.incoming)),
      rt.disabled ? el('span', {class: 'tag off'}, 'disabled') : null,
      hashLink(['deliveries', rt.name, ''], 'Deliveries'),
      hashLink(['dlq', rt.name], 'Dead letters'),
      button('Replay dead letters', () => replayDeadLetters(rt.name, ''), 'small danger'));
    const columns = ['Outgoing', 'Consumer', 'Pending', 'Delivered', 'Failed', 'Dead', ''];
    const pair = (p) => el('tr', {},
      el('td', {class: 'mono'}, p.name),
      el('td', {class: 'mono'}, p.consumer),
      p.pending === null || p.pending === undefined
        ? el('td', {class: 'num', title: 'the consumer cannot be read (a disabled route?)'}, '—')
        : el('td', {class: 'num'}, String(p.pending)),
      el('td', {class: 'num'}, String(p.delivered)),
      el('td', {class: 'num'}, String(p.failed)),
      el('td', {class: 'num'}, String(p.dead)),
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
  }

  function navigate() {
    parseHash();
    state.open.clear();
    for (const a of document.querySelectorAll('#nav a')) {
      a.classList.toggle('current', a.dataset.view === (state.view === 'requests' ? 'webhooks' : state.view));
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
