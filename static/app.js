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
