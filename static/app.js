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
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        bar.value = s.progress;
        percent.textContent = s.progress + " %";
        if (s.status === "done" || s.status === "failed" || s.stale) { window.location.reload(); return; }
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
