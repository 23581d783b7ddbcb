// Baton's customer chat widget, for the demo bot (or any bot serving the
// same small API). One tag on a page:
//
//   <script src="https://BATON/static/widget.js" data-bot="https://BOT/chat"></script>
//
// It adds a chat button and box, styled by widget.css (loaded from beside
// this script: no inline style, no inline script), and talks to the bot's
// /chat/{conversation}/… endpoint; everything it shows comes from the bot's
// event stream. window.ChatBot.setEmail("…") or ?email= in the page's
// address give the customer's email; it is asked for only when the desk
// needs one and none is known.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.dataset.bot) { return; }
  var bot = script.dataset.bot.replace(/\/+$/, "");
  var pending = window.ChatBot && window.ChatBot.email;
  var email = pending || new URLSearchParams(location.search).get("email") || "";

  var conv;
  try { conv = sessionStorage.getItem("baton-chat-id"); } catch (e) { conv = null; }
  if (!conv) {
    var a = new Uint8Array(12);
    crypto.getRandomValues(a);
    conv = Array.prototype.map.call(a, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    try { sessionStorage.setItem("baton-chat-id", conv); } catch (e) { /* private mode: a new chat per page */ }
  }
  var base = bot + "/" + encodeURIComponent(conv);

  var css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = new URL("widget.css", script.src).href;
  document.head.appendChild(css);

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text) { e.textContent = text; }
    return e;
  }
  function button(text, cls) {
    var b = el("button", cls, text);
    b.type = "button";
    return b;
  }

  var root = el("div", "baton-chat");
  var open = button("Chat with us", "baton-chat-open");
  open.setAttribute("aria-expanded", "false");
  open.setAttribute("aria-controls", "baton-chat-box");
  var box = el("section", "baton-chat-box");
  box.id = "baton-chat-box";
  box.setAttribute("aria-label", "Chat");
  box.hidden = true;
  var head = el("header", "baton-chat-head");
  head.appendChild(el("h2", "baton-chat-title", "Chat"));
  var close = button("Close", "baton-chat-close");
  close.setAttribute("aria-label", "Close the chat");
  head.appendChild(close);
  var status = el("p", "baton-chat-status");
  status.setAttribute("role", "status");
  var typingLine = el("p", "baton-chat-typing");
  typingLine.hidden = true;
  var typingTimer = null;
  var log = el("ol", "baton-chat-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-label", "Messages");
  log.tabIndex = 0;

  var actions = el("div", "baton-chat-actions");
  var human = button("Talk to a person", "baton-chat-human");
  var keep = button("Keep waiting", "baton-chat-keep");
  var stop = button("End the chat", "baton-chat-end");
  keep.hidden = true;
  stop.hidden = true;
  actions.appendChild(human);
  actions.appendChild(keep);
  actions.appendChild(stop);

  var emailForm = el("form", "baton-chat-email");
  emailForm.hidden = true;
  var emailLabel = el("label", null, "Your email, so that the team can answer you");
  emailLabel.htmlFor = "baton-chat-email-input";
  var emailInput = el("input");
  emailInput.id = "baton-chat-email-input";
  emailInput.type = "email";
  emailInput.autocomplete = "email";
  emailInput.required = true;
  var emailSend = el("button", null, "Send email");
  emailSend.type = "submit";
  var emailErr = el("p", "baton-chat-error");
  emailErr.id = "baton-chat-email-error";
  emailErr.hidden = true;
  emailInput.setAttribute("aria-describedby", emailErr.id);
  emailForm.appendChild(emailLabel);
  emailForm.appendChild(emailInput);
  emailForm.appendChild(emailSend);
  emailForm.appendChild(emailErr);

  var form = el("form", "baton-chat-form");
  var label = el("label", "baton-chat-label", "Message");
  label.htmlFor = "baton-chat-input";
  var input = el("input");
  input.id = "baton-chat-input";
  input.type = "text";
  input.autocomplete = "off";
  input.maxLength = 2000;
  var send = el("button", null, "Send");
  send.type = "submit";
  // A file goes as soon as it is chosen; its label is the visible button.
  var attach = el("label", "baton-chat-attach", "Attach a file");
  attach.htmlFor = "baton-chat-file";
  var file = el("input", "baton-chat-file");
  file.id = "baton-chat-file";
  file.type = "file";
  file.accept = "image/png,image/jpeg,image/gif,image/webp,application/pdf,text/plain,text/csv,.csv,.txt";
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(send);
  form.appendChild(file);
  form.appendChild(attach);

  box.appendChild(head);
  box.appendChild(log);
  box.appendChild(typingLine);
  box.appendChild(status);
  box.appendChild(emailForm);
  box.appendChild(actions);
  box.appendChild(form);
  root.appendChild(open);
  root.appendChild(box);
  document.body.appendChild(root);

  function size(n) {
    if (n < 1024) { return n + " B"; }
    if (n < 1048576) { return (n / 1024).toFixed(1) + " KiB"; }
    return (n / 1048576).toFixed(1) + " MiB";
  }
  function line(who, text, cls, files) {
    var li = el("li", "baton-chat-line " + cls);
    if (who) { li.appendChild(el("span", "baton-chat-who", who)); }
    if (text) { li.appendChild(el("span", "baton-chat-text", text)); }
    (files || []).forEach(function (f) {
      if (!/^https?:\/\//.test(f.url)) { return; }
      var a = el("a", "baton-chat-file-link", f.name || "file");
      a.href = f.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      li.appendChild(a);
      if (f.size) { li.appendChild(el("span", "baton-chat-size", size(f.size))); }
    });
    log.appendChild(li);
    log.scrollTop = log.scrollHeight;
  }
  function say(text) { status.textContent = text; }
  function show(which) {
    human.hidden = which !== "bot";
    keep.hidden = which !== "timeout";
    stop.hidden = which !== "timeout" && which !== "human";
  }

  function post(path, body) {
    return fetch(base + "/" + path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (r) {
      if (r.ok) { return null; }
      return r.json().then(function (j) { return j.error || ("error " + r.status); },
        function () { return "error " + r.status; });
    }, function () { return "the chat could not be reached"; });
  }

  var events = null;
  function listen() {
    if (events) { return; }
    events = new EventSource(base + "/events");
    events.onmessage = function (m) {
      var e;
      try { e = JSON.parse(m.data); } catch (x) { return; }
      handle(e);
    };
  }

  function waitText(e) {
    var t = "Connecting you to a person… you are number " + e.position;
    if (e.wait_seconds != null) {
      var min = Math.max(1, Math.ceil(e.wait_seconds / 60));
      t += ", about " + min + (min === 1 ? " minute" : " minutes");
    }
    return t + ".";
  }

  function handle(e) {
    switch (e.type) {
      case "customer": line("You", e.text, "baton-chat-customer", e.files); break;
      case "bot": line("Bot", e.text, "baton-chat-bot"); break;
      case "connecting":
        emailForm.hidden = true;
        say("Connecting you to a person…");
        show("human");
        break;
      case "needs_email":
        if (email) { // known by now (setEmail after the ask): give it at once
          post("email", { email: email }).then(function (err) { if (err) { askEmail(err); } });
        } else {
          askEmail("");
        }
        break;
      case "queued": say(waitText(e)); show("human"); break;
      case "joined":
        say(e.agent + " has joined the chat.");
        line("", e.agent + " joined", "baton-chat-note");
        show("human");
        break;
      case "agent":
        typingLine.hidden = true;
        line(e.agent || "Agent", e.text, "baton-chat-agent", e.files);
        break;
      case "typing": {
        var left = Date.parse(e.until) - Date.now();
        if (!(left > 0)) { break; } // stale: its time is up
        typingLine.textContent = (e.agent || "The agent") + " is typing…";
        typingLine.hidden = false;
        clearTimeout(typingTimer);
        typingTimer = setTimeout(function () { typingLine.hidden = true; }, left);
        break;
      }
      case "read": {
        var seen = log.querySelector(".baton-chat-seen");
        if (seen) { seen.parentNode.removeChild(seen); }
        var mine = log.querySelectorAll(".baton-chat-customer");
        if (mine.length) { mine[mine.length - 1].appendChild(el("span", "baton-chat-seen", "Seen")); }
        break;
      }
      case "wait_timeout":
        say("Nobody is free yet. Keep waiting, or end the chat?");
        show("timeout");
        keep.focus();
        break;
      case "out_of_hours":
        line("", e.text || "The team is away now.", "baton-chat-note baton-chat-away");
        say("");
        show("bot");
        break;
      case "ended":
        line("", "The chat with a person has ended.", "baton-chat-note baton-chat-ended");
        say("");
        show("bot");
        break;
      case "error": line("", e.text, "baton-chat-note baton-chat-failed"); break;
    }
  }

  function askEmail(err) {
    say("");
    emailForm.hidden = false;
    emailErr.textContent = err;
    emailErr.hidden = !err;
    emailInput.setAttribute("aria-invalid", err ? "true" : "false");
    emailInput.focus();
  }

  open.addEventListener("click", function () {
    box.hidden = !box.hidden;
    open.setAttribute("aria-expanded", String(!box.hidden));
    if (!box.hidden) { listen(); input.focus(); }
  });
  close.addEventListener("click", function () {
    box.hidden = true;
    open.setAttribute("aria-expanded", "false");
    open.focus();
  });
  box.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { close.click(); }
  });
  var typedAt = 0;
  input.addEventListener("input", function () {
    if (Date.now() - typedAt > 3000) {
      typedAt = Date.now();
      post("typing");
    }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text) { return; }
    input.value = "";
    post("messages", { text: text }).then(function (err) { if (err) { line("", err, "baton-chat-note baton-chat-failed"); } });
  });
  file.addEventListener("change", function () {
    var f = file.files && file.files[0];
    if (!f) { return; }
    var data = new FormData();
    data.append("file", f, f.name);
    attach.textContent = "Sending " + f.name + "…";
    fetch(base + "/files", { method: "POST", body: data }).then(function (r) {
      if (r.ok) { return null; }
      return r.json().then(function (j) { return j.error || ("error " + r.status); },
        function () { return "error " + r.status; });
    }, function () { return "the chat could not be reached"; }).then(function (err) {
      attach.textContent = "Attach a file";
      file.value = "";
      if (err) { line("", err, "baton-chat-note baton-chat-failed"); }
    });
  });
  human.addEventListener("click", function () {
    human.hidden = true;
    post("human", email ? { email: email } : {}).then(function (err) {
      if (err) { human.hidden = false; line("", err, "baton-chat-note baton-chat-failed"); }
    });
  });
  emailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    var v = emailInput.value.trim();
    post("email", { email: v }).then(function (err) {
      if (err) { askEmail(err); return; }
      email = v;
      input.focus();
    });
  });
  keep.addEventListener("click", function () {
    show("human");
    post("keep-waiting").then(function (err) { if (err) { line("", err, "baton-chat-note baton-chat-failed"); } });
  });
  stop.addEventListener("click", function () {
    post("end").then(function (err) { if (err) { line("", err, "baton-chat-note baton-chat-failed"); } });
  });

  show("bot");
  window.ChatBot = {
    setEmail: function (v) { email = String(v || "").trim(); },
    open: function () { if (box.hidden) { open.click(); } }
  };
})();
