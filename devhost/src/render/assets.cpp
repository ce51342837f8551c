// Inline assets of rendered pages. The script never inserts HTML: it reads data-* attributes the
// server escaped and writes only textContent and input values, so no string can become markup.
#include "render/assets.hpp"

namespace mdp::devhost::render {

const std::string_view kCss = R"CSS(
:root{--ink:#1d2733;--muted:#5b6778;--line:#d9dee5;--bg:#f5f7fa;--card:#fff;--brand:#0f6e8c;--brand-ink:#fff;
--ok:#17794a;--ok-bg:#e3f5eb;--warn:#8a5a00;--warn-bg:#fff4d6;--bad:#b3261e;--bad-bg:#fde8e6;--info:#1d5fa8;--info-bg:#e5f0fb;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;color:var(--ink);background:var(--bg)}
*{box-sizing:border-box}body{margin:0;font-size:15px;line-height:1.45}
a{color:var(--brand)}:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:#fff;padding:6px;z-index:10}
.topbar{display:flex;align-items:center;gap:16px;padding:10px 24px;background:var(--brand);color:var(--brand-ink)}
.brand{color:inherit;font-weight:700;text-decoration:none;font-size:17px}.clinic{opacity:.9}
.avatar-wrap{margin-left:auto;position:relative}
.avatar{display:flex;align-items:center;gap:8px;background:transparent;border:1px solid rgba(255,255,255,.5);color:inherit;border-radius:20px;padding:4px 12px 4px 4px;cursor:pointer;font:inherit}
.initials{display:inline-grid;place-items:center;width:28px;height:28px;border-radius:50%;background:#fff;color:var(--brand);font-weight:700;font-size:12px}
.menu{position:absolute;right:0;top:calc(100% + 6px);min-width:180px;margin:0;padding:6px 0;list-style:none;background:#fff;border:1px solid var(--line);border-radius:8px;box-shadow:0 8px 24px rgba(0,0,0,.15);z-index:5}
.menu a,.menu button{display:block;width:100%;text-align:left;padding:8px 14px;color:var(--ink);text-decoration:none;background:none;border:0;font:inherit;cursor:pointer}
.menu a:hover,.menu button:hover,.menu a:focus,.menu button:focus{background:var(--bg)}
.layout{display:flex;gap:24px;padding:24px;max-width:1440px;margin:0 auto}
.settings-nav{flex:0 0 190px}.nav-title{font-weight:700;font-size:18px;margin:0 0 12px}
.nav-section{text-transform:uppercase;font-size:12px;letter-spacing:.05em;color:var(--muted);margin:14px 0 4px}
.settings-nav ul{list-style:none;margin:0;padding:0}.settings-nav a{display:block;padding:6px 10px;border-radius:6px;text-decoration:none;color:var(--ink)}
.settings-nav a[aria-current=page]{background:#dcebf0;color:var(--brand);font-weight:600}
main{flex:1;min-width:0}main:focus{outline:none}
.page-head{display:flex;align-items:flex-start;gap:16px;margin-bottom:16px}.page-titles{flex:1}
h1{font-size:24px;margin:0 0 4px}.page-desc,.section-desc,.modal-desc{color:var(--muted);margin:0 0 8px}
.page-actions{display:flex;gap:8px}
.vm-section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:16px 20px;margin-bottom:16px}
.vm-section h2{font-size:17px;margin:0 0 6px}
.notice{border-radius:8px;padding:10px 14px;margin:0 0 14px;border:1px solid}.notice p{margin:2px 0}.notice-title{font-weight:600}
.tone-info.notice{background:var(--info-bg);border-color:#b8d3f1}.tone-success.notice{background:var(--ok-bg);border-color:#a8dcbf}
.tone-warning.notice{background:var(--warn-bg);border-color:#f0d48a}.tone-danger.notice{background:var(--bad-bg);border-color:#f1b5ae}
.empty-state{text-align:center;padding:36px 16px;border:2px dashed var(--line);border-radius:10px;background:var(--card)}
.empty-title{font-size:18px;margin:0 0 6px}.empty-state p{max-width:560px;margin:0 auto 14px;color:var(--muted)}
.table-wrap{overflow-x:auto}.vm-table{border-collapse:collapse;width:100%}
.vm-table{font-size:14px}.vm-table caption{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
.vm-table th,.vm-table td{text-align:left;vertical-align:top;padding:10px 8px;border-top:1px solid var(--line)}
.vm-table thead th{border-top:0;font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted)}
.vm-table tbody th{font-weight:400}.row-actions{width:1%;white-space:nowrap}.row-actions .btn{display:block;width:100%;margin:0 0 6px}
.stack>div+div{margin-top:4px}.vm-table .facts{display:block}.vm-table .facts div{margin-top:2px}
.text.tone-muted{color:var(--muted)}.text.tone-warning{color:var(--warn)}.text.tone-danger{color:var(--bad)}.text.tone-success{color:var(--ok)}
.badge{display:inline-flex;align-items:center;gap:4px;border-radius:12px;padding:1px 9px;font-size:13px;font-weight:600;background:#eceff3;color:#3b4654;margin:0 4px 2px 0;white-space:nowrap}
.badge.tone-success{background:var(--ok-bg);color:var(--ok)}.badge.tone-warning{background:var(--warn-bg);color:var(--warn)}
.badge.tone-danger{background:var(--bad-bg);color:var(--bad)}.badge.tone-info{background:var(--info-bg);color:var(--info)}
.icon{flex:none}time{border-bottom:1px dotted var(--muted);cursor:help;white-space:nowrap}
.facts{display:flex;flex-wrap:wrap;gap:4px 16px;margin:6px 0 0}.facts div{display:flex;gap:4px}.facts dt{color:var(--muted)}.facts dd{margin:0;font-weight:600}
.chart{display:flex;align-items:flex-end;gap:1px;height:44px;width:182px;padding:2px;border-bottom:1px solid var(--line);background:linear-gradient(#fafbfc,#fff)}
.bar{flex:1;min-height:1px;background:#c7d3de;border-radius:1px 1px 0 0}.bar.nonzero{background:var(--brand);min-height:2px}
.bar.tone-warning{background:#d98e04}.bar.tone-danger{background:var(--bad)}
.btn{font:inherit;font-size:14px;border:1px solid #b9c2cc;background:#fff;color:var(--ink);border-radius:7px;padding:6px 14px;cursor:pointer}
.btn:hover{background:#f0f3f6}.btn[disabled]{opacity:.55;cursor:not-allowed}
.btn-primary{background:var(--brand);border-color:var(--brand);color:#fff}.btn-primary:hover{background:#0c5b74}
.btn-danger{color:var(--bad);border-color:#e3a29c}.btn-danger:hover{background:var(--bad-bg)}
.btn-close{background:none;border:0;font-size:24px;line-height:1;cursor:pointer;color:var(--muted);padding:0 4px}
dialog.modal{border:0;border-radius:12px;padding:20px 24px;width:min(560px,calc(100vw - 32px));box-shadow:0 20px 60px rgba(0,0,0,.3);color:var(--ink)}
dialog::backdrop{background:rgba(20,30,40,.45)}
.modal-head{display:flex;align-items:flex-start;gap:12px}.modal-head h2{flex:1;font-size:19px;margin:0 0 8px}
.field{margin:0 0 14px;border:0;padding:0}.field>label,.field legend{display:block;font-weight:600;margin-bottom:4px;padding:0}
.field input[type=text],.field input[type=email],.field input[type=password]{width:100%;font:inherit;padding:7px 10px;border:1px solid #b9c2cc;border-radius:7px}
.hint{color:var(--muted);font-size:13px;margin:4px 0 0}
.option{display:grid;grid-template-columns:auto 1fr;gap:0 8px;padding:6px 0}.option input{margin-top:4px}.option label{font-weight:600}
.option-desc,.option-warn{grid-column:2;margin:0;font-size:13px}.option-desc{color:var(--muted)}
.option-warn{color:var(--warn);display:flex;gap:4px;align-items:flex-start}.option-warn .icon{margin-top:2px}
.form-error{color:var(--bad);background:var(--bad-bg);border-radius:6px;padding:6px 10px}
.form-actions{display:flex;justify-content:flex-end;gap:8px;margin-top:8px}
.secret-box{display:flex;gap:8px;margin:10px 0}
#mdp-secret{width:min(700px,calc(100vw - 32px))}
.secret-box input{flex:1;min-width:0;font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:13px;line-height:1.6;padding:6px 8px;border:1px solid #b9c2cc;border-radius:7px;background:#f8fafb}
.copy-status{min-height:1.4em;color:var(--ok);font-size:13px;margin:0}
.index-list{margin:0;padding-left:18px}
.login-body{display:grid;place-items:center;min-height:100vh}
.login{background:#fff;border:1px solid var(--line);border-radius:12px;padding:28px;width:min(420px,calc(100vw - 32px))}
.login h1{color:var(--brand)}
)CSS";

const std::string_view kDialogs = R"HTML(<dialog class="modal" id="mdp-confirm" aria-modal="true" aria-labelledby="mdp-confirm-title" aria-describedby="mdp-confirm-text">
<div class="modal-head"><h2 id="mdp-confirm-title">Are you sure?</h2></div><p id="mdp-confirm-text"></p>
<div class="form-actions"><button type="button" class="btn" id="mdp-confirm-cancel">Cancel</button><button type="button" class="btn btn-primary" id="mdp-confirm-ok">Confirm</button></div></dialog>
<dialog class="modal" id="mdp-secret" aria-modal="true" aria-labelledby="mdp-secret-title" aria-describedby="mdp-secret-warning">
<div class="modal-head"><h2 id="mdp-secret-title">Copy your new secret</h2></div>
<div class="notice tone-warning"><p id="mdp-secret-warning"></p></div>
<label for="mdp-secret-value" class="hint">Secret</label>
<div class="secret-box"><input type="text" id="mdp-secret-value" readonly spellcheck="false" autocomplete="off"><button type="button" class="btn btn-primary" id="mdp-secret-copy">Copy</button></div>
<p class="copy-status" id="mdp-secret-status" aria-live="polite"></p>
<div class="form-actions"><button type="button" class="btn" id="mdp-secret-close">I have stored it safely — close</button></div></dialog>)HTML";

const std::string_view kJs = R"JS(
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.content : '';
  var DEFAULT_WARNING = 'This is the only time it is shown: it cannot be shown again. ' +
    'Share it through a password manager or an encrypted note, not email or chat.';
  function byId(id) { return document.getElementById(id); }

  // Dialogs: native <dialog> gives the focus trap, Escape and the inert backdrop; we return focus
  // to whatever opened it.
  function openDialog(d, opener) {
    d._opener = opener || document.activeElement;
    if (!d.open) d.showModal();
    var first = d.querySelector('input:not([type=hidden]):not([disabled]):not([readonly]), select, textarea');
    if (first) first.focus();
  }
  function closeDialog(d) { if (d && d.open) d.close(); }
  document.addEventListener('close', function (e) {
    var d = e.target;
    if (d && d._opener && document.contains(d._opener) && d._opener.focus) d._opener.focus();
  }, true);

  function showError(el, message) {
    if (!el) el = byId('mdp-flash');
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    if (el.scrollIntoView) el.scrollIntoView({block: 'nearest'});
  }
  function clearError(el) { if (el) { el.textContent = ''; el.hidden = true; } }

  // The host's confirmation dialog (never window.confirm: it names the thing and is styled).
  function confirmDialog(text, okLabel) {
    return new Promise(function (resolve) {
      var d = byId('mdp-confirm'), ok = byId('mdp-confirm-ok'), cancel = byId('mdp-confirm-cancel');
      byId('mdp-confirm-text').textContent = text;
      ok.textContent = okLabel || 'Confirm';
      var settled = false;
      function done(v) {
        if (settled) return;
        settled = true;
        ok.onclick = cancel.onclick = d.onclose = null;
        closeDialog(d);
        resolve(v);
      }
      ok.onclick = function () { done(true); };
      cancel.onclick = function () { done(false); };
      d.onclose = function () { done(false); };
      openDialog(d);
      cancel.focus();
    });
  }

  function dig(obj, path) {
    return String(path).split('.').reduce(function (o, k) {
      return o !== null && typeof o === 'object' ? o[k] : undefined;
    }, obj);
  }

  // The one-time secret: shown from the action's response only, wiped and the page reloaded on close.
  function showSecret(spec, data) {
    var value = dig(data, spec.field);
    if (typeof value !== 'string' || value === '') {
      showError(null, 'The action succeeded but returned nothing to show.');
      return;
    }
    var d = byId('mdp-secret'), input = byId('mdp-secret-value');
    byId('mdp-secret-title').textContent = spec.title || 'Copy your new secret';
    byId('mdp-secret-warning').textContent = spec.warning || DEFAULT_WARNING;
    byId('mdp-secret-status').textContent = '';
    input.value = value;
    d.onclose = function () { input.value = ''; d.onclose = null; location.reload(); };
    openDialog(d);
    input.focus();
    input.select();
  }
  byId('mdp-secret-copy').addEventListener('click', function () {
    var input = byId('mdp-secret-value'), status = byId('mdp-secret-status');
    function fallback() {
      input.focus(); input.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      status.textContent = ok ? 'Copied to the clipboard.' : 'Select the key and copy it with Ctrl+C.';
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(function () {
        status.textContent = 'Copied to the clipboard.';
      }, fallback);
    } else {
      fallback();
    }
  });
  byId('mdp-secret-close').addEventListener('click', function () { closeDialog(byId('mdp-secret')); });

  function send(method, url, body) {
    return fetch(url, {
      method: method,
      credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json', 'X-CSRF-Token': csrf},
      body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        return {ok: r.ok, status: r.status, data: data};
      });
    });
  }
  function errorMessage(res) {
    if (res.data && res.data.error && typeof res.data.error.message === 'string') return res.data.error.message;
    if (res.status === 401) return 'Your session has ended. Log in again.';
    if (res.status === 403) return 'You do not have permission to do this.';
    return 'The request failed (HTTP ' + res.status + '). Nothing was changed.';
  }
  function parseData(el, name) {
    var raw = el.getAttribute('data-' + name);
    if (raw === null) return null;
    try { return JSON.parse(raw); } catch (e) { return null; }
  }

  // Runs an action: confirm, send, then show the secret or reload so the page is rebuilt.
  function run(el, body, opener, errorEl) {
    var confirmText = el.getAttribute('data-confirm');
    var asked = confirmText ? confirmDialog(confirmText, opener.textContent) : Promise.resolve(true);
    return asked.then(function (go) {
      if (!go) return;
      clearError(errorEl);
      opener.disabled = true;
      return send(el.getAttribute('data-method'), el.getAttribute('data-url'), body).then(function (res) {
        opener.disabled = false;
        if (!res.ok) { showError(errorEl, errorMessage(res)); return; }
        var own = opener.closest('dialog');
        if (own) { own._opener = null; closeDialog(own); }
        var secret = parseData(el, 'secret');
        if (secret) showSecret(secret, res.data); else location.reload();
      });
    }).catch(function () {
      opener.disabled = false;
      showError(errorEl, 'The host could not be reached. Nothing was changed.');
    });
  }

  document.addEventListener('click', function (e) {
    var t = e.target.closest('button');
    if (!t) return;
    if (t.hasAttribute('data-opens')) {
      var d = byId(t.getAttribute('data-opens'));
      if (d) openDialog(d, t);
    } else if (t.hasAttribute('data-close')) {
      closeDialog(t.closest('dialog'));
    } else if (t.hasAttribute('data-action')) {
      run(t, parseData(t, 'body') || {}, t, null);
    } else if (t.hasAttribute('data-logout')) {
      send('POST', '/logout', {}).then(function () { location.href = '/login'; },
                                       function () { location.href = '/login'; });
    }
  });

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains('vm-form') || !form.hasAttribute('data-url')) return;
    e.preventDefault();
    var errorEl = form.querySelector('.form-error');
    var body = parseData(form, 'body') || {};
    var fields = form.querySelectorAll('[data-field]');
    for (var i = 0; i < fields.length; i++) {
      var f = fields[i], name = f.getAttribute('data-field'), kind = f.getAttribute('data-kind');
      if (kind === 'text') {
        body[name] = f.value;
      } else if (kind === 'multi') {
        var values = [];
        f.querySelectorAll('input:checked').forEach(function (c) { values.push(parseData(c, 'value')); });
        var min = parseInt(f.getAttribute('data-min') || '0', 10);
        if (values.length < min) {
          var legend = f.querySelector('legend');
          showError(errorEl, 'Choose at least ' + min + ' in "' + (legend ? legend.textContent : name) + '".');
          return;
        }
        body[name] = values;
      } else if (kind === 'single') {
        var chosen = f.querySelector('input:checked');
        var v = chosen ? parseData(chosen, 'value') : null;
        if (v === null) delete body[name]; else body[name] = v;
      }
    }
    run(form, body, form.querySelector('button[type=submit]'), errorEl);
  });

  // Avatar menu: a disclosure with menu semantics; Escape closes, arrows move.
  var avatar = byId('avatar-button'), menu = byId('avatar-menu');
  if (avatar && menu) {
    var items = function () { return Array.prototype.slice.call(menu.querySelectorAll('[role=menuitem]')); };
    var setMenu = function (open, focusFirst) {
      menu.hidden = !open;
      avatar.setAttribute('aria-expanded', String(open));
      if (open && focusFirst) items()[0].focus();
    };
    avatar.addEventListener('click', function () { setMenu(menu.hidden, false); });
    avatar.addEventListener('keydown', function (e) {
      if (e.key === 'ArrowDown') { e.preventDefault(); setMenu(true, true); }
    });
    menu.addEventListener('keydown', function (e) {
      var list = items(), i = list.indexOf(document.activeElement);
      if (e.key === 'Escape') { setMenu(false); avatar.focus(); }
      else if (e.key === 'ArrowDown') { e.preventDefault(); list[(i + 1) % list.length].focus(); }
      else if (e.key === 'ArrowUp') { e.preventDefault(); list[(i - 1 + list.length) % list.length].focus(); }
    });
    document.addEventListener('click', function (e) {
      if (!menu.hidden && !e.target.closest('.avatar-wrap')) setMenu(false);
    });
  }
})();
)JS";

const std::string_view kLoginJs = R"JS(
(function () {
  'use strict';
  var form = document.getElementById('login-form');
  var errorEl = form.querySelector('.form-error');
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    errorEl.hidden = true;
    fetch('/login', {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'Accept': 'application/json'},
      body: JSON.stringify({email: form.email.value, password: form.password.value})
    }).then(function (r) {
      if (r.ok) { location.href = form.getAttribute('data-next') || '/settings'; return; }
      errorEl.textContent = r.status === 401 ? 'Wrong email or password.' : 'Could not log in (HTTP ' + r.status + ').';
      errorEl.hidden = false;
    }, function () {
      errorEl.textContent = 'The host could not be reached.';
      errorEl.hidden = false;
    });
  });
})();
)JS";

}  // namespace mdp::devhost::render
