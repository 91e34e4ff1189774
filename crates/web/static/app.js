// Small enhancements; every page works without them.
(function () {
  // Search as you type on the customer directory: fetch the same page's
  // rows and replace them, keeping the URL in step.
  var form = document.querySelector('form[data-live-search]');
  if (form) {
    var input = form.querySelector('input[name="q"]');
    var target = document.getElementById(form.getAttribute('data-live-search'));
    var timer = null, latest = 0;
    var refresh = function () {
      var params = new URLSearchParams(new FormData(form));
      var url = form.getAttribute('action') + '?' + params.toString();
      var ticket = ++latest;
      fetch(url + '&partial=rows', { headers: { 'Accept': 'text/html' }, credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          if (html === null || ticket !== latest) return;
          target.innerHTML = html;
          history.replaceState(null, '', url);
        });
    };
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(refresh, 200); });
    form.querySelectorAll('select').forEach(function (s) { s.addEventListener('change', refresh); });
  }
})();

// Drag and drop onto an upload form: the dropped files go into its file
// input (the plain input works without this).
(function () {
  document.querySelectorAll('form[data-drop]').forEach(function (form) {
    var input = form.querySelector('input[type="file"]');
    if (!input) return;
    ['dragenter', 'dragover'].forEach(function (name) {
      form.addEventListener(name, function (e) { e.preventDefault(); form.classList.add('dropping'); });
    });
    ['dragleave', 'drop'].forEach(function (name) {
      form.addEventListener(name, function () { form.classList.remove('dropping'); });
    });
    form.addEventListener('drop', function (e) {
      e.preventDefault();
      if (!e.dataTransfer || !e.dataTransfer.files.length) return;
      input.files = e.dataTransfer.files;
      input.dispatchEvent(new Event('change'));
    });
  });
})();

// A portal link's path becomes the whole address, and Copy copies it.
(function () {
  document.querySelectorAll('input[data-absolute]').forEach(function (input) {
    if (input.value.charAt(0) === '/') input.value = window.location.origin + input.value;
  });
  document.querySelectorAll('button[data-copy]').forEach(function (button) {
    button.addEventListener('click', function () {
      var input = document.getElementById(button.getAttribute('data-copy'));
      input.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value); } else { document.execCommand('copy'); }
      button.textContent = 'Copied';
    });
  });
})();

// The SMS form's text shows its length as a gateway sends it, counted as
// the server counts it (dossier_domain::sending::sms): GSM-7 — 160 septets
// in one segment, else 153 a segment, the extension characters ^{}\[~]|€
// counting two — or, with any other character, UCS-2: 70 UTF-16 units,
// else 67 a segment. The Review page shows the server's count.
(function () {
  var form = document.querySelector('form[action$="/sms"]');
  var text = form && form.querySelector('textarea[name="body"]');
  if (!text) return;
  var basic = '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
  var extension = '^{}\\[~]|€';
  var counter = document.createElement('span');
  counter.className = 'muted sms-counter';
  counter.setAttribute('aria-live', 'polite');
  text.insertAdjacentElement('afterend', counter);
  var count = function () {
    var body = text.value.replace(/\r\n?/g, '\n').trim(), septets = 0, gsm = true;
    for (var c of body) {
      if (basic.indexOf(c) >= 0) { septets += 1; } else if (extension.indexOf(c) >= 0) { septets += 2; } else { gsm = false; break; }
    }
    var units = gsm ? septets : body.length;
    var one = gsm ? 160 : 70, many = gsm ? 153 : 67;
    var segments = units === 0 ? 0 : units <= one ? 1 : Math.ceil(units / many);
    counter.textContent = units + (gsm ? ' GSM-7 characters' : ' UCS-2 units') + ' · ' + segments + ' segment' + (segments === 1 ? '' : 's') + (segments > 10 ? ' (at most 10)' : '');
  };
  text.addEventListener('input', count);
  count();
})();
