// Baton inbox: live updates for the server-rendered pages, which work
// without this script. It follows /inbox/events (server-sent events; the
// browser's EventSource reconnects on its own) and, when what the page shows
// has changed, fetches the page's parts again (the elements with data-part,
// each naming the URL of its HTML) and puts them in place, keeping the
// keyboard focus where it was. It keeps the title's "(N) " badge current.
(function () {
  'use strict';

  var body = document.body;
  var base = body.getAttribute('data-title') || document.title;
  var version = body.getAttribute('data-v') || '';
  var handoff = body.getAttribute('data-handoff') || '';
  var parts = Array.prototype.slice.call(document.querySelectorAll('[data-part]'));
  var last = new Map(); // part → the HTML last put in it

  function setTitle(n) {
    document.title = (n > 0 ? '(' + n + ') ' : '') + base;
  }

  function signedOut() {
    var next = location.pathname === '/inbox/' ? '' : '&next=' + encodeURIComponent(location.pathname);
    location.assign('/inbox/signin?ended=1' + next);
  }

  function announce(text) {
    var el = document.getElementById('announce');
    if (el) {
      el.textContent = text;
    }
  }

  // localTimes shows <time> elements in the reader's own zone.
  function localTimes(root) {
    var times = root.querySelectorAll('.msg time, .facts time');
    for (var i = 0; i < times.length; i++) {
      var d = new Date(times[i].getAttribute('datetime'));
      if (!isNaN(d.getTime())) {
        times[i].textContent = d.toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'});
      }
    }
  }

  // syncReply shows the reply form only while the agent may reply.
  function syncReply() {
    var form = document.getElementById('reply');
    var c = document.querySelector('#case [data-can-reply]');
    if (form && c) {
      form.hidden = c.getAttribute('data-can-reply') !== 'true';
    }
  }

  function count(el) {
    var c = el.querySelector('[data-messages]');
    return c ? Number(c.getAttribute('data-messages')) : 0;
  }

  function refresh(el) {
    return fetch(el.getAttribute('data-part'), {credentials: 'same-origin', cache: 'no-store', headers: {Accept: 'text/html'}})
      .then(function (res) {
        if (res.status === 401) {
          signedOut();
          return null;
        }
        return res.ok ? res.text() : null;
      })
      .then(function (html) {
        if (html === null || html === last.get(el)) {
          return;
        }
        last.set(el, html);
        var active = document.activeElement;
        var focused = active && el.contains(active) ? active.id : '';
        var before = count(el);
        el.innerHTML = html;
        if (focused) {
          var f = document.getElementById(focused);
          if (f) {
            f.focus();
          }
        }
        localTimes(el);
        syncReply();
        typing();
        var after = count(el);
        if (after > before) {
          read();
          var msgs = el.querySelectorAll('.msg');
          var newest = msgs[msgs.length - 1];
          if (newest) {
            var who = newest.querySelector('.author');
            announce('New message' + (who ? ' from ' + who.textContent : ''));
            newest.scrollIntoView({block: 'nearest'});
          }
        }
      })
      .catch(function () { /* offline for a moment: the next update tries again */ });
  }

  function refreshAll() {
    return Promise.all(parts.map(refresh));
  }

  function connect() {
    var es = new EventSource('/inbox/events' + (handoff ? '?handoff=' + encodeURIComponent(handoff) : ''));
    es.addEventListener('update', function (e) {
      var d;
      try {
        d = JSON.parse(e.data);
      } catch (err) {
        return;
      }
      setTitle(d.waiting);
      if (d.v !== version) {
        version = d.v;
        refreshAll();
      }
    });
    es.addEventListener('signout', function () {
      es.close();
      signedOut();
    });
    es.addEventListener('error', function () {
      if (es.readyState === EventSource.CLOSED) {
        // Refused (signed out: a part's fetch says 401 and leaves) or the
        // server is away: try again in a while.
        setTimeout(function () { refreshAll().then(connect); }, 3000);
      }
    });
  }

  // post sends a small form of the page's (typing, read) with its CSRF
  // token; a refusal changes nothing on the page.
  function post(path) {
    var token = document.querySelector('#reply input[name=csrf]');
    if (!handoff || !token) {
      return;
    }
    fetch('/inbox/handoffs/' + encodeURIComponent(handoff) + '/' + path, {
      method: 'POST', credentials: 'same-origin',
      headers: {'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'csrf=' + encodeURIComponent(token.value)
    }).catch(function () { /* offline: the next keystroke tries again */ });
  }

  // The customer's side hears that the agent types (at most every 3 s)…
  var typedAt = 0;
  var text = document.getElementById('reply-text');
  if (text) {
    text.addEventListener('input', function () {
      if (Date.now() - typedAt > 3000) {
        typedAt = Date.now();
        post('typing');
      }
    });
  }
  // …and has read its messages, when the agent holds the chat and the
  // page is in view (the server tells only of messages not read before).
  function read() {
    var c = document.querySelector('#case [data-mine]');
    if (c && c.getAttribute('data-mine') === 'true' && document.visibilityState === 'visible') {
      post('read');
    }
  }
  document.addEventListener('visibilitychange', read);

  // The customer's "is typing" line goes when its time is up.
  function typing() {
    var t = document.getElementById('typing');
    if (t) {
      setTimeout(function () { t.hidden = true; }, Math.max(0, Number(t.getAttribute('data-until')) - Date.now()));
    }
  }

  // A form's button is disabled once sent, so that a second click waits.
  document.addEventListener('submit', function (e) {
    var b = e.target.querySelector('button[type=submit]');
    if (b) {
      setTimeout(function () { b.disabled = true; }, 0);
    }
  });
  // A page restored from the back/forward cache gets its buttons back.
  window.addEventListener('pageshow', function (e) {
    if (e.persisted) {
      var bs = document.querySelectorAll('button[disabled]');
      for (var i = 0; i < bs.length; i++) {
        bs[i].disabled = false;
      }
    }
  });

  localTimes(document);
  typing();
  read();
  if (body.hasAttribute('data-live')) {
    connect();
    // Wait times grow with no change in the store: refresh them now and then.
    setInterval(refreshAll, 30000);
  }
})();
