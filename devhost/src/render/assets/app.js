// The settings pages' script, served as /assets/app.js (no inline script: a strict CSP holds).
// It never inserts HTML: it reads data-* attributes the server escaped and writes only
// textContent and input values, so no string from a view model can become markup.
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
  // `style` 'danger' paints the confirming button red (revoke, cancel an addon, lose a key).
  function confirmDialog(text, okLabel, cancelLabel, style) {
    return new Promise(function (resolve) {
      var d = byId('mdp-confirm'), ok = byId('mdp-confirm-ok'), cancel = byId('mdp-confirm-cancel');
      byId('mdp-confirm-text').textContent = text;
      ok.textContent = okLabel || 'Confirm';
      cancel.textContent = cancelLabel || 'Cancel';
      ok.className = 'btn ' + (style === 'danger' ? 'btn-danger-solid' : 'btn-primary');
      var settled = false;
      function done(v) {
        if (settled) return;
        settled = true;
        ok.onclick = cancel.onclick = d.onclose = d.oncancel = null;
        closeDialog(d);
        resolve(v);
      }
      ok.onclick = function () { done(true); };
      cancel.onclick = function () { done(false); };
      d.onclose = function () { done(false); };
      // Escape: settle now, not on the close event a task later, so a key pressed right after
      // finds the question answered.
      d.oncancel = function () { done(false); };
      openDialog(d);
      cancel.focus();
    });
  }

  function dig(obj, path) {
    return String(path).split('.').reduce(function (o, k) {
      return o !== null && typeof o === 'object' ? o[k] : undefined;
    }, obj);
  }

  // The one-time secret: shown from the action's response only, wiped and the page reloaded on
  // close. Closing it before the key was copied (Escape, the close button, a click on the
  // backdrop) asks first: a key nobody copied stays active with nobody holding it.
  var secretState = {copied: false, closing: false};
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
    secretState.copied = false;
    secretState.closing = false;
    input.value = value;
    d.onclose = function () {
      // Chromium may close a modal on a repeated Escape without a cancelable event: reopen it
      // unless the close was confirmed, so the key is never lost by accident.
      if (!secretState.closing) { d.showModal(); requestSecretClose(); return; }
      input.value = ''; d.onclose = null; location.reload();
    };
    openDialog(d);
    input.focus();
    input.select();
  }
  function requestSecretClose() {
    var d = byId('mdp-secret');
    if (!d.open || secretState.asking) return;
    if (secretState.copied) { secretState.closing = true; d.close(); return; }
    secretState.asking = true;
    confirmDialog('You have not copied the key. If you close now, it cannot be shown again: the key stays ' +
                  'active but nobody holds it, and you will have to revoke it and generate a new one.',
                  'Close without copying', 'Keep the key open', 'danger').then(function (close) {
      secretState.asking = false;
      if (close) { secretState.closing = true; d.close(); }
      else byId('mdp-secret-copy').focus();
    });
  }
  byId('mdp-secret').addEventListener('cancel', function (e) { e.preventDefault(); requestSecretClose(); });
  byId('mdp-secret').addEventListener('keydown', function (e) {
    if (e.key === 'Escape') { e.preventDefault(); requestSecretClose(); }
  });
  // A click on the backdrop lands on the <dialog> itself, outside its content box.
  byId('mdp-secret').addEventListener('click', function (e) {
    var d = e.currentTarget, r = d.getBoundingClientRect();
    if (e.target === d && (e.clientX < r.left || e.clientX > r.right || e.clientY < r.top || e.clientY > r.bottom))
      requestSecretClose();
  });
  byId('mdp-secret-value').addEventListener('copy', function () { secretState.copied = true; });
  byId('mdp-secret-copy').addEventListener('click', function () {
    var input = byId('mdp-secret-value'), status = byId('mdp-secret-status');
    function fallback() {
      input.focus(); input.select();
      var ok = false;
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      if (ok) secretState.copied = true;
      status.textContent = ok ? 'Copied to the clipboard.' : 'Select the key and copy it with Ctrl+C.';
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(input.value).then(function () {
        secretState.copied = true;
        status.textContent = 'Copied to the clipboard.';
      }, fallback);
    } else {
      fallback();
    }
  });
  byId('mdp-secret-close').addEventListener('click', requestSecretClose);

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
    var danger = opener.classList.contains('btn-danger') || el.getAttribute('data-style') === 'danger';
    var asked = confirmText ? confirmDialog(confirmText, opener.textContent, null, danger ? 'danger' : null)
                            : Promise.resolve(true);
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

  // An option's own input is usable only while its option is chosen.
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t || t.type !== 'radio') return;
    var set = t.closest('fieldset');
    if (!set) return;
    set.querySelectorAll('[data-option-input]').forEach(function (input) {
      var option = byId(input.getAttribute('data-option-input'));
      input.disabled = !(option && option.checked);
      if (option === t && !input.disabled) input.focus();
    });
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
      if (kind === 'text' || kind === 'textarea') {
        body[name] = f.value;
      } else if (kind === 'list') {
        body[name] = f.value.split(/[\s,]+/).filter(function (x) { return x !== ''; });
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
        // An option with its own input (e.g. "On a date"): that input's value is the answer.
        var own = chosen ? f.querySelector('[data-option-input="' + chosen.id + '"]') : null;
        if (own) {
          if (!own.value || !own.checkValidity()) {
            var lab = f.querySelector('label[for="' + own.id + '"]');
            showError(errorEl, 'Enter a valid date in "' + (lab ? lab.textContent : name) + '".');
            own.focus();
            return;
          }
          v = own.value;
        }
        if (v === null && !f.hasAttribute('data-send-null')) delete body[name]; else body[name] = v;
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
