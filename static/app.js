// Progressive enhancements only: every page works without this file.
document.addEventListener("submit", function (event) {
  var button = event.submitter;
  var message = button && button.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
});

(function communeSearch() {
  var input = document.querySelector("input[list=commune-options]");
  var list = document.getElementById("commune-options");
  if (!input || !list) return;
  var timer;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var q = input.value.split(",")[0].trim();
      if (q.length < 2) return;
      fetch("/api/communes?q=" + encodeURIComponent(q))
        .then(function (r) { return r.ok ? r.json() : { communes: [] }; })
        .then(function (data) {
          list.replaceChildren.apply(list, data.communes.map(function (c) {
            var option = document.createElement("option");
            option.value = c.label;
            return option;
          }));
        });
    }, 200);
  });
})();

(function runProgress() {
  var box = document.getElementById("run-progress");
  if (!box || ["queued", "minting", "rendering"].indexOf(box.dataset.status) < 0) return;
  var bar = box.querySelector("progress");
  var percent = document.getElementById("run-percent");
  var queue = document.getElementById("run-queue");
  var shownWaiting = box.dataset.status === "queued";
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        percent.textContent = s.progress + " %";
        // The run's place in the queue, in the page's language (the server words it).
        if (queue) { queue.textContent = s.waiting || ""; queue.hidden = !s.waiting; }
        if (s.status === "done" || s.status === "failed" || s.status === "cancelled" || s.stale ||
            shownWaiting !== (s.status === "queued")) { window.location.reload(); return; }
        setTimeout(poll, 500);
      })
      .catch(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 300);
})();

// The diary entry form: only the fields of the chosen kind, as the rules the page carries say
// (app/services/diary_kinds.py); those the kind needs are marked required. Without this script every field shows
// and the server keeps only the kind's own.
(function diaryKindFields() {
  var node = document.getElementById("diary-kind-rules");
  var form = node && node.closest("form");
  var kind = form && form.elements.kind;
  if (!kind) return;
  var rules = JSON.parse(node.textContent);
  function fieldBox(name) {
    var input = form.elements[name];
    return input && input.closest && input.closest(".field");
  }
  var kindFields = Object.keys(rules.kinds).reduce(function (all, k) { return all.concat(rules.kinds[k].fields); }, []);
  function show() {
    // Until a kind is chosen every field shows, as without this script.
    var own = rules.kinds[kind.value] || { fields: kindFields, required: [] };
    form.querySelectorAll("[data-kind-field]").forEach(function (box) {
      box.hidden = own.fields.indexOf(box.getAttribute("data-kind-field")) < 0;
    });
    ["description"].concat(kindFields).forEach(function (name) {
      var box = fieldBox(name);
      if (box) box.classList.toggle("required", own.required.indexOf(name) >= 0);
    });
  }
  kind.addEventListener("change", show);
  show();
})();

