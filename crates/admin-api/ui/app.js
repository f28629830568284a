// Anchorage web interface: a client of /api/v1 like any other, signed in
// with a session cookie and its CSRF token. No framework: views are built
// with DOM calls (never innerHTML, so nothing from the server is parsed as
// markup), and each view reads what it shows from the API when it opens.
'use strict';

const API = '/api/v1';
let session = null; // {csrf, token_id, role, cas, idle_seconds}
const main = document.getElementById('main');

/** An element with attributes (on* are listeners) and children. */
function h(tag, attrs, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const kid of kids.flat(Infinity)) {
    if (kid === null || kid === undefined || kid === false) continue;
    el.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return el;
}

/** Replaces the children of `el`: nested arrays flattened, null, undefined and false left out. */
function fill(el, ...kids) {
  el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined && k !== false));
}

/** A table with a header row and one row per item. */
function table(heads, rows, id) {
  return h('table', { id },
    h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows));
}

/** Why a call failed, from its problem body. */
class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem || {};
  }
}

/** Calls the API with the session's CSRF token; a 401 ends the session. */
async function api(method, path, body, headers) {
  const init = { method, credentials: 'same-origin', headers: { ...(headers || {}) } };
  if (session) init.headers['X-CSRF-Token'] = session.csrf;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const resp = await fetch(path.startsWith('/') ? path : `${API}/${path}`, init);
  const text = await resp.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch (err) {
    json = { title: `HTTP ${resp.status}`, detail: text.slice(0, 200) };
  }
  if (resp.status === 401 && session) {
    session = null;
    signIn(json && json.detail);
    throw new ApiError(401, json);
  }
  if (!resp.ok) throw new ApiError(resp.status, json);
  return { json, headers: resp.headers };
}

function problemBox(err) {
  const p = err.problem || {};
  return h('div', { class: 'problem', role: 'alert' },
    h('strong', {}, p.title || 'Error'), ': ', err.message,
    p.field ? h('span', { class: 'muted' }, ` (field ${p.field})`) : null);
}

/** Replaces the page body and moves focus to its heading. */
function show(title, ...content) {
  document.title = `${title} · Anchorage`;
  fill(main, h('h1', {}, title), content);
  main.focus();
}

function asn(text) {
  const t = String(text).trim().replace(/^AS/i, '');
  if (!/^\d+$/.test(t)) throw new Error(`"${text}" is not an AS number`);
  return Number(t);
}

/** Whether `p` looks like a prefix; the API checks it in full. */
function prefixShape(p) {
  const m = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(String(p));
  if (!m) return false;
  const v6 = m[1].includes(':');
  return Number(m[2]) <= (v6 ? 128 : 32) && (v6 || /^\d{1,3}(\.\d{1,3}){3}$/.test(m[1]));
}

function prefixLength(prefix) {
  return Number(String(prefix).split('/')[1]);
}

function roaText(r) {
  const max = r.max_length ?? prefixLength(r.prefix);
  return `AS${r.asn} ${r.prefix}${max !== prefixLength(r.prefix) ? `-${max}` : ''}`;
}

function sameRoa(a, b) {
  return a.asn === b.asn && a.prefix === b.prefix
    && (a.max_length ?? prefixLength(a.prefix)) === (b.max_length ?? prefixLength(b.prefix));
}

// ---------------------------------------------------------------- session

function signIn(reason) {
  document.getElementById('nav').hidden = true;
  document.getElementById('sign-out').hidden = true;
  document.getElementById('who').textContent = '';
  const input = h('input', { id: 'signin-token', type: 'password', autocomplete: 'off', required: true, size: 60 });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { id: 'signin', class: 'inline', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const r = await api('POST', '/ui/session', { token: input.value });
      session = r.json;
      started();
    } catch (err) {
      fill(out, problemBox(err));
    }
  } },
  h('label', {}, 'API token', input),
  h('button', { class: 'primary', type: 'submit', id: 'signin-submit' }, 'Sign in'));
  show('Sign in',
    reason ? h('div', { class: 'problem', role: 'alert', id: 'signin-reason' }, reason) : null,
    h('p', {}, 'Sign in with an API token (anchorage token create). The session acts with the token\'s role and CAs, and ends after ',
      'a period without use, when you sign out, or when the token is revoked.'),
    form, out);
  input.focus();
}

