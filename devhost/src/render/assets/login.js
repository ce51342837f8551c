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
