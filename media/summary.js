// Flowstate summary webview: renders the data the extension posts; links and plot clicks
// post {type:'reveal', line} back. Colours come from the theme's CSS variables.
(function () {
  const vscode = acquireVsCodeApi();
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
  const fmtMs = (ms) => (ms >= 10000 ? (ms / 1000).toFixed(1) + ' s' : Math.round(ms) + ' ms');
  const fmtBytes = (b) => (b >= 1 << 20 ? (b / (1 << 20)).toFixed(2) + ' MiB' : b >= 1024 ? (b / 1024).toFixed(1) + ' KiB' : b + ' B');

  function reveal(line, column) { vscode.postMessage({ type: 'reveal', line, column }); }

  function plot(data) {
    const prof = data.summary.profile;
    const el = $('plot');
    if (!prof.length) { el.textContent = 'No profile yet.'; return; }
    const W = 1000, H = 160, pad = 4;
    const n = data.lineCount || prof[prof.length - 1].endLine + 1;
    const imp = prof.map((p) => p.importance), sur = prof.map((p) => p.surprisal);
    const norm = (vals) => { const lo = Math.min(...vals), hi = Math.max(...vals); return vals.map((v) => (hi > lo ? (v - lo) / (hi - lo) : 0.5)); };
    const ni = norm(imp), ns = norm(sur);
    const x = (line) => pad + ((W - 2 * pad) * line) / Math.max(1, n - 1);
    const y = (v) => H - pad - v * (H - 2 * pad);
    const path = (vals) => prof.map((p, i) => `${i ? 'L' : 'M'}${x((p.startLine + p.endLine) / 2).toFixed(1)},${y(vals[i]).toFixed(1)}`).join(' ');
    const marks = data.summary.lines.map((l) => `<line class="mark" x1="${x(l.line)}" x2="${x(l.line)}" y1="${H - pad}" y2="${H - pad - 10}"><title>line ${l.line + 1}</title></line>`).join('');
    el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" id="plotsvg">
      <path class="imp" d="${path(ni)}"/><path class="sur" d="${path(ns)}"/>${marks}
      <line id="cursor" class="cursor" x1="-10" x2="-10" y1="0" y2="${H}"/></svg>
      <div class="axis"><span>line 1</span><span>line ${n}</span></div>`;
    const svg = $('plotsvg');
    const lineAt = (ev) => { const r = svg.getBoundingClientRect(); return Math.max(0, Math.min(n - 1, Math.round(((ev.clientX - r.left) / r.width) * (n - 1)))); };
    svg.addEventListener('mousemove', (ev) => {
      const l = lineAt(ev); const c = $('cursor'); c.setAttribute('x1', x(l)); c.setAttribute('x2', x(l));
      const b = prof.find((p) => l >= p.startLine && l <= p.endLine);
      svg.setAttribute('data-tip', b ? `line ${l + 1}: importance ${b.importance.toFixed(2)}, surprise ${b.surprisal.toFixed(2)} bits` : '');
      $('plot').title = svg.getAttribute('data-tip');
    });
    svg.addEventListener('click', (ev) => reveal(lineAt(ev)));
  }

  function render(data) {
    const s = data.summary;
    $('title').textContent = data.file;
    $('status').textContent = `Updated ${data.updatedAt}`;
    $('progress').hidden = true;
    $('hint').hidden = true;
    $('content').hidden = false;
    $('stats').innerHTML = [
      ['bits per byte', s.bitsPerByte.toFixed(3)],
      ['tokens', s.tokens.toLocaleString()],
      ['size', `${fmtBytes(data.bytes)}, ${data.lineCount.toLocaleString()} lines`],
      ['reading', data.msRead > 50 ? `${fmtMs(data.msRead)} (${Math.round(s.tokens / (data.msRead / 1000)).toLocaleString()} tokens/s)` : 'done before'],
      ['ready in', fmtMs(data.msTotal)],
      ['model', `${data.model} (${data.provider.toUpperCase()})`],
    ].map(([k, v]) => `<div class="stat"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div></div>`).join('');
    plot(data);
    // bar length: the line's score between the lowest and the highest key line's
    const lo = Math.min(...s.lines.map((l) => l.score)), hi = Math.max(...s.lines.map((l) => l.score));
    const barW = (v) => Math.round(6 + (34 * (hi > lo ? (v - lo) / (hi - lo) : 1)));
    $('lines').innerHTML = s.lines.map((l) =>
      `<li><a href="#" class="ln" data-line="${l.line}" data-col="${l.column ?? 0}" title="go to line ${l.line + 1}${l.column === undefined ? '' : `, column ${l.column + 1}`}">${l.line + 1}${l.column === undefined ? '' : `:${l.column + 1}`}</a>` +
      `<span class="barbox" title="importance ${l.score.toFixed(2)}"><span class="bar" data-w="${barW(l.score)}"></span></span>` +
      `<code>${esc(l.text.trim().slice(0, 200))}</code></li>`).join('') || '<li class="empty">No lines.</li>';
    $('symbols').innerHTML = data.symbols.map((y) =>
      `<li><a href="#" class="ln" data-line="${y.line}" title="go to line ${y.line + 1}">${y.line + 1}</a>` +
      `<span class="kind">${esc(y.kind)}</span> <code>${esc(y.name)}</code> <span class="score">${y.score.toFixed(2)}</span></li>`).join('') ||
      '<li class="empty">No symbols from the language service.</li>';
    // widths through the CSSOM: the CSP (no 'unsafe-inline') drops style="" attributes
    for (const b of document.querySelectorAll('.bar[data-w]')) b.style.width = `${b.dataset.w}px`;
    for (const a of document.querySelectorAll('a.ln')) a.addEventListener('click', (ev) => { ev.preventDefault(); reveal(Number(a.dataset.line), Number(a.dataset.col || 0)); });
  }

  window.addEventListener('message', (ev) => {
    const m = ev.data;
    if (m.type === 'data') { vscode.setState(m.data); render(m.data); }
    else if (m.type === 'status') {
      $('status').textContent = m.text;
      if (!/^Reading/.test(m.text)) { $('progress').hidden = true; $('hint').hidden = true; }
    }
    else if (m.type === 'progress') {
      // a bar while the file is read; the last summary (if any) stays visible under it
      $('status').textContent = m.text;
      $('progress').hidden = false;
      $('hint').hidden = !$('content').hidden;
      $('fill').style.width = `${m.pct}%`;
    }
  });
  $('refresh').addEventListener('click', () => vscode.postMessage({ type: 'refresh' }));
  const prev = vscode.getState();
  if (prev) render(prev);
  vscode.postMessage({ type: 'ready' });
})();