function started() {
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-tokens').hidden = session.role !== 'admin';
  document.getElementById('sign-out').hidden = false;
  const scope = session.cas.length ? session.cas.join(', ') : 'all CAs';
  document.getElementById('who').textContent = `${session.token_id} · ${session.role} · ${scope}`;
  route();
}

document.getElementById('sign-out').addEventListener('click', async () => {
  try { await api('DELETE', '/ui/session'); } catch (err) { /* ended already */ }
  session = null;
  signIn('Signed out.');
});

// ---------------------------------------------------------------- routing

function route() {
  if (!session) return;
  const [path, query] = location.hash.replace(/^#/, '').split('?');
  let parts;
  try {
    parts = (path || '/').split('/').filter(Boolean).map(decodeURIComponent);
  } catch (err) {
    parts = ['?'];
  }
  for (const a of document.querySelectorAll('nav a')) {
    const here = a.getAttribute('href') === `#/${parts[0] || ''}` || (parts[0] === 'ca' && a.getAttribute('href') === '#/');
    if (here) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const params = new URLSearchParams(query || '');
  let view;
  if (parts.length === 0) view = caList();
  else if (parts[0] === 'ca' && parts.length === 2) view = caView(parts[1]);
  else if (parts[0] === 'ca' && parts.length === 3 && parts[2] === 'roas') view = roaEditor(parts[1]);
  else if (parts[0] === 'audit') view = auditView(params);
  else if (parts[0] === 'tokens') view = tokensView();
  else view = Promise.resolve(show('Not found', h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Back to the CAs'))));
  view.catch((err) => {
    if (err.status !== 401) show(err.status === 404 ? 'Not found' : 'Error', problemBox(err));
  });
}

window.addEventListener('hashchange', route);

// ---------------------------------------------------------------- CAs

async function caList() {
  const { json: cas } = await api('GET', 'cas');
  const visible = new Set(cas.map((c) => c.handle));
  const kids = new Map();
  for (const c of cas) {
    const parent = c.parent && visible.has(c.parent) ? c.parent : '';
    if (!kids.has(parent)) kids.set(parent, []);
    kids.get(parent).push(c);
  }
  const tree = (parent) => h('ul', { class: 'tree' }, (kids.get(parent) || []).map((c) => h('li', {},
    h('a', { href: `#/ca/${encodeURIComponent(c.handle)}` }, c.handle), ' ',
    h('span', { class: 'muted' }, `${c.resources || 'no resources'} · ${c.roa_payloads} ROA payload(s)`),
    kids.has(c.handle) ? tree(c.handle) : null)));
  show('Certificate authorities',
    cas.length ? tree('') : h('p', {}, 'This token sees no CAs.'));
}

async function caView(handle) {
  const enc = encodeURIComponent(handle);
  const { json: ca } = await api('GET', `cas/${enc}`);
  const optional = async (path) => { try { return (await api('GET', path)).json; } catch (err) { if (err.status === 401) throw err; return null; } };
  const [keys, children, parents, publishers, visible, aspas, routers] = await Promise.all([
    optional(`cas/${enc}/keyroll`), optional('children'), optional('parents'), optional('publishers'),
    optional('cas'), optional(`cas/${enc}/aspas`), optional(`cas/${enc}/router-certs`)]);
  const seen = new Set((visible || []).map((c) => c.handle));
  const caLink = (c) => (seen.has(c) ? h('a', { href: `#/ca/${encodeURIComponent(c)}` }, c) : c);
  const delegated = (children || []).filter((c) => c.parent === handle);
  const remoteParents = (parents || []).filter((p) => p.ca === handle);
  const facts = [
    ['Resources', ca.resources || 'none'],
    ['Parent', ca.parent ? caLink(ca.parent) : (remoteParents.length ? 'remote (RFC 6492)' : 'none: trust anchor')],
    ['Certificate', h('span', { class: 'mono' }, ca.cert_uri)],
    ['Certificate valid until', ca.cert_not_after],
    ['Certificate serial', h('span', { class: 'mono' }, ca.cert_serial)],
    ['Next manifest and CRL reissue before', ca.manifest_next_update || 'not published yet'],
    ['Publication point', h('span', { class: 'mono' }, ca.repository)],
    ['Revoked certificates on its CRL', ca.revoked],
  ];
  show(`CA ${ca.handle}`,
    h('dl', { class: 'facts', id: 'ca-facts' }, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('div', { class: 'actions' },
      h('a', { href: `#/ca/${enc}/roas`, id: 'edit-roas' }, `Edit ROAs (${ca.roas.length})`),
      h('a', { href: `#/audit?ca=${enc}` }, 'Audit log of this CA')),
    h('h2', {}, 'Keys'),
    keys ? table(['Key', 'State', 'Since', 'Certificate valid until'], keys.keys.map((k) => h('tr', {},
      h('td', { class: 'mono' }, k.key_id), h('td', {}, k.state), h('td', {}, k.since), h('td', {}, k.cert_not_after))), 'keys')
      : h('p', { class: 'muted' }, 'Not available to this token.'),
    keys && keys.next_step ? h('p', {}, `Rollover in progress: ${keys.next_step} due ${keys.next_due}.`) : null,
    h('h2', {}, 'Children'),
    ca.children.length || delegated.length
      ? h('ul', {}, ca.children.map((c) => h('li', {}, caLink(c), ' (hosted)')),
        delegated.map((c) => h('li', {}, c.handle, ` (delegated, RFC 6492): ${c.resources}`)))
      : h('p', { class: 'muted' }, 'None.'),
    remoteParents.length ? [h('h2', {}, 'Remote parents'), h('ul', {}, remoteParents.map((p) => h('li', {}, `${p.parent} (RFC 6492, ${p.service_uri})`, p.resources ? `: ${p.resources}` : '')))] : null,
    publishers && publishers.length ? [h('h2', {}, 'Publishers of this repository'),
      h('ul', {}, publishers.map((p) => h('li', {}, p.handle || JSON.stringify(p))))] : null,
    aspas && aspas.length ? [h('h2', {}, 'ASPAs'), table(['Customer AS', 'Providers'], aspas.map((a) => h('tr', {},
      h('td', {}, `AS${a.customer_as}`), h('td', {}, a.providers.map((p) => `AS${p}`).join(', ') || 'none (AS0)'))), 'aspas')] : null,
    routers && routers.length ? [h('h2', {}, 'BGPsec router certificates'), table(['AS', 'Key (SKI)', 'Valid until'], routers.map((r) => h('tr', {},
      h('td', {}, `AS${r.asn}`), h('td', { class: 'mono' }, r.ski), h('td', {}, r.not_after || ''))), 'router-certs')] : null,
    h('h2', {}, 'ROAs'),
    ca.roas.length ? table(['Origin', 'Prefix', 'maxLength'], ca.roas.map((r) => h('tr', {},
      h('td', {}, `AS${r.asn}`), h('td', { class: 'mono' }, r.prefix), h('td', {}, r.max_length))))
      : h('p', { class: 'muted' }, 'None.'));
}

// ---------------------------------------------------------------- ROA editor

/** Reads ROA CSV as `roa import` does: VRP CSV or ASN,prefix[,maxLength]. */
function readCsv(text) {
  const out = [];
  let first = true;
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const f = line.split(',').map((x) => x.trim().replace(/^"(.*)"$/, '$1').trim());
    const header = f[0] !== '' && /^[A-Za-z ]+$/.test(f[0]);
    if (first && header) { first = false; return; }
    first = false;
    if (f.length < 2) throw new Error(`line ${i + 1}: expected ASN,prefix[,maxLength]: ${line}`);
    let number;
    try { number = asn(f[0]); } catch (err) { throw new Error(`line ${i + 1}: ${err.message}: ${line}`); }
    if (!prefixShape(f[1])) throw new Error(`line ${i + 1}: "${f[1]}" is not an IPv4 or IPv6 prefix: ${line}`);
    const roa = { asn: number, prefix: f[1] };
    if (f[2]) {
      if (!/^\d+$/.test(f[2])) throw new Error(`line ${i + 1}: maxLength "${f[2]}" is not a number: ${line}`);
      roa.max_length = Number(f[2]);
    }
    out.push(roa);
  });
  return out;
}

async function roaEditor(handle) {
  const enc = encodeURIComponent(handle);
  const listed = await api('GET', `cas/${enc}/roas`);
  const current = listed.json;
  let etag = listed.headers.get('ETag');
  const staged = { add: [], remove: [] };
  let preview = null; // the last dry run's answer
  let previewSeq = 0;

  const stagedBox = h('div', { id: 'staged' });
  const previewBox = h('div', { id: 'preview', 'aria-live': 'polite' });
  const resultBox = h('div', { id: 'result', 'aria-live': 'polite' });
  const confirm = h('input', { type: 'checkbox', id: 'confirm-invalid' });
  const confirmText = h('span', { id: 'confirm-text' });
  const confirmLabel = h('label', { class: 'check', hidden: true }, confirm, confirmText);
  const apply = h('button', { class: 'primary', type: 'button', id: 'apply', disabled: true }, 'Apply');

  function routesMadeInvalid() {
    return preview ? preview.route_changes.filter((c) => c.after === 'invalid') : [];
  }

  function refreshApply() {
    const empty = !staged.add.length && !staged.remove.length;
    const invalid = routesMadeInvalid();
    confirmLabel.hidden = !invalid.length;
    confirmText.textContent =
      `I understand that ${invalid.length} announced route(s) become RPKI-invalid and will be dropped by validating networks.`;
    apply.disabled = empty || !preview || (invalid.length > 0 && !confirm.checked);
  }
  confirm.addEventListener('change', refreshApply);

  function renderStaged() {
    const rows = [
      ...staged.add.map((r, i) => h('tr', { class: 'staged-add' }, h('td', {}, 'add'), h('td', { class: 'mono' }, roaText(r)),
        h('td', {}, h('button', { type: 'button', onclick: () => { staged.add.splice(i, 1); changed(); } }, 'Unstage')))),
      ...staged.remove.map((r, i) => h('tr', { class: 'staged-remove' }, h('td', {}, 'remove'), h('td', { class: 'mono' }, roaText(r)),
        h('td', {}, h('button', { type: 'button', onclick: () => { staged.remove.splice(i, 1); changed(); } }, 'Unstage')))),
    ];
    fill(stagedBox, rows.length ? table(['Change', 'ROA', ''], rows, 'staged-table') : h('p', { class: 'muted' }, 'Nothing staged.'));
  }

  function renderPreview() {
    if (!preview) { fill(previewBox); return; }
    const rank = { critical: 0, warning: 1, info: 2 };
    const w = [...preview.warnings].sort((a, b) => rank[a.severity] - rank[b.severity]);
    const minimal = preview.minimal_roas;
    fill(previewBox, 
      h('h2', {}, 'What this change does'),
      h('p', {}, `${preview.vrps_announced.length} VRP(s) announced, ${preview.vrps_withdrawn.length} withdrawn.`),
      preview.vrps_announced.length || preview.vrps_withdrawn.length ? table(['VRP', 'Change'], [
        ...preview.vrps_announced.map((v) => h('tr', {}, h('td', { class: 'mono' }, roaText(v)), h('td', {}, 'announced'))),
        ...preview.vrps_withdrawn.map((v) => h('tr', {}, h('td', { class: 'mono' }, roaText(v)), h('td', {}, 'withdrawn')))], 'vrp-changes') : null,
      h('h2', {}, `Warnings (${w.length})`),
      w.length ? w.map((x) => h('div', { class: `warning sev-${x.severity}`, 'data-code': x.code, role: x.severity === 'info' ? null : 'alert' },
        h('span', { class: 'code' }, `${x.severity} · ${x.code}`), x.message))
        : h('p', { class: 'muted' }, 'None: the change is minimal and harms no announced route.'),
      minimal.length ? h('div', { class: 'box', id: 'minimal' },
        h('strong', {}, 'Minimal ROAs (RFC 9319 §5): '),
        minimal.map((m) => h('p', {}, `${roaText(m.replaces)} → ${m.with.map(roaText).join(', ')}`)),
        h('button', { type: 'button', id: 'replace-minimal', onclick: replaceMinimal }, 'Replace with the minimal ROAs')) : null,
      h('h2', {}, 'Announced routes whose validity changes'),
      preview.bgp_routes === null
        ? h('p', { class: 'warning sev-warning', id: 'no-bgp-table' }, 'No BGP table is loaded, so no announced route was checked: ',
          'the change may make routes invalid without a warning. An operator loads one with anchorage bgp load (a RIB dump or a CSV).')
        : h('p', { class: 'muted' }, `Checked against ${preview.bgp_routes} announced routes.`),
      preview.route_changes_total > preview.route_changes.length
        ? h('p', {}, `The first ${preview.route_changes.length} of ${preview.route_changes_total} are listed.`) : null,
      preview.route_changes.length ? table(['Route', 'Origin', 'Before', 'After'], preview.route_changes.map((c) => h('tr', {
        class: c.after === 'invalid' ? 'becomes-invalid' : null, 'data-after': c.after },
      h('td', { class: 'mono' }, c.prefix), h('td', {}, `AS${c.origin}`),
      h('td', {}, h('span', { class: `state ${c.before}` }, c.before)),
      h('td', {}, h('span', { class: `state ${c.after}` }, c.after)))), 'route-impact')
        : h('p', { class: 'muted', id: 'route-impact-none' }, 'None.'));
  }

  function replaceMinimal() {
    for (const m of preview.minimal_roas) {
      staged.add = staged.add.filter((r) => !sameRoa(r, m.replaces));
      for (const r of m.with) {
        if (!staged.add.some((s) => sameRoa(s, r))) staged.add.push({ asn: r.asn, prefix: r.prefix });
      }
    }
    changed();
  }

  async function dryRun() {
    const seq = ++previewSeq;
    preview = null;
    refreshApply();
    if (!staged.add.length && !staged.remove.length) { renderPreview(); return; }
    fill(previewBox, h('p', { class: 'muted' }, 'Checking…'));
    try {
      const r = await api('POST', `cas/${enc}/roas/dry-run`, staged);
      if (seq !== previewSeq) return;
      preview = r.json;
      renderPreview();
    } catch (err) {
      if (seq === previewSeq) fill(previewBox, problemBox(err));
    }
    refreshApply();
  }

  function changed() {
    confirm.checked = false;
    fill(resultBox);
    renderStaged();
    dryRun();
  }

  function stage(roa) {
    if (!staged.add.some((r) => sameRoa(r, roa))) staged.add.push(roa);
  }

  const fAsn = h('input', { id: 'add-asn', required: true, size: 12, placeholder: 'AS64496' });
  const fPrefix = h('input', { id: 'add-prefix', required: true, size: 24, placeholder: '192.0.2.0/24' });
  const fMax = h('input', { id: 'add-max', size: 5, inputmode: 'numeric', placeholder: 'none' });
  const addOut = h('div', { 'aria-live': 'polite' });
  const addForm = h('form', { class: 'inline', id: 'add-roa', onsubmit: (e) => {
    e.preventDefault();
    try {
      const roa = { asn: asn(fAsn.value), prefix: fPrefix.value.trim() };
      const max = fMax.value.trim();
      if (max && !/^\d+$/.test(max)) throw new Error(`maxLength "${max}" is not a number`);
      if (max) roa.max_length = Number(max);
      stage(roa);
      fill(addOut);
      fPrefix.value = ''; fMax.value = '';
      changed();
      fPrefix.focus();
    } catch (err) { fill(addOut, problemBox(err)); }
  } },
  h('label', {}, 'Origin AS', fAsn), h('label', {}, 'Prefix', fPrefix), h('label', {}, 'maxLength (optional)', fMax),
  h('button', { type: 'submit', id: 'stage-add' }, 'Stage'));

  const csv = h('textarea', { id: 'csv', placeholder: 'ASN,prefix[,maxLength] per line, or a validator\'s VRP CSV' });
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv,text/plain' });
  file.addEventListener('change', async () => { if (file.files[0]) csv.value = await file.files[0].text(); });
  const csvOut = h('div', { 'aria-live': 'polite' });
  const csvForm = h('form', { id: 'csv-form', onsubmit: (e) => {
    e.preventDefault();
    try {
      const roas = readCsv(csv.value);
      roas.forEach(stage);
      fill(csvOut, h('p', { class: 'notice' }, `${roas.length} ROA(s) staged from the CSV.`));
      csv.value = '';
      changed();
    } catch (err) { fill(csvOut, problemBox(err)); }
  } },
  h('label', {}, 'Paste CSV', csv), h('div', { class: 'actions' }, h('label', {}, 'or read a file', file),
    h('button', { type: 'submit', id: 'stage-csv' }, 'Stage all')), csvOut);

  // Apply sends what the preview showed, with the ETag of the list it was
  // computed from; unless the user confirmed the routes it makes invalid,
  // strictly, so a critical warning that arose since (another CA's ROAs,
  // a new BGP table) blocks it instead of passing unseen.
  apply.addEventListener('click', async () => {
    if (!etag) {
      fill(resultBox, h('div', { class: 'problem', role: 'alert' }, 'The ROA list has no ETag; reload the page.'));
      return;
    }
    const sent = { add: [...staged.add], remove: [...staged.remove] };
    const confirmed = confirm.checked;
    previewSeq += 1; // a dry run still in flight is stale now
    editor.disabled = true;
    apply.disabled = true;
    try {
      const r = await api('POST', `cas/${enc}/roas${confirmed ? '' : '?strict=true'}`, sent, { 'If-Match': etag });
      const done = r.json;
      staged.add = staged.add.filter((x) => !sent.add.some((y) => sameRoa(x, y)));
      staged.remove = staged.remove.filter((x) => !sent.remove.some((y) => sameRoa(x, y)));
      preview = null;
      await reloadCurrent();
      renderStaged();
      renderPreview();
      fill(resultBox, h('div', { class: 'notice', id: 'applied', role: 'status' },
        `Applied: ${done.added} added, ${done.removed} removed. Routers see the change after the next publication and validation.`));
    } catch (err) {
      if (err.status === 412) {
        await reloadCurrent();
        fill(resultBox, problemBox(err), h('p', {}, 'The ROAs of this CA changed meanwhile: the list above is current again and the preview is being recomputed. Apply again if the change still stands.'));
        dryRun();
      } else if (err.status === 422 && err.problem.warnings) {
        // Blocked by a critical warning the preview did not show.
        preview = err.problem;
        renderPreview();
        fill(resultBox, problemBox(err));
      } else {
        fill(resultBox, problemBox(err));
      }
    } finally {
      editor.disabled = false;
      refreshApply();
    }
  });

  const currentBox = h('div', { id: 'current' });
  async function reloadCurrent() {
    const r = await api('GET', `cas/${enc}/roas`);
    current.splice(0, current.length, ...r.json);
    etag = r.headers.get('ETag');
    renderCurrent();
  }
  function renderCurrent() {
    fill(currentBox, current.length ? table(['Origin', 'Prefix', 'maxLength', ''], current.map((r) => h('tr', {},
      h('td', {}, `AS${r.asn}`), h('td', { class: 'mono' }, r.prefix), h('td', {}, r.max_length ?? prefixLength(r.prefix)),
      h('td', {}, h('button', { type: 'button', class: 'danger', onclick: () => {
        if (!staged.remove.some((x) => sameRoa(x, r))) staged.remove.push({ asn: r.asn, prefix: r.prefix, max_length: r.max_length });
        changed();
      } }, 'Stage removal')))), 'current-roas') : h('p', { class: 'muted' }, 'No ROAs yet.'));
  }
  renderCurrent();
  renderStaged();

  // Every control of the editor, disabled as one while a change is applied.
  const editor = h('fieldset', { class: 'editor' },
    h('legend', { class: 'skip' }, `ROA changes for ${handle}`),
    h('h2', {}, 'Current ROAs'), currentBox,
    h('h2', {}, 'Stage a ROA'), addForm, addOut,
    h('h2', {}, 'Bulk: CSV'), csvForm,
    h('h2', {}, 'Staged changes'), stagedBox,
    previewBox,
    h('div', { class: 'actions' }, confirmLabel, apply));
  show(`ROAs of ${handle}`,
    h('p', {}, h('a', { href: `#/ca/${enc}` }, `← CA ${handle}`)),
    h('p', {}, 'Changes are staged here and checked as you stage them (a dry run: nothing is stored until you apply). ',
      'Warnings follow RFC 9319: prefer ROAs that list exactly the announced prefixes over a maxLength.'),
    editor, resultBox);
}

// ---------------------------------------------------------------- audit

async function auditView(params) {
  const fields = ['ca', 'actor', 'since', 'until', 'limit'];
  const inputs = Object.fromEntries(fields.map((f) => [f, h('input', { id: `audit-${f}`, name: f, value: params.get(f) || '', size: f === 'limit' ? 5 : 18 })]));
  const form = h('form', { class: 'inline', id: 'audit-filter', onsubmit: (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const f of fields) if (inputs[f].value.trim()) q.set(f, inputs[f].value.trim());
    location.hash = `#/audit?${q}`;
  } },
  h('label', {}, 'CA', inputs.ca), h('label', {}, 'Actor', inputs.actor),
  h('label', {}, 'Since (RFC 3339)', inputs.since), h('label', {}, 'Until', inputs.until),
  h('label', {}, 'At most', inputs.limit), h('button', { type: 'submit' }, 'Filter'));
  const q = new URLSearchParams();
  for (const f of fields) if (params.get(f)) q.set(f, params.get(f));
  const { json: entries } = await api('GET', `audit?${q}`);
  show('Audit log', form,
    entries.length ? table(['Time', 'Actor', 'Action', 'CA', 'Detail'], entries.map((e) => h('tr', {},
      h('td', {}, new Date(e.time * 1000).toISOString().replace('.000', '')), h('td', { class: 'mono' }, e.actor),
      h('td', {}, e.action), h('td', {}, e.ca ? h('a', { href: `#/ca/${encodeURIComponent(e.ca)}` }, e.ca) : ''),
      h('td', {}, e.detail))), 'audit-entries')
      : h('p', { class: 'muted' }, 'No entries match.'));
}

// ---------------------------------------------------------------- tokens

async function tokensView() {
  const { json: tokens } = await api('GET', 'tokens');
  const out = h('div', { 'aria-live': 'polite', id: 'token-out' });
  const role = h('select', { id: 'token-role' }, ['read-only', 'ca-operator', 'admin'].map((r) => h('option', { value: r }, r)));
  const cas = h('input', { id: 'token-cas', size: 24, placeholder: 'all CAs' });
  const description = h('input', { id: 'token-description', size: 30, required: true });
  const form = h('form', { class: 'inline', id: 'token-create', onsubmit: async (e) => {
    e.preventDefault();
    try {
      const body = { role: role.value, cas: cas.value.split(',').map((c) => c.trim()).filter(Boolean), description: description.value };
      const { json } = await api('POST', 'tokens', body);
      await tokensView();
      fill(document.getElementById('token-out'), h('div', { class: 'notice', role: 'status' },
        'New token (shown once; store it now): ', h('div', { class: 'token-once', id: 'new-token' }, json.token)));
    } catch (err) { fill(out, problemBox(err)); }
  } },
  h('label', {}, 'Role', role), h('label', {}, 'CAs (comma-separated)', cas), h('label', {}, 'Description', description),
  h('button', { type: 'submit', class: 'primary' }, 'Create token'));
  show('API tokens', h('h2', {}, 'New token'), form, out,
    h('h2', {}, 'Tokens'),
    table(['Id', 'Role', 'CAs', 'Description', 'Created', 'Revoked', ''], tokens.map((t) => h('tr', {},
      h('td', { class: 'mono' }, t.id), h('td', {}, t.role), h('td', {}, t.cas.join(', ') || 'all'),
      h('td', {}, t.description), h('td', {}, t.created), h('td', {}, t.revoked || ''),
      h('td', {}, t.revoked ? '' : h('button', { type: 'button', class: 'danger', onclick: async () => {
        if (!window.confirm(`Revoke token ${t.id}? Clients and sessions using it stop working at once.`)) return;
        try { await api('DELETE', `tokens/${encodeURIComponent(t.id)}`); await tokensView(); } catch (err) { fill(out, problemBox(err)); }
      } }, 'Revoke')))), 'tokens'));
}

// ---------------------------------------------------------------- start

(async () => {
  try {
    const r = await api('GET', '/ui/session');
    session = r.json;
    started();
  } catch (err) {
    signIn();
  }
})();
