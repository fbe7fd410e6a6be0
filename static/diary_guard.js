// Signing out wipes this phone's storage (Clear-Site-Data, app/public/webapp.py), the phone diary's outbox
// included. On every page of a cooperative member, a sign-out first counts the diary entries not yet sent on
// this phone and, when there are some, asks before they are lost (the sign-out form's data-unsent-warning).
const PREFIX = "ocop-diary-";  // static/diary.js: one database per account

function unsentIn(name) {
  return new Promise((resolve) => {
    const opening = indexedDB.open(name);
    opening.onerror = () => resolve(0);
    opening.onsuccess = () => {
      const db = opening.result;
      if (!db.objectStoreNames.contains("outbox")) { db.close(); resolve(0); return; }
      const reading = db.transaction("outbox", "readonly").objectStore("outbox").getAll();
      reading.onsuccess = () => { db.close(); resolve(reading.result.filter((e) => e.status !== "sent").length); };
      reading.onerror = () => { db.close(); resolve(0); };
    };
  });
}

export async function unsentOnThisPhone() {
  if (!window.indexedDB || !indexedDB.databases) return 0;
  let count = 0;
  for (const { name } of await indexedDB.databases()) {
    if (name && name.startsWith(PREFIX)) count += await unsentIn(name);
  }
  return count;
}

// Counted when the page opens, and kept current by the diary screen (static/diary.js), so that a sign-out is
// decided at once, within the click: only a click before the count is known waits for it.
let known = null;

export function noteUnsent(count) {
  known = count;
}

unsentOnThisPhone().then((count) => { if (known === null) known = count; }, () => { if (known === null) known = 0; });

document.querySelectorAll("form[data-unsent-warning]").forEach((form) => {
  const question = () => form.dataset.unsentWarning.replace("{count}", known);
  form.addEventListener("submit", async (event) => {
    if (form.dataset.checked || known === 0) return;
    if (known > 0) {
      if (!window.confirm(question())) event.preventDefault();
      return;
    }
    event.preventDefault();
    let count = 0;
    try {
      count = await unsentOnThisPhone();
    } catch (unreadable) {
      // nothing readable: nothing to lose
    }
    known = count;
    if (count && !window.confirm(question())) return;
    form.dataset.checked = "1";
    form.submit();
  });
});