// Drafts: no form of the signed-in area loses what was typed (app/form_drafts.py says when the server took one).
// Each POST form in the page's main part is saved in localStorage as it is typed, under the account and the
// form's address; never passwords, hidden fields (the CSRF token) or files. Opening the form again before the
// server accepted it (an ended session, an expired form, a busy server, a refused form) puts the text back, with
// a notice and a way to discard it. Drafts the server took, other accounts' drafts and week-old drafts go.
(function formDrafts() {
  var PREFIX = "ocop-draft:";
  var MAX_AGE_MS = 7 * 24 * 3600 * 1000;
  var body = document.body;
  var store;
  try { store = window.localStorage; } catch (blocked) { return; }
  if (!store || !body) return;
  var user = body.getAttribute("data-drafts-user");
  var done = JSON.parse(body.getAttribute("data-drafts-done") || "[]");

  function draftKeys() {
    var keys = [];
    for (var i = 0; i < store.length; i++) if (store.key(i).indexOf(PREFIX) === 0) keys.push(store.key(i));
    return keys;
  }
  function keyFor(form) { return PREFIX + user + ":" + new URL(form.action, location.href).pathname; }
  function forgetAll() { draftKeys().forEach(function (k) { store.removeItem(k); }); }

  if (done.indexOf("*") >= 0) forgetAll();
  draftKeys().forEach(function (k) {
    var draft = null;
    try { draft = JSON.parse(store.getItem(k)); } catch (broken) { /* dropped below */ }
    var mine = user && k.indexOf(PREFIX + user + ":") === 0;
    var taken = mine && done.indexOf(k.slice((PREFIX + user + ":").length)) >= 0;
    // Only signed-in pages drop other accounts' drafts: the sign-in page does not know whose phone it is yet.
    if (!draft || Date.now() - draft.saved > MAX_AGE_MS || taken || (user && !mine)) store.removeItem(k);
  });
  document.addEventListener("submit", function (event) {
    if (/\/sign-out$/.test(new URL(event.target.action, location.href).pathname)) forgetAll();
  });
  if (!user) return;

  function kept(el) {
    if (!el.name || el.disabled || el.name === "csrf_token") return false;
    if (el.tagName === "SELECT" || el.tagName === "TEXTAREA") return true;
    return el.tagName === "INPUT" && ["password", "file", "hidden", "submit", "button", "reset", "image"].indexOf(el.type) < 0
      && !/password|one-time-code/.test(el.getAttribute("autocomplete") || "");
  }
  function fieldsOf(form) { return Array.prototype.filter.call(form.elements, kept); }
  function valueOf(el) {
    if (el.type === "checkbox" || el.type === "radio") return el.checked;
    if (el.tagName === "SELECT" && el.multiple) return Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
    return el.value;
  }
  function setValue(el, value) {
    if (el.type === "checkbox" || el.type === "radio") el.checked = value;
    else if (el.tagName === "SELECT" && el.multiple) Array.prototype.forEach.call(el.options, function (o) { o.selected = value.indexOf(o.value) >= 0; });
    else el.value = value;
  }
  // A field is named by its name, and its value for boxes, so that a draft fits the form even if it changed.
  function idOf(el) { return el.type === "checkbox" || el.type === "radio" ? el.name + "=" + el.value : el.name; }
  function snapshot(form) {
    var values = {};
    fieldsOf(form).forEach(function (el) { (values[idOf(el)] = values[idOf(el)] || []).push(valueOf(el)); });
    return values;
  }
  function apply(form, values) {
    var seen = {}, changed = false;
    fieldsOf(form).forEach(function (el) {
      var id = idOf(el), n = seen[id] = (seen[id] || 0) + 1, list = values[id];
      if (!list || list.length < n || JSON.stringify(valueOf(el)) === JSON.stringify(list[n - 1])) return;
      setValue(el, list[n - 1]);
      el.dispatchEvent(new Event("change", { bubbles: true }));
      changed = true;
    });
    return changed;
  }
  function notice(form, original, key) {
    var box = document.createElement("p");
    box.className = "flash info draft-restored";
    box.setAttribute("role", "status");
    box.textContent = body.getAttribute("data-drafts-restored") + " ";
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "link";
    discard.textContent = body.getAttribute("data-drafts-discard");
    discard.addEventListener("click", function () {
      apply(form, original);  // its change events save the page's values again: the draft goes after them
      store.removeItem(key);
      box.remove();
    });
    box.appendChild(discard);
    form.parentNode.insertBefore(box, form);
  }

  document.querySelectorAll("main form").forEach(function (form) {
    if ((form.getAttribute("method") || "get").toLowerCase() !== "post" || form.hasAttribute("data-no-draft")) return;
    if (!fieldsOf(form).length) return;
    var key = keyFor(form);
    var draft = null;
    try { draft = JSON.parse(store.getItem(key)); } catch (broken) { /* none */ }
    if (draft && !form.hasAttribute("data-draft-fresh")) {
      var original = snapshot(form);
      if (apply(form, draft.values)) notice(form, original, key);
    }
    function save() {
      try { store.setItem(key, JSON.stringify({ saved: Date.now(), values: snapshot(form) })); } catch (full) { /* storage full or refused */ }
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
  });
})();

// Photos marked data-resize-photo (the diary entry's) are made small on the phone before they are sent
// (static/photo_resize.js: at most 1600 px, a JPEG of a few hundred KB), which a weak rural network can carry.
// Where the browser cannot, or the result is no smaller, the photo goes as it was chosen.
(function resizePhotos(script) {
  var inputs = document.querySelectorAll("input[type=file][data-resize-photo]");
  if (!inputs.length || !window.DataTransfer || !script) return;
  var resizer = new URL("photo_resize.js", script.src).href;
  inputs.forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !/^image\//.test(file.type)) return;
      input.removeAttribute("data-resized");
      import(resizer)
        .then(function (module) { return module.resizePhoto(file); })
        .then(function (blob) {
          if (blob.size >= file.size || input.files[0] !== file) return;
          var small = new DataTransfer();
          small.items.add(new File([blob], file.name.replace(/\.[^.]*$/, "") + ".jpg", { type: "image/jpeg" }));
          input.files = small.files;
          input.setAttribute("data-resized", "");
        })
        .catch(function () { /* the photo goes as chosen */ });
    });
  });
})(document.currentScript);
